import Foundation
import Testing
import TrunkgateAPI
import TrunkgateModel

/// The read-only endpoints the edge feeds: auth events, lockouts, registrations, calls.
@Suite("API read side")
struct ReadSideTests {
    @Test(arguments: StoreBackend.all)
    func authEventsWithFilters(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let t1 = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "ev1"])["sid"]?.stringValue)
            let t2 = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "ev2"])["sid"]?.stringValue)
            let base = Date(timeIntervalSince1970: 1_900_000_000)
            func event(_ i: Int, trunk: String, account: String? = nil, ip: String, user: String?, result: AuthEvent.Result, reason: String) -> AuthEvent {
                AuthEvent(accountSid: account ?? api.account.sid, trunkSid: trunk, time: base + Double(i) * 60, sourceIP: ip, sourcePort: 5060 + i,
                          transport: "udp", method: "REGISTER", requestURI: "sip:x.example.com", userName: user, algorithm: user == nil ? nil : "SHA-256",
                          credentialSid: result == .allowed ? SID.make(.credential) : nil, result: result, reason: reason)
            }
            try await api.store.appendAuthEvents([
                event(0, trunk: t1, ip: "192.0.2.1", user: nil, result: .challenged, reason: "challenge"),
                event(1, trunk: t1, ip: "192.0.2.1", user: "alice", result: .rejected, reason: "wrong_password"),
                event(2, trunk: t1, ip: "192.0.2.1", user: "alice", result: .allowed, reason: "ok"),
                event(3, trunk: t2, ip: "2001:db8::1", user: "bob", result: .rejected, reason: "unknown_user"),
                event(4, trunk: t2, ip: "198.51.100.9", user: nil, result: .rejected, reason: "ip_not_in_acl"),
                event(5, trunk: SID.make(.trunk), account: api.other.sid, ip: "192.0.2.1", user: "alice", result: .rejected, reason: "wrong_password"),
            ])
            let path = api.path("/auth-events")
            func reasons(_ query: String) async throws -> [String] {
                let reply = try await api.get(path + query)
                expectDocumented(reply, "listAuthEvents")
                return try #require(reply["auth_events"]?.arrayValue).compactMap { $0["reason"]?.stringValue }
            }
            #expect(try await reasons("") == ["ip_not_in_acl", "unknown_user", "ok", "wrong_password", "challenge"], "newest first, own account only")
            #expect(try await reasons("?trunk_sid=\(t2)") == ["ip_not_in_acl", "unknown_user"])
            #expect(try await reasons("?source_ip=192.0.2.1") == ["ok", "wrong_password", "challenge"])
            #expect(try await reasons("?source_ip=2001:DB8:0::1") == ["unknown_user"], "addresses compared in canonical form")
            #expect(try await reasons("?user_name=alice") == ["ok", "wrong_password"])
            #expect(try await reasons("?result=rejected") == ["ip_not_in_acl", "unknown_user", "wrong_password"])
            #expect(try await reasons("?reason=wrong_password") == ["wrong_password"])
            #expect(try await reasons("?since=2030-03-17T17:48:00Z&until=2030-03-17T17:50:00Z") == ["unknown_user", "ok"], "17:48:40 and 17:49:40")
            #expect(try await reasons("?result=rejected&trunk_sid=\(t1)") == ["wrong_password"])

            let full = try #require(try await api.get(path + "?page_size=1")["auth_events"]?.arrayValue?.first)
            #expect(full["source_port"]?.intValue == 5064 && full["transport"]?.stringValue == "udp" && full["method"]?.stringValue == "REGISTER")
            #expect(full["trunk_sid"]?.stringValue == t2)

            // Pagination walks every event once.
            var seen: [String] = []
            var token: String?
            repeat {
                let reply = try await api.get(path + "?page_size=2" + (token.map { "&page_token=\($0)" } ?? ""))
                seen += try #require(reply["auth_events"]?.arrayValue).compactMap { $0["reason"]?.stringValue }
                token = reply["meta"]?["next_page_token"]?.stringValue
            } while token != nil && seen.count < 10
            #expect(seen == ["ip_not_in_acl", "unknown_user", "ok", "wrong_password", "challenge"])

            try await api.expectRefused(400, "invalid_result", field: "result") { try await api.get(path + "?result=maybe") }
            try await api.expectRefused(400, "invalid_since", field: "since") { try await api.get(path + "?since=yesterday") }
            try await api.expectRefused(400, "invalid_until", field: "until") { try await api.get(path + "?until=2030-13-01") }
            try await api.expectRefused(400, "invalid_source_ip", field: "source_ip") { try await api.get(path + "?source_ip=pbx.example.com") }
            try await api.expectRefused(400, "invalid_page_token", field: "page_token") {
                try await api.get(path + "?page_token=\("not-a-number".data(using: .utf8)!.base64EncodedString())")
            }
            let theirs = try await api.get("/v1/accounts/\(api.other.sid)/auth-events", auth: api.otherAuth)
            #expect(theirs["auth_events"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: StoreBackend.all)
    func lockouts(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let now = Date()
            try await api.store.upsertLockout(Lockout(ip: "203.0.113.9", accountSid: api.account.sid, lockedAt: now, until: now + 600, failures: 10))
            try await api.store.upsertLockout(Lockout(ip: "2001:db8::7", accountSid: api.account.sid, lockedAt: now, until: now + 600, failures: 12))
            try await api.store.upsertLockout(Lockout(ip: "192.0.2.200", accountSid: api.account.sid, lockedAt: now - 900, until: now - 300, failures: 10))
            try await api.store.upsertLockout(Lockout(ip: "198.51.100.1", accountSid: api.other.sid, lockedAt: now, until: now + 600, failures: 10))
            let list = try await api.get(api.path("/lockouts"))
            expectDocumented(list, "listLockouts")
            let ips = try #require(list["lockouts"]?.arrayValue).compactMap { $0["ip"]?.stringValue }
            #expect(ips.sorted() == ["2001:db8::7", "203.0.113.9"], "active ones of this account only")
            let first = try #require(list["lockouts"]?.arrayValue?.first)
            #expect(first["failures"]?.intValue != nil && first["locked_until"]?.stringValue != nil)

            let paged = try await api.get(api.path("/lockouts?page_size=1"))
            #expect(paged["lockouts"]?.arrayValue?.count == 1 && paged["meta"]?["next_page_token"]?.stringValue != nil)

            let version = try await api.store.currentConfigVersion()
            expectDocumented(try await api.delete(api.path("/lockouts/203.0.113.9")), "deleteLockout")
            #expect(try await api.store.configChanges(after: version, limit: 100).contains { $0.kind == "lockout" && $0.accountSid == api.account.sid })
            expectDocumented(try await api.delete(api.path("/lockouts/2001:DB8:0:0::7")), "deleteLockout")
            #expect(try await api.get(api.path("/lockouts"))["lockouts"]?.arrayValue?.isEmpty == true)
            try await api.expectRefused(404, "not_found") { try await api.delete(api.path("/lockouts/203.0.113.9")) }
            try await api.expectRefused(404, "not_found") { try await api.delete(api.path("/lockouts/not-an-ip")) }
            // Another tenant's lockout cannot be cleared from here.
            #expect(try await api.delete(api.path("/lockouts/198.51.100.1")).status == 404)
            #expect(try await api.store.lockouts(account: api.other.sid, now: Date()).count == 1)
        }
    }

    @Test(arguments: StoreBackend.all)
    func registrationsAndCalls(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let t1 = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "reg1"])["sid"]?.stringValue)
            let t2 = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "reg2"])["sid"]?.stringValue)
            let now = Date()
            for (trunk, contact) in [(t1, "sip:alice@192.0.2.10:5060"), (t1, "sip:alice@192.0.2.11:5060"), (t2, "sip:bob@192.0.2.12:5060")] {
                try await api.store.upsertRegistration(RegistrationBinding(
                    accountSid: api.account.sid, trunkSid: trunk, aor: "sip:user@x.example.com", contact: contact, expiresAt: now + 3600, q: 1000,
                    callID: UUID().uuidString, cseq: 1, credentialSid: nil, sourceIP: "192.0.2.10", sourcePort: 5060, transport: "udp",
                    userAgent: "test", updatedAt: now))
            }
            let all = try await api.get(api.path("/registrations"))
            expectDocumented(all, "listRegistrations")
            #expect(all["registrations"]?.arrayValue?.count == 3)
            let one = try await api.get(api.path("/registrations?trunk_sid=\(t2)"))
            #expect(one["registrations"]?.arrayValue?.compactMap { $0["contact"]?.stringValue } == ["sip:bob@192.0.2.12:5060"])
            let theirs = try await api.get("/v1/accounts/\(api.other.sid)/registrations", auth: api.otherAuth)
            #expect(theirs["registrations"]?.arrayValue?.isEmpty == true)

            // CDRs: none yet is an empty page of the documented shape.
            let none = try await api.get(api.path("/calls"))
            expectDocumented(none, "listCalls")
            #expect(none["calls"]?.arrayValue?.isEmpty == true && none["meta"]?["next_page_token"]?.isNull == true)
            let start = Date(timeIntervalSince1970: 1_760_000_000)
            let mine = [
                CallRecord(accountSid: api.account.sid, trunkSid: t1, direction: .outbound, from: "sip:+15550199@pbx.test", to: "sip:+15550100@pbx.test",
                           startTime: start, answerTime: start + 3, endTime: start + 63, hangupCause: "caller_bye", hangupCauseCode: 200,
                           authType: "credential", authUser: "alice", sourceIP: "203.0.113.5"),
                CallRecord(accountSid: api.account.sid, trunkSid: t2, direction: .inbound, from: "sip:+15550111@carrier.test", to: "sip:+15550100@pbx.test",
                           startTime: start + 100, answerTime: nil, endTime: start + 130, hangupCause: "no_answer", hangupCauseCode: 408,
                           authType: nil, authUser: nil, sourceIP: nil),
            ]
            try await api.store.appendCallRecords(mine + [CallRecord(
                accountSid: api.other.sid, trunkSid: nil, direction: .outbound, from: "sip:a@b", to: "sip:c@d", startTime: start, answerTime: nil,
                endTime: start, hangupCause: "busy", hangupCauseCode: 486, authType: nil, authUser: nil, sourceIP: nil)])
            let calls = try await api.get(api.path("/calls"))
            expectDocumented(calls, "listCalls")
            let listed = try #require(calls["calls"]?.arrayValue)
            #expect(listed.compactMap { $0["sid"]?.stringValue } == [mine[1].sid, mine[0].sid])  // newest first, only this account's
            let first = listed[1]
            #expect(first["trunk_sid"]?.stringValue == t1 && first["direction"]?.stringValue == "outbound")
            #expect(first["duration"]?.intValue == 60 && first["hangup_cause"]?.stringValue == "caller_bye" && first["hangup_cause_code"]?.intValue == 200)
            #expect(first["auth_user"]?.stringValue == "alice" && first["source_ip"]?.stringValue == "203.0.113.5")
            #expect(first["start_time"]?.stringValue?.hasPrefix("2025-10-09T") == true)
            let inbound = try await api.get(api.path("/calls?direction=inbound"))
            #expect(inbound["calls"]?.arrayValue?.compactMap { $0["sid"]?.stringValue } == [mine[1].sid])
            let byTrunk = try await api.get(api.path("/calls?trunk_sid=\(t1)&since=2025-10-09T08:00:00Z"))
            #expect(byTrunk["calls"]?.arrayValue?.compactMap { $0["sid"]?.stringValue } == [mine[0].sid])
            let paged = try await api.get(api.path("/calls?page_size=1"))
            let token = try #require(paged["meta"]?["next_page_token"]?.stringValue)
            let rest = try await api.get(api.path("/calls?page_size=1&page_token=\(token)"))
            #expect(rest["calls"]?.arrayValue?.compactMap { $0["sid"]?.stringValue } == [mine[0].sid])
            try await api.expectRefused(400, "invalid_page_size", field: "page_size") { try await api.get(api.path("/calls?page_size=0")) }
            try await api.expectRefused(400, "invalid_direction", field: "direction") { try await api.get(api.path("/calls?direction=sideways")) }
            let theirCalls = try await api.get("/v1/accounts/\(api.other.sid)/calls", auth: api.otherAuth)
            #expect(theirCalls["calls"]?.arrayValue?.count == 1)
        }
    }
}
