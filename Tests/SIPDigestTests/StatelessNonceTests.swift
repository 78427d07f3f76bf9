@testable import SIPDigest
import SIPMessage
import Testing

@Suite("Stateless nonces")
struct StatelessNonceTests {
    let realm = "trunk.example.com"
    let binding = NonceBinding(trunk: "TK1", sourceIP: "198.51.100.7", transport: "tcp")
    let now: Int64 = 1_750_000_000

    func check(_ nonce: String, keys: NonceKeyRing, realm: String? = nil, binding: NonceBinding? = nil, at time: Int64? = nil) -> NonceCheck {
        StatelessNonce.check(
            nonce, keys: keys, realm: realm ?? self.realm, binding: binding ?? self.binding,
            now: time ?? now, lifetimeSeconds: 300, maximumClockSkewSeconds: 30
        )
    }

    @Test func formatIsBase64URLTokenOfFixedLength() throws {
        let keys = try NonceKeyRing(current: .generate(id: 7))
        let nonce = StatelessNonce.issue(keys: keys, realm: realm, binding: binding, now: now)
        #expect(nonce.utf8.count == 56)
        #expect(nonce.utf8.allSatisfy { ASCII.isHex($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F })
        let bytes = try #require(Base64URL.decode(nonce))
        #expect(bytes.count == 42)
        #expect(bytes[0] == 0x23)  // version 2, bound to source IP and transport
        #expect(Array(bytes[1..<5]) == [0, 0, 0, 7])
        #expect(bytes[5..<10].reduce(0) { $0 << 8 | Int64($1) } == now)
        // Every challenge gets its own nonce.
        #expect(nonce != StatelessNonce.issue(keys: keys, realm: realm, binding: binding, now: now))
    }

    /// Nonces of the previous format (issued by a node of an older release) still verify, with
    /// the same distinctions: valid, expired, altered, bound elsewhere.
    @Test func version1NoncesStillVerify() throws {
        let keys = try NonceKeyRing(current: .generate(id: 9))
        let nonce = StatelessNonce.issue(keys: keys, realm: realm, binding: binding, now: now, layout: .v1)
        #expect(nonce.utf8.count == 78)
        let bytes = try #require(Base64URL.decode(nonce))
        #expect(bytes.count == 58 && bytes[0] == 1 && bytes[1] == 3 && Array(bytes[2..<6]) == [0, 0, 0, 9])
        guard case .valid(_, let issuedAt) = check(nonce, keys: keys) else { Issue.record("v1 nonce not valid"); return }
        #expect(issuedAt == now)
        guard case .expired = check(nonce, keys: keys, at: now + 301) else { Issue.record("v1 nonce not expired"); return }
        #expect(check(nonce, keys: keys, binding: NonceBinding(trunk: "TK2", sourceIP: "198.51.100.7", transport: "tcp")) == .boundElsewhere)
        for index in bytes.indices {
            var altered = bytes
            altered[index] ^= 0x01
            #expect(check(Base64URL.encode(altered), keys: keys) == .invalid, "byte \(index)")
        }
        // The same answer through the authenticator: a v1 nonce is accepted end to end.
        let policy = try DigestChallengePolicy(realm: realm, algorithms: [.md5])
        let authenticator = DigestAuthenticator(keys: keys, clock: TestClock(now))
        let request = DigestRequest(method: "REGISTER", uri: "sip:trunk.example.com")
        let header = "Digest realm=\"\(realm)\", nonce=\"\(nonce)\", algorithm=MD5, qop=auth"
        let challenge = try SIPAuthHeader(parsing: header[...])
        let answer = try DigestClient().authorization(answering: [challenge], username: "u", password: "p", method: request.method, uri: request.uri)
        let users = ["u": DigestHA1Set.compute(username: "u", realm: realm, password: "p")]
        let result = authenticator.verify(headerValues: [Substring(answer.serialized)], request: request, policy: policy, binding: binding, user: { users[$0] })
        #expect(result.isOK, "\(result)")
    }

    @Test func validUntilLifetimeThenExpired() throws {
        let keys = try NonceKeyRing(current: .generate(id: 1))
        let nonce = StatelessNonce.issue(keys: keys, realm: realm, binding: binding, now: now)
        guard case .valid(_, let issuedAt) = check(nonce, keys: keys) else { Issue.record("not valid"); return }
        #expect(issuedAt == now)
        guard case .valid = check(nonce, keys: keys, at: now + 300) else { Issue.record("not valid at the end of its lifetime"); return }
        guard case .expired = check(nonce, keys: keys, at: now + 301) else { Issue.record("not expired"); return }
        // Issued further in the future than the allowed skew: not ours to trust.
        #expect(check(nonce, keys: keys, at: now - 31) == .invalid)
        guard case .valid = check(nonce, keys: keys, at: now - 30) else { Issue.record("skew not tolerated"); return }
    }

