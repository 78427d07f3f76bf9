@testable import SIPMessage
import Testing

/// The parser as it was before the in-place scanner (commit 4b9cf03), kept verbatim as the
/// reference the new one must agree with, error for error.
struct ReferenceAuthHeaderParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let location: String
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, location: String) {
        self.bytes = bytes
        self.location = location
    }

    private func failure(_ detail: String) -> Result<SIPAuthHeader, SIPParseError> {
        .failure(SIPParseError(.invalidAuthorization, at: location, detail))
    }

    private var atEnd: Bool { index >= bytes.count }

    /// Skips LWS: SP/HTAB and folds (CRLF followed by SP/HTAB). Returns whether anything was skipped.
    @discardableResult
    private mutating func skipLWS() -> Bool {
        let start = index
        while index < bytes.count {
            if SIPLexical.isWSP(bytes[index]) {
                index += 1
            } else if isFold(at: index) {
                index += 3
            } else {
                break
            }
        }
        return index > start
    }

    private func isFold(at position: Int) -> Bool {
        position + 2 < bytes.count && bytes[position] == 0x0D && bytes[position + 1] == 0x0A
            && SIPLexical.isWSP(bytes[position + 2])
    }

    private mutating func scanToken() -> Range<Int>? {
        let start = index
        while index < bytes.count, SIPLexical.isToken(bytes[index]) { index += 1 }
        return index > start ? start..<index : nil
    }

    private func string(_ range: Range<Int>) -> String {
        // Ranges end at ASCII delimiters, so the slice is always whole UTF-8.
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func lowercasedString(_ range: Range<Int>) -> String {
        // Tokens are ASCII; names are nearly always sent in lower case already.
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        if !slice.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return String(decoding: slice, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: slice.count) { out in
            for (i, byte) in slice.enumerated() { out[i] = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte }
            return slice.count
        }
    }

    mutating func parse() -> Result<SIPAuthHeader, SIPParseError> {
        skipLWS()
        guard let schemeRange = scanToken() else { return failure("missing auth scheme") }
        let isDigest = SIPLexical.equalsIgnoringCase(bytes[schemeRange], "digest".utf8)
        let scheme = isDigest ? "Digest" : string(schemeRange)
        let separated = skipLWS()
        if atEnd {
            // RFC 7235 allows a bare scheme; Digest always needs parameters.
            return isDigest ? failure("Digest without parameters") : .success(SIPAuthHeader(scheme: scheme, parameters: []))
        }
        guard separated else { return failure("missing space after auth scheme") }
        if !isDigest, let token68 = scanToken68() {
            return .success(SIPAuthHeader(scheme: scheme, parameters: [], token68: token68))
        }
        var parameters: [SIPAuthParameter] = []
        parameters.reserveCapacity(12)
        while true {
            guard let nameRange = scanToken() else { return failure("parameter name expected") }
            skipLWS()
            guard !atEnd, bytes[index] == UInt8(ascii: "=") else { return failure("missing '=' after parameter name") }
            index += 1
            skipLWS()
            let value: String
            let quoted: Bool
            if !atEnd, bytes[index] == UInt8(ascii: "\"") {
                switch scanQuotedString() {
                case .success(let text): value = text
                case .failure(let error): return .failure(error)
                }
                quoted = true
            } else {
                guard let valueRange = scanToken() else { return failure("parameter value expected") }
                value = string(valueRange)
                quoted = false
            }
            let name = lowercasedString(nameRange)
            guard parameters.count < SIPAuthHeader.maximumParameterCount else { return failure("too many parameters") }
            guard !parameters.contains(where: { $0.name == name }) else { return failure("duplicate parameter") }
            parameters.append(SIPAuthParameter(lowercasedName: name, value: value, quoted: quoted))
            skipLWS()
            if atEnd { break }
            guard bytes[index] == UInt8(ascii: ",") else { return failure("missing ',' between parameters") }
            // RFC 7230 §7: empty list elements (", ,") and a trailing comma are allowed.
            while !atEnd, bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipLWS()
            }
            if atEnd { break }
        }
        return .success(SIPAuthHeader(scheme: scheme, parameters: parameters))
    }

    /// `token68` = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", alone to the end.
    /// Leaves `index` unchanged when the rest is not exactly that.
    private mutating func scanToken68() -> String? {
        let start = index
        var position = index
        while position < bytes.count, SIPLexical.isAlphanum(bytes[position]) || "-._~+/".utf8.contains(bytes[position]) {
            position += 1
        }
        guard position > start else { return nil }
        while position < bytes.count, bytes[position] == UInt8(ascii: "=") { position += 1 }
        let end = position
        index = position
        skipLWS()
        guard atEnd else {
            index = start
            return nil
        }
        return string(start..<end)
    }

    /// Reads a quoted-string starting at the opening quote; returns its unescaped content.
    /// A fold inside becomes one SP (RFC 3261 §7.3.1); raw controls and escaped CR/LF are refused.
    private mutating func scanQuotedString() -> Result<String, SIPParseError> {
        index += 1
        // Fast path: plain qdtext up to the closing quote (no escape, fold or control) is the
        // value as it stands, taken without a copy through an intermediate array.
        var end = index
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
                index = end + 1
                return .success(value)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte == 0x7F { break }
            end += 1
        }
        var content: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return .success(String(decoding: content, as: UTF8.self))
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "unterminated quoted-string"))
                }
                let escaped = bytes[index + 1]
                guard escaped <= 0x7F, escaped != 0x0D, escaped != 0x0A else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "invalid escape in quoted-string"))
                }
                content.append(escaped)
                index += 2
            case 0x0D:
                guard isFold(at: index) else {
                    return .failure(SIPParseError(.invalidAuthorization, at: location, "bare CR in quoted-string"))
                }
                content.append(0x20)
                index += 2
                while index < bytes.count, SIPLexical.isWSP(bytes[index]) { index += 1 }
            case 0x09:
                content.append(byte)
                index += 1
            case 0x00...0x1F, 0x7F:
                return .failure(SIPParseError(.invalidAuthorization, at: location, "control character in quoted-string"))
            default:
                // qdtext, including UTF8-NONASCII (the buffer is valid UTF-8).
                content.append(byte)
                index += 1
            }
        }
        return .failure(SIPParseError(.invalidAuthorization, at: location, "unterminated quoted-string"))
    }
}


