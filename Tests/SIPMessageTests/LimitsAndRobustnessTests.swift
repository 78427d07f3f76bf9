import Foundation
import Testing
@testable import SIPMessage

@Suite struct LimitsAndRobustnessTests {
    static let minimal = "OPTIONS sip:edge.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:edge.example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"

    func code(_ text: String, framing: SIPFramingMode = .datagram, limits: SIPMessageLimits = .default) -> SIPParseError.Code? {
        do { _ = try SIPMessage.parse(Array(text.utf8), framing: framing, limits: limits); return nil } catch { return error.code }
    }

    @Test func oversizeMessage() {
        let big = Self.minimal + "X-Pad: " + String(repeating: "a", count: 70_000) + "\r\n\r\n"
        #expect(code(big) == .messageTooLarge)
    }

    @Test func tooManyHeaders() {
        let many = Self.minimal + String(repeating: "X-A: b\r\n", count: 300) + "\r\n"
        #expect(code(many) == .tooManyHeaders)
        #expect(code(many, limits: SIPMessageLimits(maxHeaderCount: 400)) == nil)
    }

    @Test func headerTooLong() {
        let long = Self.minimal + "X-Long: " + String(repeating: "b", count: 20_000) + "\r\n\r\n"
        #expect(code(long) == .headerTooLong)
        // Folding does not get around the limit.
        let folded = Self.minimal + "X-Long: a" + String(repeating: "\r\n bbbbbbbbbbbbbbb", count: 1_200) + "\r\n\r\n"
        #expect(code(folded) == .headerTooLong)
    }

    @Test(arguments: [
        ("missing empty line", "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", SIPParseError.Code.truncated),
        ("header without colon", "OPTIONS sip:a@b SIP/2.0\r\nFoobar roobar\r\n\r\n", .invalidHeaderName),
        ("bad version", "OPTIONS sip:a@b SIP/2\r\n\r\n", .invalidVersion),
        ("non-token method", "OPT(IONS sip:a@b SIP/2.0\r\n\r\n", .invalidMethod),
        ("two-digit status", "SIP/2.0 20 OK\r\n\r\n", .invalidStatusCode),
        ("CL non-numeric", minimal + "Content-Length: five\r\n\r\n", .invalidContentLength),
        ("CL too big for the datagram", minimal + "Content-Length: 10\r\n\r\nabc", .bodyLengthMismatch),
        ("Max-Forwards 256", minimal + "Max-Forwards: 256\r\n\r\n", .invalidHeaderValue),
        ("Expires overflow", minimal + "Expires: 4294967296\r\n\r\n", .invalidHeaderValue),
        ("Contact q > 1", minimal + "Contact: <sip:c@h>;q=1.5\r\n\r\n", .invalidHeaderValue),
        ("Via ttl 300", "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;ttl=300\r\n\r\n", .invalidHeaderValue),
        ("Route without <>", minimal + "Route: sip:p.example.com;lr\r\n\r\n", .invalidHeaderValue),
        ("continuation first", "OPTIONS sip:a@b SIP/2.0\r\n  folded\r\n\r\n", .invalidHeaderName),
        ("unquoted comma display", minimal.replacingOccurrences(of: "From: <", with: "From: Bell, Alexander <") + "\r\n", .invalidHeaderValue),
    ])
    func refusedWithPreciseCode(_ name: String, _ text: String, _ expected: SIPParseError.Code) {
        #expect(code(text) == expected, "\(name)")
    }

    @Test func invalidUTF8InHeaders() {
        let bytes = Array("OPTIONS sip:a@b SIP/2.0\r\nSubject: ".utf8) + [0xFF, 0xFE] + Array("\r\n\r\n".utf8)
        #expect(throws: SIPParseError(.invalidUTF8, at: "header section", "not valid UTF-8")) { try SIPMessage.parse(bytes) }
    }

