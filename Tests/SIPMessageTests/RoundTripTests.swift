import Testing
@testable import SIPMessage

/// parse → serialize → parse yields the same message, over the corpus and generated messages.
@Suite struct RoundTripTests {
    /// Same start line, same headers (canonical names, unfolded values) in the same order, same
    /// body. Content-Length is compared through the body: the serializer always writes a right one.
    static func assertSemanticallyIdentical(_ a: SIPMessage, _ b: SIPMessage, _ context: String) {
        #expect(a.startLine == b.startLine, "\(context): start line")
        let ah = a.headers.filter { $0.name.known != .contentLength }
        let bh = b.headers.filter { $0.name.known != .contentLength }
        #expect(ah.count == bh.count, "\(context): header count")
        for (x, y) in zip(ah, bh) {
            #expect(x.name == y.name && x.name.name == y.name.name, "\(context): header name \(x.name) vs \(y.name)")
            #expect(x.value == y.value, "\(context): \(x.name) value")
        }
        #expect(b.declaredContentLength == b.body.count, "\(context): Content-Length")
        #expect(Array(a.body) == Array(b.body), "\(context): body")
        #expect(a.vias == b.vias && a.from == b.from && a.to == b.to && a.callID == b.callID && a.cseq == b.cseq
                && a.contacts == b.contacts && a.maxForwards == b.maxForwards, "\(context): typed views")
    }

    /// A response copies the request's typed views instead of re-deriving them: they must be
    /// what parsing the response gives (with and without a To tag added, and after setReceived).
    @Test func responseTypedViewsMatchAReparse() throws {
        var checked = 0
        for (path, bytes) in try ConformanceCorpus.allMessages() {
            guard var request = try? SIPMessage.parse(bytes, framing: .datagram), request.isRequest, request.topVia != nil else { continue }
            for status in [100, 200, 401] {
                let response = request.makeResponse(status: status, toTag: "t1")
                guard let reparsed = try? SIPMessage.parse(response.serialized(), framing: .stream) else { continue }
                #expect(response.vias == reparsed.vias && response.from == reparsed.from && response.to == reparsed.to
                        && response.callID == reparsed.callID && response.cseq == reparsed.cseq
                        && response.repeatedSingletons == reparsed.repeatedSingletons, "\(path) \(status): typed views")
                checked += 1
            }
            request.setReceived("192.0.2.77", rport: 5099)
            let viaHeaders = request.headers.filter { $0.name.known == .via }
            var reindexed = request
            try? reindexed.reindex()
            #expect(request.vias == reindexed.vias && !viaHeaders.isEmpty, "\(path): Via view after setReceived")
        }
        #expect(checked > 20)
    }

    /// ``SIPMessage/serializedResponse(status:reason:toTag:headers:)`` writes exactly what
    /// building the response, appending the extra headers and serializing gives: over the
    /// corpus (compact names, several Vias, To with and without a tag, odd spacing), for
    /// statuses without and with a To tag added, with and without a reason and extra headers.
    @Test func serializedResponseIsTheBuiltResponseSerialized() throws {
        let extras: [[SIPHeader]] = [
            [],
            [SIPHeader(.server, "trunkgate")],
            [SIPHeader(.wwwAuthenticate, "Digest realm=\"a.example\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\""),
             SIPHeader(.wwwAuthenticate, "Digest realm=\"a.example\", nonce=\"n2\", algorithm=MD5, qop=\"auth\""),
             SIPHeader(.server, "trunkgate")],
            [SIPHeader(.contact, "<sip:alice@192.0.2.1:5060>;expires=3600"), SIPHeader(.contact, "<sip:alice@192.0.2.2>;expires=60;q=0.5"),
             SIPHeader(.date, "Wed, 02 Dec 2026 01:00:00 GMT"), SIPHeader(.server, "trunkgate")],
            [SIPHeader(.minExpires, "60"), SIPHeader(.contentLength, "0"), SIPHeader(.server, "x")],
        ]
        var checked = 0
        for (path, bytes) in try ConformanceCorpus.allMessages() {
            guard let request = try? SIPMessage.parse(bytes, framing: .datagram), request.isRequest else { continue }
            for status in [100, 180, 200, 401, 407, 423, 503] {
                for reason in [nil, "Custom Reason"] {
                    for extra in extras {
                        var built = request.makeResponse(status: status, reason: reason, toTag: "4a7f")
                        for h in extra { try built.append(h) }
                        let direct = request.serializedResponse(status: status, reason: reason, toTag: "4a7f", headers: extra)
                        #expect(direct == built.serialized(), "\(path) \(status) \(reason ?? "-") \(extra.count) extra")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 1000)
        // Without a given tag each response gets its own random one, as makeResponse does.
        let invite = try SIPMessage.parse(Array(
            "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".utf8),
            framing: .stream)
        let first = try SIPMessage.parse(invite.serializedResponse(status: 401, headers: []), framing: .stream)
        let second = try SIPMessage.parse(invite.serializedResponse(status: 401, headers: []), framing: .stream)
        #expect(first.to?.tag != nil && second.to?.tag != nil && first.to?.tag != second.to?.tag)
        #expect(first.statusCode == 401 && first.cseq == invite.cseq && first.callID == "c1" && first.vias == invite.vias)
        // The random tag is written as randomTag() spells one: lower-case hex, no leading zeros.
        for tag in [first.to?.tag, second.to?.tag].compactMap({ $0 }) {
            #expect(!tag.isEmpty && tag.utf8.count <= 16 && tag.allSatisfy { $0.isHexDigit && !$0.isUppercase } && (tag == "0" || !tag.hasPrefix("0")), "\(tag)")
        }
    }

    /// The hex a response's random To tag is written with is `String(value, radix: 16)`'s.
    @Test(arguments: [UInt64(0), 1, 9, 10, 15, 16, 255, 256, 0xdead_beef, 0x0123_4567_89ab_cdef, 1 << 63, UInt64.max])
    func tagHexIsStringRadix16(_ value: UInt64) {
        var out: [UInt8] = []
        SIPMessage.appendHex(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(value, radix: 16))
    }

    @Test func corpusRoundTrips() throws {
        var checked = 0
        for (path, bytes) in try ConformanceCorpus.allMessages() {
            guard let first = try? SIPMessage.parse(bytes, framing: .datagram) else { continue }
            let wire = first.serialized()
            let second = try SIPMessage.parse(wire, framing: .stream)
            Self.assertSemanticallyIdentical(first, second, path)
            // Serializing is a fixed point after the first pass.
            #expect(second.serialized() == wire, "\(path): second serialization differs")
            checked += 1
        }
        #expect(checked >= 40)
    }

    @Test func builtMessageIsValidOnTheWire() throws {
        let sdp = Array("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n".utf8)
        let m = try SIPMessage.build(
            startLine: "INVITE sip:+15551234567@trunk.example.com SIP/2.0",
            headers: [
                ("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport"),
                ("From", "\"Alice\" <sip:alice@example.com>;tag=1"),
                ("To", "<sip:+15551234567@trunk.example.com>"),
                ("Call-ID", "abc@192.0.2.1"), ("CSeq", "1 INVITE"), ("Max-Forwards", "70"),
                ("Content-Type", "application/sdp"), ("Content-Length", "999"),
            ],
            body: sdp)
        #expect(m.declaredContentLength == sdp.count)
        let wire = m.serialized()
        let text = String(decoding: wire, as: UTF8.self)
        #expect(text.contains("Content-Length: \(sdp.count)\r\n"))
        #expect(!text.contains("999"))
        let again = try SIPMessage.parse(wire, framing: .stream)
        Self.assertSemanticallyIdentical(m, again, "built")
        // Changing the body keeps Content-Length right.
        var shorter = again
        shorter.body = [0x41, 0x42][...]
        let reparsed = try SIPMessage.parse(shorter.serialized(), framing: .stream)
        #expect(reparsed.body == [0x41, 0x42][...])
        #expect(reparsed.declaredContentLength == 2)
    }

    /// Generated messages: random combinations of header forms, folding, compact names,
    /// quoting, escapes and IPv6 hosts. Seeded, so a failure reproduces.
    @Test(arguments: 0..<300)
    func generatedRoundTrips(_ seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let generated = MessageGenerator.make(&rng)
        let first = try SIPMessage.parse(Array(generated.utf8), framing: .datagram)
        let wire = first.serialized()
        let second = try SIPMessage.parse(wire, framing: .stream)
        Self.assertSemanticallyIdentical(first, second, "seed \(seed)")
        #expect(first.vias.count >= 1)
        #expect(first.cseq != nil && first.callID != nil && first.from?.tag != nil)
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Produces valid SIP messages in many spellings.
enum MessageGenerator {
    static func pick<T>(_ items: [T], _ rng: inout SplitMix64) -> T { items[Int(rng.next() % UInt64(items.count))] }

    static func make(_ rng: inout SplitMix64) -> String {
        let hosts = ["example.com", "192.0.2.7", "[2001:db8::1]", "[::ffff:192.0.2.2]", "trunk-1.edge.example.net"]
        let users = ["alice", "%61lice", "+15551234567", "user;par=x", "a.b_c~d", "null-%00-x"]
        let methods = ["INVITE", "REGISTER", "OPTIONS", "BYE", "MESSAGE", "X-CUSTOM"]
        let displays = ["", "Alice ", "\"Alice \\\"A\\\" Smith\" ", "\"Ünïcødé\" ", "token1 token2 "]
        let method = pick(methods, &rng)
        let host = pick(hosts, &rng)
        let port = rng.next() % 2 == 0 ? "" : ":\(5060 + rng.next() % 100)"
        let uriParams = pick(["", ";transport=tcp", ";user=phone;lr", ";maddr=192.0.2.1;ttl=5"], &rng)
        let uri = "sip:\(pick(users, &rng))@\(host)\(port)\(uriParams)"
        let colon = pick([":", " :", ":  ", "\t: "], &rng)
        func name(_ long: String, _ compact: String) -> String {
            switch rng.next() % 3 {
            case 0: return long
            case 1: return compact
            default: return long.uppercased()
            }
        }
        var lines = ["\(method) \(uri) SIP/2.0"]
        let viaCount = 1 + Int(rng.next() % 3)
        for i in 0..<viaCount {
            let sep = pick([" / ", "/", "/ "], &rng)
            let fold = rng.next() % 4 == 0 ? "\r\n  " : " "
            lines.append("\(name("Via", "v"))\(colon)SIP\(sep)2.0\(sep)\(pick(["UDP", "TCP", "TLS", "SCTP"], &rng))\(fold)\(pick(hosts, &rng));branch=z9hG4bK\(rng.next() % 100000)x\(i)\(pick(["", ";rport", ";rport=5062", ";received=192.0.2.9"], &rng))")
        }
        lines.append("\(name("From", "f"))\(colon)\(pick(displays, &rng))<sip:\(pick(users, &rng))@\(pick(hosts, &rng))>;tag=\(rng.next() % 999_999)")
        lines.append("\(name("To", "t"))\(colon)\(rng.next() % 2 == 0 ? "sip:bob@\(host)" : "\(pick(displays, &rng))<\(uri)>")")
        lines.append("\(name("Call-ID", "i"))\(colon)\(rng.next())@\(pick(["host", "192.0.2.1"], &rng))")
        lines.append("CSeq\(colon)\(pick(["", "000"], &rng))\(rng.next() % 100000) \(method)")
        lines.append("Max-Forwards\(colon)\(rng.next() % 256)")
        if rng.next() % 2 == 0 {
            lines.append("\(name("Contact", "m"))\(colon)<sip:c@\(pick(hosts, &rng))>;expires=\(rng.next() % 7200);q=0.\(rng.next() % 10), \"Second\" <sip:d@example.org>")
        }
        if rng.next() % 2 == 0 { lines.append("X-Custom-\(rng.next() % 100)\(colon)some value, with \"quoted, text\"") }
        if rng.next() % 2 == 0 { lines.append("Route: <sip:proxy.example.com;lr>,\r\n <sip:[2001:db8::2]:5070;lr>") }
        if rng.next() % 3 == 0 { lines.append("Date: Sat, 13 Nov 2010 23:29:00 GMT") }
        var body = ""
        if rng.next() % 2 == 0 {
            body = "v=0\r\no=- \(rng.next() % 1000) 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
            lines.append("\(name("Content-Type", "c"))\(colon)application/sdp")
        }
        let withLength = rng.next() % 4 != 0
        if withLength { lines.append("\(name("Content-Length", "l"))\(colon)\(body.utf8.count)") }
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }
}