extension ReferenceAuthHeaderParser {
    static func parse(_ text: String) -> Result<SIPAuthHeader, SIPParseError> {
        var text = Substring(text)
        return text.withUTF8 { buffer in
            var parser = ReferenceAuthHeaderParser(bytes: buffer, location: "Authorization")
            return parser.parse()
        }
    }
}

/// The in-place scanner behind `SIPAuthHeader(parsing:)` and `SIPAuthHeader.scan` against the
/// previous parser: same headers, same errors, for valid, malformed and random input.
@Suite("SIPAuthHeader scanner against the reference parser")
struct SIPAuthHeaderReferenceTests {
    static let samples: [String] = [
        #"Digest username="alice", realm="trunk.example.com", nonce="AQAAAAFoXY", uri="sip:+1@x", response="0123abcd", algorithm=MD5, cnonce="c", qop=auth, nc=00000001"#,
        #"Digest username="a\"b\\c\d", realm="Acme, Inc.", x-ext="a, b=c", foo=bar, algorithm="MD5""#,
        "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"api@example.org\"",
        "digest  nonce = \"n\" ,\r\n qop=\"auth,auth-int\"",
        "Digest realm=\"Acme\r\n   Trunk\", a=\"x\ty\"",
        "Digest\r\n  username =\t\"a\"\r\n\t,realm= \"r\" ,\r\n nonce\r\n =\r\n \"n\"",
        "Digest username=\"jos\u{e9}.garc\u{ed}a\", realm=\"r\"",
        #"Digest opaque="", , realm="r","#,
        "Basic dXNlcjpwYXNz==", "Negotiate", "NTLM realm=\"x\"",
        #"Digest username="alice, realm="r""#, #"Digest username="alice\"#, #"Digest realm="a", realm="b""#,
        #"Digest REALM="a", realm="b""#, #"Digest username="alice" realm="r""#, #"Digest username "alice", realm="r""#,
        #"Digest username=, realm="r""#, #"Digest ="x""#, "Digest", "Digest realm", #"Digest, realm="r""#,
        #"Digest realm="r""#, "", "   ", "Digest realm=\"a\nb\"", "Digest realm=\"a\rb\"",
        "Digest realm=\"a\r\nb\"", "Digest realm=\"a\u{01}b\"", "Digest realm=\"a\\\u{e9}b\"", "Digest realm=r\r\n",
        "Digest realm=a b", "Digest realm=\"a\" x", "Digest realm=\"0123456789abcdef0123456789\\\"abcdef\"",
        "Digest realm=\"0123456789abcdef0123456789\u{7f}abcdef\"", "Digest realm=\"0123456789abcdef01234567\"",
        "Digest realm=\"0123456789abcdef0123456\"", "Digest realm=\"\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\"",
    ]

