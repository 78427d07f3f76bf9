@testable import SIPDigest
import SIPMessage
import Testing

/// `verify(headerValues:)` reads a single header value in place; every other input goes through
/// `SIPAuthHeader`. Both must give the same verdict for every input.
@Suite("In-place verification path")
struct FastPathTests {
    /// Two authenticators with the same keys and clock but separate nonce-count stores: one
    /// verifies in place, the other through parsed headers.
    struct Pair {
        let inPlace: Fixture
        let parsed: Fixture

        init(algorithms: [DigestAlgorithm] = [.sha256, .md5], qop: DigestQOPOffer = .auth, userhash: Bool = false) throws {
            let secret = NonceKey.generateSecret()
            let clock = TestClock()
            inPlace = try Fixture(algorithms: algorithms, qop: qop, userhash: userhash,
                                  keys: NonceKeyRing(current: NonceKey(id: 7, secret: secret)), clock: clock)
            parsed = try Fixture(algorithms: algorithms, qop: qop, userhash: userhash,
                                 keys: NonceKeyRing(current: NonceKey(id: 7, secret: secret)), clock: clock)
        }

        func results(_ value: String, request: DigestRequest? = nil) -> (DigestVerification, DigestVerification) {
            let request = request ?? inPlace.request
            let userhash: (String, DigestHashFunction) -> DigestUser? = { hash, function in
                inPlace.users.first { DigestUserhash.compute(function, username: $0.key, realm: Fixture.realm) == hash }
                    .map { DigestUser(name: $0.key, ha1: $0.value) }
            }
            let fast = inPlace.authenticator.verify(
                headerValues: [Substring(value)], request: request, policy: inPlace.policy, binding: inPlace.binding,
                user: { inPlace.users[$0] }, userhash: userhash)
            let general = parsed.authenticator.verifyParsing(
                headerValues: [Substring(value)], request: request, policy: parsed.policy, binding: parsed.binding,
                user: { parsed.users[$0] }, userhash: userhash)
            return (fast, general)
        }

        func expectSame(_ value: String, request: DigestRequest? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
            let (fast, general) = results(value, request: request)
            #expect(fast == general, "\(value)", sourceLocation: sourceLocation)
        }
    }

    /// Variants of a genuine answer: every parameter dropped, emptied, altered, upper-cased,
    /// escaped, folded, duplicated; names in other cases; unknown parameters; other schemes.
    static func variants(of header: SIPAuthHeader) -> [String] {
        var out = [header.serialized]
        let names = header.parameters.map(\.name)
        for (index, parameter) in header.parameters.enumerated() {
            var dropped = header
            dropped.parameters.remove(at: index)
            out.append(dropped.serialized)
            for value in ["", "x", parameter.value.uppercased(), parameter.value + "0", String(parameter.value.dropLast())] {
                var changed = header
                changed.parameters[index].value = value
                out.append(changed.serialized)
            }
            var flipped = header
            flipped.parameters[index].quoted.toggle()
            out.append(flipped.serialized)
            // The same value, escaped: the in-place path must hand it over.
            out.append(header.serialized.replacingFirst("\(parameter.name)=\"\(parameter.value)\"",
                                                        with: "\(parameter.name)=\"\\\(parameter.value)\""))
            out.append(header.serialized.replacingFirst("\(parameter.name)=", with: "\(parameter.name.uppercased()) =\r\n "))
            out.append(header.serialized + ", \(parameter.name)=\"\(parameter.value)\"")
        }
        out.append(header.serialized + ", username*=UTF-8''alice")
        out.append(header.serialized.replacingFirst("username=\"alice\"", with: "username*=UTF-8''alice"))
        out.append(header.serialized.replacingFirst("username=\"alice\"", with: "username*=UTF-8''%61lice"))
        out.append(header.serialized + ", x-extra=\"a\\\"b\", y=z")
        out.append(header.serialized + ", userhash=false")
        out.append(header.serialized + ", userhash=TRUE")
        out.append(header.serialized + ", userhash=\"maybe\"")
        out.append("DIGEST" + header.serialized.dropFirst(6))
        out.append("Basic YWxpY2U6cGFzcw==")
        out.append(header.serialized + ",")
        out.append(header.serialized + " garbage")
        out.append(String(header.serialized.dropLast()))
        out.append("")
        #expect(!names.isEmpty)
        return out
    }

    @Test(arguments: [DigestAlgorithm.md5, .md5Sess, .sha256, .sha256Sess, .sha512_256, .sha512_256Sess])
    func sameVerdictOnVariants(_ algorithm: DigestAlgorithm) throws {
        for qop in [DigestQOPOffer.auth, .none, .authInt] {
            let pair = try Pair(algorithms: [algorithm], qop: qop)
            let request = DigestRequest(method: "INVITE", uri: pair.inPlace.request.uri, body: Array("v=0\r\n".utf8))
            let good = try pair.inPlace.answer(pair.inPlace.challenge(), request: request)
            for value in Self.variants(of: good) {
                pair.expectSame(value, request: request)
            }
            // Genuine answers are accepted by both (first use of each count on each side).
            let (fast, general) = pair.results(try pair.inPlace.answer(pair.inPlace.challenge(), request: request).serialized, request: request)
            #expect(fast.isOK && general.isOK)
        }
    }

