import SIPMessage
import Testing

@Suite("SIPAuthHeader")
struct SIPAuthHeaderTests {
    private func parse(_ text: String) throws -> SIPAuthHeader {
        try SIPAuthHeader(parsing: text)
    }

    private func expectRefused(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let header = try SIPAuthHeader(parsing: text)
            Issue.record("accepted: \(header)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .invalidAuthorization, sourceLocation: sourceLocation)
        }
    }

    @Test func parsesParametersInOrderWithQuotedFlags() throws {
        let header = try parse(#"Digest username="alice", realm="trunk.example.com", qop=auth, nc=00000001, algorithm="MD5""#)
        #expect(header.scheme == "Digest")
        #expect(header.isDigest)
        #expect(header.parameters == [
            SIPAuthParameter(name: "username", value: "alice", quoted: true),
            SIPAuthParameter(name: "realm", value: "trunk.example.com", quoted: true),
            SIPAuthParameter(name: "qop", value: "auth", quoted: false),
            SIPAuthParameter(name: "nc", value: "00000001", quoted: false),
            SIPAuthParameter(name: "algorithm", value: "MD5", quoted: true),
        ])
    }

    @Test func namesAndSchemeAreCaseInsensitive() throws {
        let header = try parse(#"dIgEsT UserName="Bob", REALM="x""#)
        #expect(header.scheme == "Digest")
        #expect(header["username"] == "Bob")
        #expect(header["USERNAME"] == "Bob")
        #expect(header.parameters.map(\.name) == ["username", "realm"])
        // Six-character schemes that only look alike once case is folded too far.
        for other in ["Digesu", "DIGES4", "Dig-st", "digest_", "Diges"] {
            #expect(try parse(other + #" a="b""#).scheme == other)
        }
    }

    @Test func otherSchemesKeepTheirSpelling() throws {
        let header = try parse(#"NTLM realm="x""#)
        #expect(header.scheme == "NTLM")
        #expect(!header.isDigest)
    }

    @Test func lwsAroundEqualsAndCommasAndFoldedLines() throws {
        let header = try parse("Digest\r\n  username =\t\"a\"\r\n\t,realm= \"r\" ,\r\n nonce\r\n =\r\n \"n\"")
        #expect(header["username"] == "a")
        #expect(header["realm"] == "r")
        #expect(header["nonce"] == "n")
    }

    @Test func foldInsideQuotedStringBecomesOneSpace() throws {
        let header = try parse("Digest realm=\"Acme\r\n   Trunk\"")
        #expect(header["realm"] == "Acme Trunk")
    }

    @Test func escapesAreRemoved() throws {
        let header = try parse(#"Digest username="a\"b\\c\d""#)
        #expect(header["username"] == #"a"b\cd"#)
    }

    @Test func commasAndEqualsInsideQuotedValues() throws {
        let header = try parse(#"Digest realm="Acme, Inc.", x-ext="a, b=c", foo=bar"#)
        #expect(header["realm"] == "Acme, Inc.")
        #expect(header["x-ext"] == "a, b=c")
        #expect(header["foo"] == "bar")
    }

    @Test func rawUTF8InQuotedString() throws {
        let header = try parse("Digest username=\"josé.garcía\", realm=\"r\"")
        #expect(header["username"] == "josé.garcía")
    }

    @Test func emptyQuotedValueAndEmptyListElements() throws {
        let header = try parse(#"Digest opaque="", , realm="r","#)
        #expect(header["opaque"] == "")
        #expect(header.parameter("opaque")?.quoted == true)
        #expect(header["realm"] == "r")
    }

    @Test func usernameStarIsDecoded() throws {
        let header = try parse("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"api@example.org\"")
        #expect(header["username*"] == "UTF-8''J%C3%A4s%C3%B8n%20Doe")
        #expect(header.effectiveUsername == "Jäsøn Doe")
        let latin1 = try parse("Digest username*=iso-8859-1'en'J%E4s%F8n")
        #expect(latin1.effectiveUsername == "Jäsøn")
    }

    @Test func effectiveUsernameRefusesAmbiguityAndBadEncodings() throws {
        #expect(try parse(#"Digest username="a", username*=UTF-8''b"#).effectiveUsername == nil)
        #expect(try parse("Digest username*=UTF-8''%C3").effectiveUsername == nil)
        #expect(try parse("Digest username*=UTF-8''%G1").effectiveUsername == nil)
        #expect(try parse("Digest username*=KOI8-R''abc").effectiveUsername == nil)
        #expect(try parse("Digest username*=abc").effectiveUsername == nil)
        #expect(try parse(#"Digest realm="r""#).effectiveUsername == nil)
        #expect(try parse(#"Digest username="plain""#).effectiveUsername == "plain")
    }

    @Test func token68AndBareSchemeForOtherSchemes() throws {
        let basic = try parse("Basic dXNlcjpwYXNz==")
        #expect(basic.scheme == "Basic")
        #expect(basic.token68 == "dXNlcjpwYXNz==")
        #expect(basic.parameters.isEmpty)
        #expect(basic.serialized == "Basic dXNlcjpwYXNz==")
        #expect(try parse("Negotiate").parameters.isEmpty)
    }

    @Test(arguments: [
        #"Digest username="alice, realm="r""#,  // unterminated
        #"Digest username="alice\"#,  // dangling escape
        #"Digest realm="a", realm="b""#,  // duplicate
        #"Digest REALM="a", realm="b""#,  // duplicate, other case
        #"Digest username="alice" realm="r""#,  // missing comma
        #"Digest username "alice", realm="r""#,  // missing =
        #"Digest username=, realm="r""#,  // missing value
        #"Digest ="x""#,  // missing name
        "Digest",  // no parameters
        "Digest realm",  // Digest never takes token68
        #"Digest, realm="r""#,
        #"Digestrealm="r""#,
        "",
        "   ",
        "Digest realm=\"a\nb\"",  // bare LF
        "Digest realm=\"a\rb\"",  // bare CR
        "Digest realm=\"a\r\nb\"",  // CRLF not followed by WSP
        "Digest realm=\"a\u{01}b\"",  // control character
        "Digest realm=\"a\\\u{e9}b\"",  // escaped non-ASCII
        "Digest realm=r\r\n",  // trailing CRLF is not LWS
        "Digest realm=a b",
        "Digest realm=\"a\" x",
    ])
    func refusesMalformedValues(_ text: String) {
        expectRefused(text)
    }

    @Test func refusesTooManyParameters() throws {
        let many = (0..<SIPAuthHeader.maximumParameterCount).map { "p\($0)=v" }.joined(separator: ", ")
        #expect(try parse("Digest " + many).parameters.count == SIPAuthHeader.maximumParameterCount)
        expectRefused("Digest " + many + ", one=more")
    }

    @Test func serializedQuotesAndEscapesAsNeeded() {
        let header = SIPAuthHeader(scheme: "Digest", parameters: [
            SIPAuthParameter(name: "username", value: #"a"b\c"#, quoted: true),
            SIPAuthParameter(name: "algorithm", value: "SHA-256", quoted: false),
            SIPAuthParameter(name: "realm", value: "Acme, Inc.", quoted: false),  // needs quotes anyway
            SIPAuthParameter(name: "opaque", value: "", quoted: false),
            SIPAuthParameter(name: "Stale", value: "true", quoted: false),
        ])
        #expect(header.serialized == #"Digest username="a\"b\\c", algorithm=SHA-256, realm="Acme, Inc.", opaque="", stale=true"#)
    }

    @Test func serializedNeverBreaksTheHeaderLine() throws {
        let header = SIPAuthHeader(scheme: "Digest", parameters: [
            SIPAuthParameter(name: "realm", value: "a\r\nInjected: x\u{00}", quoted: true),
        ])
        let text = header.serialized
        #expect(!text.utf8.contains(0x0D) && !text.utf8.contains(0x0A))
        #expect(try SIPAuthHeader(parsing: text)["realm"] == "a  Injected: x\u{00}")
    }

    @Test(arguments: [
        #"Digest username="Mufasa", realm="testrealm@host.com", qop=auth, nc=00000001, opaque="""#,
        #"Digest username="a\"b\\c", realm="Acme, Inc.", x-ext="a, b=c", foo=bar, algorithm="MD5""#,
        "Digest username=\"josé\", username*=UTF-8''J%C3%A4s%C3%B8n%20Doe",
        "digest  nonce = \"n\" ,\r\n qop=\"auth,auth-int\"",
    ])
    func parseSerializeRoundTrip(_ text: String) throws {
        let header = try parse(text)
        let again = try parse(header.serialized)
        #expect(again == header)
        #expect(again.serialized == header.serialized)
    }

    /// Arbitrary bytes: never a crash, never a hang, always a value or a typed error.
    @Test func arbitraryBytesNeverCrash() {
        var generator = AuthHeaderFuzzRandom(seed: 0x5EED)
        let alphabet = Array(#"Digest usernamrlco=",\ "#.utf8) + [0x0D, 0x0A, 0x09, 0x00, 0xC3, 0xA4, 0xFF, 0x7F]
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 48)
            let bytes = (0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let text = String(decoding: bytes, as: UTF8.self)
            if let header = try? SIPAuthHeader(parsing: text) {
                // Whatever parses must survive its own serialization.
                #expect(throws: Never.self) { try SIPAuthHeader(parsing: header.serialized) }
            }
        }
    }

    /// Work is linear: a 200 000-parameter-long attempt and a 1 MB quoted-string finish at once.
    @Test(.timeLimit(.minutes(1))) func hugeInputsAreCheap() {
        let longQuote = "Digest realm=\"" + String(repeating: "a", count: 1_000_000)
        #expect(throws: SIPParseError.self) { try SIPAuthHeader(parsing: longQuote) }
        let manyCommas = "Digest a=b" + String(repeating: ",", count: 200_000)
        #expect(throws: Never.self) { try SIPAuthHeader(parsing: manyCommas) }
        let manyParameters = "Digest " + (0..<200_000).map { "p\($0)=v" }.joined(separator: ",")
        #expect(throws: SIPParseError.self) { try SIPAuthHeader(parsing: manyParameters) }
    }
}

/// Deterministic pseudo-random numbers for the fuzz test.
private struct AuthHeaderFuzzRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