    @Test func anyNodeWithTheKeyVerifies() throws {
        let secret = NonceKey.generateSecret()
        let nodeA = try NonceKeyRing(current: NonceKey(id: 3, secret: secret))
        let nodeB = try NonceKeyRing(current: NonceKey(id: 3, secret: secret))
        let nonce = StatelessNonce.issue(keys: nodeA, realm: realm, binding: binding, now: now)
        guard case .valid = check(nonce, keys: nodeB) else { Issue.record("other node refused"); return }
        let stranger = try NonceKeyRing(current: NonceKey(id: 3, secret: NonceKey.generateSecret()))
        #expect(check(nonce, keys: stranger) == .invalid)
    }

    @Test func everyAlteredByteIsInvalid() throws {
        let keys = try NonceKeyRing(current: .generate(id: 1))
        let bytes = try #require(Base64URL.decode(StatelessNonce.issue(keys: keys, realm: realm, binding: binding, now: now)))
        for index in bytes.indices {
            var altered = bytes
            altered[index] ^= 0x01
            #expect(check(Base64URL.encode(altered), keys: keys) == .invalid, "byte \(index)")
        }
    }

    @Test(arguments: ["", "x", "not a nonce", String(repeating: "A", count: 78), String(repeating: "A", count: 56), String(repeating: "A", count: 77) + "=",
                      "f84f1cec41e6cbe5aea9c8e88d359", String(repeating: "é", count: 39)])
    func garbageIsInvalid(_ nonce: String) throws {
        let keys = try NonceKeyRing(current: .generate(id: 1))
        #expect(check(nonce, keys: keys) == .invalid)
    }

    @Test func boundElsewhere() throws {
        let keys = try NonceKeyRing(current: .generate(id: 1))
        let nonce = StatelessNonce.issue(keys: keys, realm: realm, binding: binding, now: now)
        #expect(check(nonce, keys: keys, binding: NonceBinding(trunk: "TK2", sourceIP: "198.51.100.7", transport: "tcp")) == .boundElsewhere)
        #expect(check(nonce, keys: keys, binding: NonceBinding(trunk: "TK1", sourceIP: "198.51.100.8", transport: "tcp")) == .boundElsewhere)
        #expect(check(nonce, keys: keys, binding: NonceBinding(trunk: "TK1", sourceIP: "198.51.100.7", transport: "udp")) == .boundElsewhere)
        #expect(check(nonce, keys: keys, binding: NonceBinding(trunk: "TK1", sourceIP: nil, transport: "tcp")) == .boundElsewhere)
        #expect(check(nonce, keys: keys, realm: "other.example.com") == .boundElsewhere)
        guard case .valid = check(nonce, keys: keys, binding: NonceBinding(trunk: "TK1", sourceIP: "198.51.100.7", transport: "TCP")) else {
            Issue.record("transport should compare case-insensitively"); return
        }
    }

    @Test func unboundFieldsAreNotChecked() throws {
        let keys = try NonceKeyRing(current: .generate(id: 1))
        let nonce = StatelessNonce.issue(keys: keys, realm: realm, binding: NonceBinding(trunk: "TK1"), now: now)
        guard case .valid = check(nonce, keys: keys, binding: NonceBinding(trunk: "TK1", sourceIP: "192.0.2.1", transport: "tls")) else {
            Issue.record("trunk-only nonce refused"); return
        }
        #expect(check(nonce, keys: keys, binding: NonceBinding(trunk: "TK9")) == .boundElsewhere)
    }

    @Test func keyRotationOverlap() throws {
        let old = NonceKey.generate(id: 1)
        let new = NonceKey.generate(id: 2)
        let before = try NonceKeyRing(current: old)
        let oldNonce = StatelessNonce.issue(keys: before, realm: realm, binding: binding, now: now)
        let after = try before.rotated(to: new, now: now, overlapSeconds: 120)
        #expect(after.current.id == 2)
        // New nonces carry the new key id.
        let newNonce = StatelessNonce.issue(keys: after, realm: realm, binding: binding, now: now)
        #expect(try Array(#require(Base64URL.decode(newNonce))[1..<5]) == [0, 0, 0, 2])
        // The old key verifies during the overlap, not after.
        guard case .valid = check(oldNonce, keys: after, at: now + 120) else { Issue.record("old key refused during overlap"); return }
        #expect(check(oldNonce, keys: after, at: now + 121) == .invalid)
        // A later rotation drops keys whose overlap ended.
        let third = try after.rotated(to: .generate(id: 3), now: now + 200, overlapSeconds: 60)
        #expect(third.retired.map(\.key.id) == [2])
        #expect(throws: NonceKeyError.duplicateKeyID) { try third.rotated(to: .generate(id: 2), now: now + 201, overlapSeconds: 60) }
        #expect(throws: NonceKeyError.secretTooShort) { try NonceKey(id: 9, secret: Array(repeating: 1, count: 31)) }
    }

    @Test func base64URLRoundTripAndCanonicalForm() throws {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("AB") == nil)  // non-zero trailing bits
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("AA==") == nil)
    }
}