    /// RFC 4475 baddn.dat ends without the empty line; with it added, the unquoted
    /// display names must still be refused.
    @Test func baddnRefusedForItsDisplayName() throws {
        var bytes = try ConformanceCorpus.bytes("rfc4475/baddn.dat")
        bytes += Array("\r\n".utf8)
        #expect(throws: SIPParseError.self) { try SIPMessage.parse(bytes) }
    }

    @Test func streamModeRequiresExactLength() {
        #expect(code(Self.minimal + "Content-Length: 3\r\n\r\nabcdef", framing: .stream) == .bodyLengthMismatch)
        #expect(code(Self.minimal + "Content-Length: 3\r\n\r\nabcdef", framing: .datagram) == nil)
    }

    @Test func reasonPhraseIsSafeToSend() {
        let error = SIPParseError(.invalidHeaderValue, at: "To", "bad\r\nInjected: yes \u{7F}" + String(repeating: "x", count: 300))
        let phrase = error.reasonPhrase
        #expect(!phrase.contains("\r") && !phrase.contains("\n"))
        #expect(phrase.utf8.count <= 120)
        #expect(phrase.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F })
    }

    /// Every PROTOS c07-sip INVITE (placeholders filled in) parses or is refused with a typed
    /// error; nothing crashes, and the valid case 0 parses.
    @Test func protosCorpusNeverBreaksTheParser() throws {
        let dir = ConformanceCorpus.directory.appendingPathComponent("protos/cases")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.count == 4527)
        var accepted = 0, refused = 0
        for name in names {
            let raw = try Array(Data(contentsOf: dir.appendingPathComponent(name)))
            guard let invite = ProtosCase.invite(raw) else { Issue.record("\(name): unreadable case"); continue }
            do {
                let m = try SIPMessage.parse(invite, framing: .datagram, limits: SIPMessageLimits(maxMessageSize: 400_000))
                _ = SIPRequestValidator().check(m)
                _ = try SIPMessage.parse(m.serialized(), framing: .stream, limits: SIPMessageLimits(maxMessageSize: 800_000))
                accepted += 1
                if name == "0000000" { #expect(m.method == "INVITE") }
            } catch {
                refused += 1
                #expect(name != "0000000", "the valid PROTOS case was refused: \(error)")
            }
        }
        #expect(accepted + refused == 4527)
        #expect(accepted > 0 && refused > 0)
    }
}

/// Reads a PROTOS c07-sip case: `<n1> <INVITE><n2> <teardown>` with placeholders.
enum ProtosCase {
    static let substitutions: [(String, String)] = [
        ("<To>", "user@trunk.example.com"), ("<From>", "protos@192.0.2.10"), ("<From-Address>", "192.0.2.10"),
        ("<From-IP>", "192.0.2.10"), ("<Local-Port>", "5060"), ("<Branch-ID>", "z9hG4bKprotos1"),
        ("<Call-ID>", "protos-call-1"), ("<CSeq>", "1"), ("<Teardown-Method>", "CANCEL"),
    ]

    static func invite(_ raw: [UInt8]) -> [UInt8]? {
        guard let space = raw.firstIndex(of: 0x20),
              let n = Int(String(decoding: raw[..<space], as: UTF8.self)),
              space + 1 + n <= raw.count else { return nil }
        var msg = Array(raw[(space + 1)..<(space + 1 + n)])
        for (placeholder, value) in substitutions { msg = replace(msg, Array(placeholder.utf8), Array(value.utf8)) }
        // Content-Length is the body length after substitution.
        if let headEnd = firstRange(msg, Array("\r\n\r\n".utf8)) {
            let bodyLength = msg.count - (headEnd + 4)
            msg = replace(msg, Array("<Content-Length>".utf8), Array(String(bodyLength).utf8))
        }
        return msg
    }

    static func firstRange(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == needle[0], Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    static func replace(_ hay: [UInt8], _ needle: [UInt8], _ with: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hay.count)
        var i = 0
        while i < hay.count {
            if i + needle.count <= hay.count, hay[i] == needle[0], Array(hay[i..<(i + needle.count)]) == needle {
                out += with
                i += needle.count
            } else {
                out.append(hay[i])
                i += 1
            }
        }
        return out
    }
}
