import Foundation
import SIPMessage
import Testing
import TrunkgateModel
@testable import TrunkgateEdge

@Suite struct RegistrarTests {
    let trunk = Trunk(accountSid: "AC1", trunkName: "pbx", domainName: "pbx.example.com")
    let source = RequestSource(ip: "127.0.0.2", port: 5062, transport: "udp")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func register(_ contacts: [String], expires: Int? = nil, callID: String = "c1", cseq: Int = 1) -> SIPMessage {
        var h: [(String, String)] = [
            ("Via", "SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK\(cseq)"), ("From", "<sip:pbx01@pbx.example.com>;tag=1"),
            ("To", "<sip:pbx01@pbx.example.com>"), ("Call-ID", callID), ("CSeq", "\(cseq) REGISTER"),
        ]
        for c in contacts { h.append(("Contact", c)) }
        if let expires { h.append(("Expires", "\(expires)")) }
        return try! SIPMessage.build(startLine: "REGISTER sip:pbx.example.com SIP/2.0", headers: h)
    }

    func contacts(_ r: Registrar.Result) -> [String] {
        if case .ok(let c) = r { return c }
        return []
    }

    @Test func bindRefreshQueryAndRemove() {
        let reg = Registrar()
        let r1 = reg.register(register(["<sip:pbx01@127.0.0.2:5062>;q=0.5", "<sip:pbx01@127.0.0.3:5062>"], expires: 600), trunk: trunk, credential: nil, source: source, now: t0)
        #expect(contacts(r1).count == 2)
        #expect(contacts(r1).contains("<sip:pbx01@127.0.0.2:5062>;expires=600;q=0.5"))
        #expect(reg.bindings(trunk: trunk.sid, now: t0).first?.contact == "sip:pbx01@127.0.0.3:5062", "best q first")
        // Query: no Contact.
        let q = reg.register(register([], cseq: 2), trunk: trunk, credential: nil, source: source, now: t0.addingTimeInterval(100))
        #expect(contacts(q).contains("<sip:pbx01@127.0.0.3:5062>;expires=500"))
        // Refresh one with a per-contact expires.
        _ = reg.register(register(["<sip:pbx01@127.0.0.3:5062>;expires=3000"], cseq: 3), trunk: trunk, credential: nil, source: source, now: t0.addingTimeInterval(100))
        #expect(reg.bindings(trunk: trunk.sid, now: t0.addingTimeInterval(1000)).count == 1, "the other one expired at 600 s")
        // Remove with expires=0.
        _ = reg.register(register(["<sip:pbx01@127.0.0.3:5062>"], expires: 0, cseq: 4), trunk: trunk, credential: nil, source: source, now: t0.addingTimeInterval(200))
        #expect(reg.bindings(trunk: trunk.sid, now: t0.addingTimeInterval(200)).count == 1)
        #expect(reg.pendingWrites.count > 0)
    }

    /// Many AORs over the shards and two trunks: each trunk sees exactly its own bindings, the
    /// count follows adds and removals, and deleting a credential removes its bindings wherever
    /// they are.
    @Test func trunksAreSeparateAndCountFollowsChanges() {
        let reg = Registrar(shardCount: 4)
        let other = Trunk(accountSid: "AC2", trunkName: "other", domainName: "other.example.com")
        let credential = Credential(accountSid: "AC1", trunkSid: trunk.sid, userName: "u", friendlyName: nil,
                                    ha1MD5: "", ha1SHA256: "", ha1SHA512_256: "", realm: "pbx.example.com")
        func request(_ user: String, domain: String, cseq: Int = 1, expires: Int = 600) -> SIPMessage {
            try! SIPMessage.build(startLine: "REGISTER sip:\(domain) SIP/2.0", headers: [
                ("Via", "SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK\(user)\(cseq)"), ("From", "<sip:\(user)@\(domain)>;tag=1"),
                ("To", "<sip:\(user)@\(domain)>"), ("Call-ID", "c-\(user)"), ("CSeq", "\(cseq) REGISTER"),
                ("Contact", "<sip:\(user)@127.0.0.2:5062>"), ("Expires", "\(expires)"),
            ])
        }
        for i in 0..<40 {
            _ = reg.register(request("a\(i)", domain: "pbx.example.com"), trunk: trunk, credential: i < 10 ? EdgeCredential(credential) : nil, source: source, now: t0)
        }
        for i in 0..<7 { _ = reg.register(request("b\(i)", domain: "other.example.com"), trunk: other, credential: nil, source: source, now: t0) }
        #expect(reg.count == 47)
        #expect(reg.bindings(trunk: trunk.sid, now: t0).count == 40)
        #expect(Set(reg.bindings(trunk: other.sid, now: t0).map(\.aor)) == Set((0..<7).map { "sip:b\($0)@other.example.com" }))
        #expect(reg.bindings(trunk: trunk.sid, now: t0).allSatisfy { $0.trunkSid == trunk.sid && $0.accountSid == "AC1" })
        _ = reg.register(request("b3", domain: "other.example.com", cseq: 2, expires: 0), trunk: other, credential: nil, source: source, now: t0)
        #expect(reg.count == 46 && reg.bindings(trunk: other.sid, now: t0).count == 6)
        reg.removeBindings(credentialSid: credential.sid)
        #expect(reg.count == 36 && reg.bindings(trunk: trunk.sid, now: t0).count == 30)
        #expect(reg.bindings(trunk: trunk.sid, now: t0).allSatisfy { $0.credentialSid == nil })
    }

