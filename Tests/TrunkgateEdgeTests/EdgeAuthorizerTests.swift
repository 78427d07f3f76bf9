import Foundation
import SIPDigest
import SIPMessage
import Synchronization
import Testing
import TrunkgateModel
@testable import TrunkgateEdge

/// A wall clock the test moves by hand.
final class TestClock: DigestClock {
    private let seconds = Mutex<Int64>(1_800_000_000)
    func unixSeconds() -> Int64 { seconds.withLock { $0 } }
    func advance(_ s: Int64) { seconds.withLock { $0 += s } }
    var date: Date { Date(timeIntervalSince1970: TimeInterval(unixSeconds())) }
}

struct EdgeFixture {
    static let password = "Secretpass123"
    let clock = TestClock()
    let authorizer: EdgeAuthorizer
    var configuration: EdgeConfiguration
    let trunk: Trunk
    let credential: Credential
    let client = DigestClient()

    init(authType: AuthType = .credential, acl: [String] = [], algorithms: [String] = ["MD5"], lockout: LockoutTracker.Policy = .init()) {
        trunk = Trunk(accountSid: SID.make(.account), trunkName: "pbx", domainName: "pbx.trunks.example.com", authType: authType,
                      digestAlgorithms: algorithms)
        let ha1 = DigestHA1Set.compute(username: "pbx01", realm: trunk.realm, password: Self.password)
        credential = Credential(accountSid: trunk.accountSid, trunkSid: trunk.sid, userName: "pbx01", friendlyName: nil,
                                ha1MD5: ha1.md5!, ha1SHA256: ha1.sha256!, ha1SHA512_256: ha1.sha512_256!, realm: trunk.realm)
        let cidrs = acl.map { try! CIDR(parsing: $0) }
        configuration = EdgeConfiguration(version: 1, trunks: [
            TrunkConfiguration(trunk: trunk, credentials: ["pbx01": EdgeCredential(credential)], acl: cidrs, phoneNumbers: [], destinations: []),
        ])
        let authenticator = DigestAuthenticator(keys: try! NonceKeyRing(current: .generate(id: 1)), clock: clock)
        authorizer = EdgeAuthorizer(authenticator: authenticator, lockouts: LockoutTracker(policy: lockout))
    }

    func request(_ method: String, uri: String = "sip:pbx.trunks.example.com", auth: (String, String)? = nil) -> SIPMessage {
        var headers: [(String, String)] = [
            ("Via", "SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK\(UInt32.random(in: 0...UInt32.max))"),
            ("From", "<sip:pbx01@pbx.trunks.example.com>;tag=1"), ("To", "<sip:pbx01@pbx.trunks.example.com>"),
            ("Call-ID", "call-\(UInt32.random(in: 0...UInt32.max))"), ("CSeq", "1 \(method)"), ("Max-Forwards", "70"),
            ("Contact", "<sip:pbx01@127.0.0.2:5062>"),
        ]
        if let auth { headers.append(auth) }
        return try! SIPMessage.build(startLine: "\(method) \(uri) SIP/2.0", headers: headers)
    }

    func authorize(_ r: SIPMessage, ip: String = "127.0.0.2") -> EdgeAuthorizer.Outcome {
        authorizer.authorize(r, source: RequestSource(ip: ip, port: 5062, transport: "udp"), configuration: configuration, now: clock.date)
    }