    @Test func sameVerdictForOtherUsersRequestsAndUserhash() throws {
        let pair = try Pair(userhash: true)
        let challenge = try pair.inPlace.challenge()
        for header in [
            try pair.inPlace.answer(challenge),
            try pair.inPlace.answer(challenge, username: "mallory"),
            try pair.inPlace.answer(challenge, password: "Wr0ng"),
        ] {
            pair.expectSame(header.serialized)
            pair.expectSame(header.serialized, request: DigestRequest(method: "BYE", uri: pair.inPlace.request.uri))
            pair.expectSame(header.serialized, request: DigestRequest(method: "INVITE", uri: "sip:+14155551234@TRUNK.example.com;transport=udp"))
            pair.expectSame(header.serialized, request: DigestRequest(method: "INVITE", uri: "sip:other@trunk.example.com"))
            pair.expectSame(header.setting("response", header["response"]?.uppercased()).serialized)
        }
        // Replays are refused alike.
        let once = try pair.inPlace.answer(challenge).serialized
        pair.expectSame(once)
        pair.expectSame(once)
    }

    @Test func sameVerdictOnConformanceHeaders() throws {
        let pair = try Pair(algorithms: DigestAlgorithm.allCases, qop: .authAndAuthInt, userhash: true)
        for c in ConformanceData.shared.authorizationHeaders {
            pair.expectSame(c.value)
        }
    }

    /// The packed parameter names match exactly the twelve names, in any case.
    @Test func readParameterNames() {
        let names = ["nc", "uri", "qop", "realm", "nonce", "cnonce", "opaque", "username", "response", "userhash", "username*", "algorithm"]
        for name in names {
            #expect(DigestParameterSlots.isReadParameter(name))
            #expect(DigestParameterSlots.isReadParameter(name.uppercased()))
        }
        for name in ["n", "ncc", "ur", "usernam", "usernamex", "username_", "algorithms", "algorithM*", "opaquE1", "stale", "domain", "responsE ", "nonce\u{0}"] {
            #expect(!DigestParameterSlots.isReadParameter(name), "\(name)")
        }
    }

    /// HMAC-SHA-256 from the cached key states matches RFC 2104 (values from Python's hmac).
    @Test func nonceKeyHMAC() throws {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format2: $0) }.joined() }
        let message = Array("trunkgate nonce".utf8)
        let short = try NonceKey(id: 1, secret: Array(0..<32))
        #expect(hex(message.withUnsafeBytes { short.tag($0, count: 32) }) == "85438b10f85bec5833db93643875f53f549586cfa47c067607de6ff014f3c780")
        let block = try NonceKey(id: 1, secret: Array(0..<64))
        #expect(hex(message.withUnsafeBytes { block.tag($0, count: 32) }) == "fc8be9ace5b3b4d937937cf685ed5c1a92e7553abd892623e3b1bb5fdbe30de4")
        // RFC 4231 test case 6: a key longer than the block is hashed first.
        let long = try NonceKey(id: 1, secret: Array(repeating: 0xAA, count: 131))
        let rfc = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        #expect(hex(rfc.withUnsafeBytes { long.tag($0, count: 32) }) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(rfc.withUnsafeBytes { raw in
            let tag = long.tag(raw, count: 16)
            return tag.withUnsafeBytes { long.hasTag($0, for: raw) }
        })
        #expect(!rfc.withUnsafeBytes { raw in
            var tag = long.tag(raw, count: 16)
            tag[15] ^= 1
            return tag.withUnsafeBytes { long.hasTag($0, for: raw) }
        })
    }

    /// The grouped base64url decoder accepts and refuses exactly what the bit-serial one did.
    @Test func base64URLMatchesTheReference() {
        func reference(_ text: [UInt8]) -> [UInt8]? {
            guard text.count % 4 != 1 else { return nil }
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
            var output: [UInt8] = []
            var accumulator: UInt32 = 0
            var bits = 0
            for byte in text {
                guard let value = alphabet.firstIndex(of: byte) else { return nil }
                accumulator = accumulator << 6 | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                    accumulator &= (1 << UInt32(bits)) - 1
                }
            }
            return accumulator == 0 ? output : nil
        }
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let characters = Array("AQgw_-9zZa=+/ ".utf8)
        for _ in 0..<20_000 {
            let count = Int(next() % 12)
            let text = (0..<count).map { _ in characters[Int(next() % UInt64(characters.count))] }
            let decoded = Base64URL.decode(String(decoding: text, as: UTF8.self))
            #expect(decoded == reference(text), "\(String(decoding: text, as: UTF8.self))")
            // Too small an output is refused, never overrun.
            if let decoded, !decoded.isEmpty {
                let small = text.withUnsafeBufferPointer { input in
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: decoded.count - 1) { Base64URL.decode(input, into: $0) }
                }
                #expect(small == nil)
            }
        }
    }
}

extension String {
    fileprivate init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// The first occurrence of `target` replaced (no Foundation); unchanged when absent.
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        let text = Array(utf8)
        let pattern = Array(target.utf8)
        guard !pattern.isEmpty, text.count >= pattern.count else { return self }
        for start in 0...(text.count - pattern.count) where Array(text[start..<(start + pattern.count)]) == pattern {
            return String(decoding: text[..<start] + Array(replacement.utf8) + text[(start + pattern.count)...], as: UTF8.self)
        }
        return self
    }
}