    @Test func wildcardRemovesAll() {
        let reg = Registrar()
        _ = reg.register(register(["<sip:a@127.0.0.2>", "<sip:b@127.0.0.2>"], expires: 600), trunk: trunk, credential: nil, source: source, now: t0)
        let bad = reg.register(register(["*"], expires: 60, cseq: 2), trunk: trunk, credential: nil, source: source, now: t0)
        if case .badRequest = bad {} else { Issue.record("* with Expires other than 0 must be refused") }
        let ok = reg.register(register(["*"], expires: 0, cseq: 2), trunk: trunk, credential: nil, source: source, now: t0)
        #expect(contacts(ok).isEmpty)
        #expect(reg.bindings(trunk: trunk.sid, now: t0).isEmpty)
    }

    @Test func minExpiresAnd423() {
        let reg = Registrar()
        let r = reg.register(register(["<sip:a@127.0.0.2>"], expires: 10), trunk: trunk, credential: nil, source: source, now: t0)
        guard case .intervalTooBrief(let min) = r else { Issue.record("expected 423"); return }
        #expect(min == 60)
        #expect(reg.count == 0, "a refused REGISTER changes nothing")
    }

    @Test func outOfOrderCSeqIgnored() {
        let reg = Registrar()
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 600, cseq: 5), trunk: trunk, credential: nil, source: source, now: t0)
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 0, cseq: 4), trunk: trunk, credential: nil, source: source, now: t0)
        #expect(reg.count == 1, "an older CSeq from the same Call-ID does not remove the binding")
    }

    @Test func expiresCappedAndContactsBounded() {
        let reg = Registrar()
        let r = reg.register(register(["<sip:a@127.0.0.2>"], expires: 999_999), trunk: trunk, credential: nil, source: source, now: t0)
        #expect(contacts(r) == ["<sip:a@127.0.0.2>;expires=3600"])
        for i in 0..<15 {
            _ = reg.register(register(["<sip:c\(i)@127.0.0.2>"], expires: 600, callID: "x\(i)"), trunk: trunk, credential: nil, source: source, now: t0.addingTimeInterval(Double(i)))
        }
        #expect(reg.count == 10)
    }

    @Test func survivesRestartThroughStoredBindings() {
        let reg = Registrar()
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 600), trunk: trunk, credential: nil, source: source, now: t0)
        let stored = reg.pendingWrites.drain().compactMap { w -> RegistrationBinding? in
            if case .upsert(let b) = w { return b }
            return nil
        }
        let restarted = Registrar()
        restarted.load(stored, now: t0.addingTimeInterval(10))
        #expect(restarted.bindings(trunk: trunk.sid, now: t0.addingTimeInterval(10)).map(\.contact) == ["sip:a@127.0.0.2"])
        let later = Registrar()
        later.load(stored, now: t0.addingTimeInterval(601))
        #expect(later.count == 0, "expired bindings are not loaded")
    }

    /// A refresh that changes only the expiry, while the stored expiry is still more than 3/4 of
    /// an interval away, waits for the sweep, which writes it once it has waited a minute;
    /// anything that routes or revokes is written at once.
    @Test func frequentRefreshesAreWrittenByTheSweep() {
        let reg = Registrar()
        func upserts() -> [RegistrationBinding] {
            reg.pendingWrites.drain().compactMap { w in
                if case .upsert(let b) = w { return b }
                return nil
            }
        }
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 600), trunk: trunk, credential: nil, source: source, now: t0)
        #expect(upserts().map(\.expiresAt) == [t0.addingTimeInterval(600)], "a new binding is written at once")
        let r = reg.register(register(["<sip:a@127.0.0.2>"], expires: 600, cseq: 2), trunk: trunk, credential: nil, source: source, now: t0.addingTimeInterval(10))
        #expect(contacts(r) == ["<sip:a@127.0.0.2>;expires=600"])
        #expect(upserts().isEmpty, "stored expiry 590 s away >= 450 s: deferred")
        #expect(reg.bindings(trunk: trunk.sid, now: t0.addingTimeInterval(605)).count == 1, "memory holds the refresh")
        #expect(reg.queueDeferredRefreshes(now: t0.addingTimeInterval(59)) == 0, "stored 59 s ago, 541 s of 600 left: not due")
        #expect(upserts().isEmpty)
        #expect(reg.queueDeferredRefreshes(now: t0.addingTimeInterval(60)) == 1, "waited a minute")
        let swept = upserts()
        #expect(swept.map(\.expiresAt) == [t0.addingTimeInterval(610)] && swept.map(\.cseq) == [2])
        #expect(reg.queueDeferredRefreshes(now: t0.addingTimeInterval(200)) == 0, "written once")
        // Stored expiry 300 s away < 3/4 of 600: written at once, as a UA refreshing at half does.
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 600, cseq: 3), trunk: trunk, credential: nil, source: source, now: t0.addingTimeInterval(310))
        #expect(upserts().map(\.cseq) == [3])
        // A new source port (NAT rebinding) is written at once however recent the last write.
        let moved = RequestSource(ip: "127.0.0.2", port: 5070, transport: "udp")
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 600, cseq: 4), trunk: trunk, credential: nil, source: moved, now: t0.addingTimeInterval(311))
        #expect(upserts().map(\.sourcePort) == [5070])
        // A new Call-ID (SIPp starts one per flow) changes nothing that routes: deferred.
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 600, callID: "c2"), trunk: trunk, credential: nil, source: moved, now: t0.addingTimeInterval(312))
        #expect(upserts().isEmpty)
        #expect(reg.queueDeferredRefreshes(now: t0.addingTimeInterval(320)) == 0)
        #expect(reg.queueDeferredRefreshes(now: t0.addingTimeInterval(320), all: true) == 1, "shutdown writes every deferred refresh")
        #expect(upserts().map(\.callID) == ["c2"])
        // Removal is written at once, and nothing deferred is left behind it.
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 0, callID: "c2", cseq: 2), trunk: trunk, credential: nil, source: moved, now: t0.addingTimeInterval(313))
        let removal = reg.pendingWrites.drain()
        #expect(removal.count == 1 && reg.queueDeferredRefreshes(now: t0.addingTimeInterval(400), all: true) == 0)
        if case .delete = removal.first {} else { Issue.record("expected a delete, got \(removal)") }
    }

    /// With a short interval the stored expiry runs short before a minute has passed: the sweep
    /// writes the deferred refresh then.
    @Test func aDeferredRefreshIsWrittenWhenTheStoredExpiryRunsShort() {
        let reg = Registrar()
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 120), trunk: trunk, credential: nil, source: source, now: t0)
        #expect(reg.pendingWrites.drain().count == 1)
        _ = reg.register(register(["<sip:a@127.0.0.2>"], expires: 120, cseq: 2), trunk: trunk, credential: nil, source: source, now: t0.addingTimeInterval(10))
        #expect(reg.pendingWrites.drain().isEmpty, "stored expiry 110 s away >= 90 s: deferred")
        #expect(reg.queueDeferredRefreshes(now: t0.addingTimeInterval(29)) == 0, "91 s stored: not due")
        #expect(reg.queueDeferredRefreshes(now: t0.addingTimeInterval(31)) == 1, "89 s stored < 3/4 of 120 s: due")
        let written = reg.pendingWrites.drain()
        guard case .upsert(let b)? = written.first, written.count == 1 else {
            Issue.record("expected one upsert, got \(written)")
            return
        }
        #expect(b.expiresAt == t0.addingTimeInterval(130) && b.cseq == 2)
    }

    @Test func httpDateFormat() {
        #expect(EdgeRequestHandler.httpDate(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(EdgeRequestHandler.httpDate(Date(timeIntervalSince1970: 1_289_690_940)) == "Sat, 13 Nov 2010 23:29:00 GMT")
        #expect(EdgeRequestHandler.httpDate(Date(timeIntervalSince1970: 1_709_164_800)) == "Thu, 29 Feb 2024 00:00:00 GMT")
        #expect(EdgeRequestHandler.httpDate(Date(timeIntervalSince1970: 951_868_799.9)) == "Tue, 29 Feb 2000 23:59:59 GMT")
        #expect(EdgeRequestHandler.httpDate(Date(timeIntervalSince1970: 4_102_444_799)) == "Thu, 31 Dec 2099 23:59:59 GMT")
        #expect(SIPDateCheck.valid(EdgeRequestHandler.httpDate(Date())))
    }
}

enum SIPDateCheck {
    static func valid(_ s: String) -> Bool {
        (try? SIPMessage.build(startLine: "OPTIONS sip:a@b SIP/2.0", headers: [("Date", s)])) != nil
    }
}