    static func expectAgreement(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let reference = ReferenceAuthHeaderParser.parse(text)
        let current = Result { () throws(SIPParseError) -> SIPAuthHeader in try SIPAuthHeader(parsing: text) }
        switch (reference, current) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(text.debugDescription)", sourceLocation: sourceLocation)
            // The scan sees the same parameters; verbatim values are the values.
            var seen: [(String, String?, Bool)] = []
            let scanned = SIPAuthHeader.scan(Substring(text)) { raw in
                seen.append((String(decoding: raw.name, as: UTF8.self).lowercased(),
                             raw.isVerbatim ? String(decoding: raw.value, as: UTF8.self) : nil, raw.quoted))
            }
            guard case .success(let outcome) = scanned else {
                Issue.record("scan refused \(text.debugDescription)", sourceLocation: sourceLocation)
                return
            }
            #expect(outcome.isDigest == b.isDigest && outcome.hasToken68 == (b.token68 != nil), sourceLocation: sourceLocation)
            #expect(outcome.parameterCount == b.parameters.count && seen.count == b.parameters.count, sourceLocation: sourceLocation)
            for (parameter, (name, value, quoted)) in zip(b.parameters, seen) {
                #expect(parameter.name == name && parameter.quoted == quoted, sourceLocation: sourceLocation)
                if let value { #expect(parameter.value == value, sourceLocation: sourceLocation) }
            }
        case (.failure(let a), .failure(let b)):
            #expect(a == b, "\(text.debugDescription)", sourceLocation: sourceLocation)
            #expect(SIPAuthHeader.scan(Substring(text)) { _ in } == .failure(b), sourceLocation: sourceLocation)
        default:
            Issue.record("disagree on \(text.debugDescription): \(reference) vs \(current)", sourceLocation: sourceLocation)
        }
    }

    @Test func samplesAgree() {
        for text in Self.samples { Self.expectAgreement(text) }
        let many = (0..<SIPAuthHeader.maximumParameterCount).map { "p\($0)=v" }.joined(separator: ", ")
        Self.expectAgreement("Digest " + many)
        Self.expectAgreement("Digest " + many + ", one=more")
        Self.expectAgreement("Digest " + many + ", p3=again")
    }

    /// Random bytes over the characters that matter, of lengths that cross the 8-byte steps of
    /// the quoted-string fast path.
    @Test func randomInputAgrees() {
        var state: UInt64 = 0xA11CE
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let alphabet = Array(#"Digest usernamrlcoUNR=",\ "#.utf8) + [0x0D, 0x0A, 0x09, 0x00, 0x1F, 0xC3, 0xA4, 0x7F, 0x20, 0x22, 0x22]
        for _ in 0..<30_000 {
            let count = Int(next() % 64)
            var bytes = Array("Digest a=\"".utf8).prefix(Int(next() % 11))
            bytes.append(contentsOf: (0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
            Self.expectAgreement(String(decoding: bytes, as: UTF8.self))
        }
    }
}