    /// Answers a challenge outcome the way a client would.
    func answer(_ outcome: EdgeAuthorizer.Outcome, method: String, uri: String = "sip:pbx.trunks.example.com",
                user: String = "pbx01", password: String = EdgeFixture.password) throws -> SIPMessage {
        guard case .challenge(let challenge) = outcome.decision else { throw TestFailure("expected a challenge") }
        let header = try client.authorization(answering: challenge.headers, username: user, password: password, method: method, uri: uri)
        return request(method, uri: uri, auth: (challenge.kind.credentialsHeaderName, header.serialized))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

@Suite struct EdgeAuthorizerTests {
    @Test func registerChallengedWith401ThenAllowed() throws {
        let f = EdgeFixture()
        let first = f.authorize(f.request("REGISTER"))
        #expect(first.decision.statusCode == 401)
        #expect(first.event.reason == "missing_credentials" && first.event.result == .challenged)
        #expect(first.event.trunkSid == f.trunk.sid)
        let second = f.authorize(try f.answer(first, method: "REGISTER"))
        guard case .allow(_, let credential, let algorithm) = second.decision else { Issue.record("not allowed: \(second.event.reason)"); return }
        #expect(credential?.sid == f.credential.sid)
        #expect(algorithm == "MD5")
        #expect(second.event.reason == "ok" && second.event.userName == "pbx01" && second.event.credentialSid == f.credential.sid)
    }

    @Test func inviteChallengedWith407AndAckCancelNever() throws {
        let f = EdgeFixture()
        let invite = f.authorize(f.request("INVITE", uri: "sip:+15551230000@pbx.trunks.example.com"))
        #expect(invite.decision.statusCode == 407)
        let allowed = f.authorize(try f.answer(invite, method: "INVITE", uri: "sip:+15551230000@pbx.trunks.example.com"))
        #expect(allowed.event.reason == "ok")
        for m in ["ACK", "CANCEL"] {
            let o = f.authorize(f.request(m))
            #expect(o.decision.statusCode == 200, "\(m) must not be challenged")
        }
    }

    @Test func everyAlgorithmAuthenticates() throws {
        for algorithm in ["SHA-256", "MD5", "SHA-512-256", "SHA-256-sess", "MD5-sess", "SHA-512-256-sess"] {
            let f = EdgeFixture(algorithms: [algorithm])
            let challenge = f.authorize(f.request("REGISTER"))
            let ok = f.authorize(try f.answer(challenge, method: "REGISTER"))
            #expect(ok.event.reason == "ok" && ok.event.algorithm == algorithm, "\(algorithm): \(ok.event.reason)")
        }
    }

    @Test func unknownDomainIs404WithReason() {
        let f = EdgeFixture()
        let o = f.authorize(f.request("REGISTER", uri: "sip:other.example.com"))
        #expect(o.decision.statusCode == 404 && o.event.reason == "unknown_domain" && o.event.trunkSid == nil)
    }

    @Test func wrongPasswordAndUnknownUserLookTheSame() throws {
        let f = EdgeFixture()
        let c1 = f.authorize(f.request("REGISTER"))
        let wrong = f.authorize(try f.answer(c1, method: "REGISTER", password: "Wrongpass1234"))
        let c2 = f.authorize(f.request("REGISTER"))
        let unknown = f.authorize(try f.answer(c2, method: "REGISTER", user: "nobody"))
        #expect(wrong.decision.statusCode == 403 && unknown.decision.statusCode == 403)
        #expect(wrong.event.reason == "wrong_password" && unknown.event.reason == "unknown_user")
    }

    @Test func staleNonceRechallengesWithStaleTrue() throws {
        let f = EdgeFixture()
        let c = f.authorize(f.request("REGISTER"))
        let answer = try f.answer(c, method: "REGISTER")
        f.clock.advance(3600)
        let o = f.authorize(answer)
        #expect(o.event.reason == "stale_nonce" && o.decision.statusCode == 401)
        guard case .challenge(let fresh) = o.decision else { return }
        #expect(fresh.headerValues.allSatisfy { $0.contains("stale=true") })
    }

    @Test func replayedNonceCountIsRefused() throws {
        let f = EdgeFixture()
        let c = f.authorize(f.request("REGISTER"))
        let answer = try f.answer(c, method: "REGISTER")
        #expect(f.authorize(answer).event.reason == "ok")
        let replay = f.authorize(answer)
        #expect(replay.event.reason == "replayed_nc" && replay.event.result == .rejected)
    }

    @Test func uriAndRealmMismatch() throws {
        let f = EdgeFixture()
        let c = f.authorize(f.request("INVITE", uri: "sip:+15551230000@pbx.trunks.example.com"))
        // Answer computed for another uri (SIPp's default `sip:<host>` form).
        guard case .challenge(let ch) = c.decision else { Issue.record("no challenge"); return }
        let h = try f.client.authorization(answering: ch.headers, username: "pbx01", password: EdgeFixture.password, method: "INVITE", uri: "sip:127.0.0.1:5060")
        let o = f.authorize(f.request("INVITE", uri: "sip:+15551230000@pbx.trunks.example.com", auth: ("Proxy-Authorization", h.serialized)))
        #expect(o.event.reason == "uri_mismatch")
        let bad = h.serialized.replacingOccurrences(of: "realm=\"pbx.trunks.example.com\"", with: "realm=\"other\"")
        let r = f.authorize(f.request("INVITE", uri: "sip:+15551230000@pbx.trunks.example.com", auth: ("Proxy-Authorization", bad)))
        #expect(r.event.reason == "realm_mismatch")
    }

    @Test func ipACLAuthType() {
        let f = EdgeFixture(authType: .ipACL, acl: ["127.0.0.2/32"])
        let ok = f.authorize(f.request("INVITE"), ip: "127.0.0.2")
        #expect(ok.decision.statusCode == 200 && ok.event.reason == "ok")
        let no = f.authorize(f.request("INVITE"), ip: "127.0.0.3")
        #expect(no.decision.statusCode == 403 && no.event.reason == "ip_not_in_acl")
    }

    @Test func ipACLAndCredentialNeedsBoth() throws {
        let f = EdgeFixture(authType: .ipACLAndCredential, acl: ["127.0.0.0/30"])
        // Outside the ACL: refused before any challenge, even with good credentials.
        let outside = f.authorize(f.request("REGISTER"), ip: "127.0.0.9")
        #expect(outside.decision.statusCode == 403 && outside.event.reason == "ip_not_in_acl")
        let c = f.authorize(f.request("REGISTER"), ip: "127.0.0.2")
        #expect(c.decision.statusCode == 401)
        let ok = f.authorize(try f.answer(c, method: "REGISTER"), ip: "127.0.0.2")
        #expect(ok.event.reason == "ok")
    }

    @Test func lockoutAfterTenFailuresThenExpiry() throws {
        let f = EdgeFixture()
        for i in 1...10 {
            let c = f.authorize(f.request("REGISTER"))
            let o = f.authorize(try f.answer(c, method: "REGISTER", password: "Wrongpass1234"))
            #expect(o.event.reason == "wrong_password")
            #expect((o.lockout != nil) == (i == 10), "lockout decided on the 10th failure only")
        }
        // Locked: even correct credentials get 403, and the challenge step is refused too.
        let c = f.authorize(f.request("REGISTER"))
        #expect(c.decision.statusCode == 403 && c.event.reason == "locked_out")
        // Another source IP is not affected.
        let other = f.authorize(f.request("REGISTER"), ip: "127.0.0.3")
        #expect(other.decision.statusCode == 401)
        f.clock.advance(61)
        let after = f.authorize(f.request("REGISTER"))
        #expect(after.decision.statusCode == 401, "lockout expires after 60 s")
    }

    @Test func challengesDoNotCountTowardLockout() {
        let f = EdgeFixture(lockout: .init(maxFailures: 3, window: 60, duration: 60))
        for _ in 0..<20 { #expect(f.authorize(f.request("REGISTER")).decision.statusCode == 401) }
    }

    @Test func failuresOutsideTheWindowDoNotAccumulate() throws {
        let f = EdgeFixture(lockout: .init(maxFailures: 3, window: 60, duration: 60))
        for _ in 0..<5 {
            let c = f.authorize(f.request("REGISTER"))
            #expect(f.authorize(try f.answer(c, method: "REGISTER", password: "Wrongpass1234")).lockout == nil)
            f.clock.advance(31)
        }
    }
}
