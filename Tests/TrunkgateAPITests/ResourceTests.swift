import Crypto
import _CryptoExtras
import Foundation
import Testing
import TrunkgateAPI
import TrunkgateModel

func hex(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02x", $0) }.joined() }

/// Every resource endpoint: the success path (read back through the API and the store) and,
/// for each rule, a bad input that gets the right status and code and changes nothing.
@Suite("API resources")
struct ResourceTests {
    // MARK: Trunks

    @Test(arguments: StoreBackend.all)
    func trunks(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let created = try await api.post(api.path("/trunks"), ["trunk_name": "main_1", "max_cps": 5])
            expectDocumented(created, "createTrunk")
            let sid = try #require(created["sid"]?.stringValue)
            #expect(SID.isValid(sid, .trunk))
            #expect(created.header("Location") == api.path("/trunks/\(sid)"))
            #expect(created["account_sid"]?.stringValue == api.account.sid)
            #expect(created["domain_name"]?.stringValue == "\(sid.lowercased()).sip.example.net", "default domain under the edge domain")
            #expect(created["realm"] == created["domain_name"], "realm defaults to the domain")
            #expect(created["auth_type"]?.stringValue == "credential")
            #expect(created["digest_algorithms"] == .array(Trunk.defaultDigestAlgorithms.map { .string($0) }))
            #expect(created["max_cps"]?.intValue == 5)
            #expect(created["max_concurrent_calls"]?.isNull ?? true, "absent or null when not set")
            #expect(created["restrict_caller_id"] == .bool(false), "caller ID not restricted by default")

            let fetched = try await api.get(api.path("/trunks/\(sid)"))
            expectDocumented(fetched, "getTrunk")
            #expect(fetched.json == created.json)
            let list = try await api.get(api.path("/trunks"))
            expectDocumented(list, "listTrunks")
            #expect(list["trunks"]?.arrayValue == [try #require(created.json)])

            let domain = uniqueDomain()
            let explicit = try await api.post(api.path("/trunks"), [
                "trunk_name": "Second", "domain_name": .string(domain.uppercased()), "auth_type": "ip_acl_and_credential",
                "realm": "voice.example.org", "digest_algorithms": ["SHA-512-256", "SHA-256"], "max_concurrent_calls": 30,
            ])
            expectDocumented(explicit, "createTrunk")
            #expect(explicit["domain_name"]?.stringValue == domain, "stored lower-cased")
            #expect(explicit["realm"]?.stringValue == "voice.example.org")
            #expect(explicit["auth_type"]?.stringValue == "ip_acl_and_credential")

            // Partial update, by POST and by PATCH.
            let updated = try await api.post(api.path("/trunks/\(sid)"), ["trunk_name": "renamed", "max_cps": .null])
            expectDocumented(updated, "updateTrunk")
            #expect(updated["trunk_name"]?.stringValue == "renamed" && (updated["max_cps"]?.isNull ?? true))
            #expect(updated["domain_name"] == created["domain_name"])
            let patched = try await api.call("PATCH", api.path("/trunks/\(sid)"), json: ["auth_type": "ip_acl", "realm": "r.example.com"])
            expectDocumented(patched, "patchTrunk")
            #expect(patched["auth_type"]?.stringValue == "ip_acl" && patched["trunk_name"]?.stringValue == "renamed")
            let stored = try #require(try await api.store.trunk(account: api.account.sid, sid: sid))
            #expect(stored.trunkName == "renamed" && stored.authType == .ipACL && stored.realm == "r.example.com" && stored.maxCPS == nil)
            let restricted = try await api.call("PATCH", api.path("/trunks/\(sid)"), json: ["restrict_caller_id": true])
            expectDocumented(restricted, "patchTrunk")
            #expect(restricted["restrict_caller_id"] == .bool(true))
            #expect(try await api.store.trunk(account: api.account.sid, sid: sid)?.restrictCallerID == true)
            try await api.expectRefused(400, "invalid_type", field: "restrict_caller_id") {
                try await api.call("PATCH", api.path("/trunks/\(sid)"), json: ["restrict_caller_id": "yes"])
            }
            try await api.expectRefused(400, "invalid_type", field: "restrict_caller_id") {
                try await api.call("PATCH", api.path("/trunks/\(sid)"), json: ["restrict_caller_id": .null])
            }
            #expect(try await api.store.trunk(account: api.account.sid, sid: sid)?.restrictCallerID == true)

            // Rules.
            let trunks = api.path("/trunks")
            for bad in ["", "seventeen_chars_x", "has space", "dash-no"] {
                try await api.expectRefused(422, "invalid_trunk_name", field: "trunk_name") { try await api.post(trunks, ["trunk_name": .string(bad)]) }
            }
            for bad in ["192.0.2.1", "no_underscores.example.com", "single", "-x.example.com"] {
                try await api.expectRefused(422, "invalid_domain_name", field: "domain_name") {
                    try await api.post(trunks, ["trunk_name": "x", "domain_name": .string(bad)])
                }
            }
            try await api.expectRefused(409, "duplicate_domain_name", field: "domain_name") {
                try await api.post(trunks, ["trunk_name": "dup", "domain_name": .string(domain)])
            }
            try await api.expectRefused(409, "duplicate_domain_name", field: "domain_name") {
                try await api.post("/v1/accounts/\(api.other.sid)/trunks", ["trunk_name": "dup", "domain_name": .string(domain)], auth: api.otherAuth)
            }
            try await api.expectRefused(422, "invalid_auth_type", field: "auth_type") { try await api.post(trunks, ["trunk_name": "x", "auth_type": "open"]) }
            try await api.expectRefused(422, "invalid_realm", field: "realm") { try await api.post(trunks, ["trunk_name": "x", "realm": "a\"b"]) }
            try await api.expectRefused(422, "invalid_digest_algorithms", field: "digest_algorithms") {
                try await api.post(trunks, ["trunk_name": "x", "digest_algorithms": ["SHA-1"]])
            }
            try await api.expectRefused(422, "invalid_digest_algorithms", field: "digest_algorithms") {
                try await api.post(trunks, ["trunk_name": "x", "digest_algorithms": []])
            }
            try await api.expectRefused(422, "invalid_max_cps", field: "max_cps") { try await api.post(trunks, ["trunk_name": "x", "max_cps": 0]) }
            try await api.expectRefused(422, "invalid_max_concurrent_calls", field: "max_concurrent_calls") {
                try await api.post(trunks, ["trunk_name": "x", "max_concurrent_calls": -1])
            }
            try await api.expectRefused(422, "ip_acl_not_found", field: "ip_acl_sid") {
                try await api.post(trunks, ["trunk_name": "x", "ip_acl_sid": .string(SID.make(.ipACL))])
            }
            try await api.expectRefused(422, "invalid_trunk_name", field: "trunk_name") { try await api.post(api.path("/trunks/\(sid)"), ["trunk_name": "bad name"]) }
            try await api.expectRefused(400, "invalid_type", field: "trunk_name") { try await api.post(api.path("/trunks/\(sid)"), ["trunk_name": .null]) }
            try await api.expectRefused(409, "duplicate_domain_name", field: "domain_name") {
                try await api.post(api.path("/trunks/\(sid)"), ["domain_name": .string(domain)])
            }
            try await api.expectRefused(404, "not_found") { try await api.get(api.path("/trunks/\(SID.make(.trunk))")) }
            try await api.expectRefused(404, "not_found") { try await api.get(api.path("/trunks/not-a-sid")) }
            try await api.expectRefused(404, "not_found") { try await api.post(api.path("/trunks/\(SID.make(.trunk))"), ["trunk_name": "x"]) }

            // Delete.
            let deleted = try await api.delete(api.path("/trunks/\(sid)"))
            expectDocumented(deleted, "deleteTrunk")
            #expect(deleted.body.isEmpty)
            #expect(try await api.get(api.path("/trunks/\(sid)")).status == 404)
            try await api.expectRefused(404, "not_found") { try await api.delete(api.path("/trunks/\(sid)")) }
            #expect(try await api.store.trunk(account: api.account.sid, sid: sid) == nil)
        }
    }

    @Test(arguments: StoreBackend.all)
    func trunkLimit(_ backend: StoreBackend) async throws {
        try await withAPI(backend, configure: { $0.limits.maxTrunks = 2 }) { api in
            for name in ["a", "b"] { #expect(try await api.post(api.path("/trunks"), ["trunk_name": .string(name)]).status == 201) }
            let refused = try await api.expectRefused(422, "limit_exceeded") { try await api.post(api.path("/trunks"), ["trunk_name": "c"]) }
            #expect(refused["error"]?["message"]?.stringValue?.contains("2 trunks") == true)
            #expect(try await api.store.trunks(account: api.account.sid, page: PageRequest()).items.count == 2)
        }
    }

    // MARK: Credentials

    @Test(arguments: StoreBackend.all)
    func credentials(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let trunk = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "cred"])["sid"]?.stringValue)
            let trunkJSON = try await api.get(api.path("/trunks/\(trunk)"))
            let realm = try #require(trunkJSON["realm"]?.stringValue)
            let base = api.path("/trunks/\(trunk)/credentials")
            let password = "Secr3tPassw0rdXYZ"
            let versionBefore = try await api.store.currentConfigVersion()

            let created = try await api.post(base, ["user_name": "alice.pbx", "password": .string(password), "friendly_name": "Alice's PBX"])
            expectDocumented(created, "createCredential")
            let sid = try #require(created["sid"]?.stringValue)
            #expect(SID.isValid(sid, .credential))
            #expect(created.header("Location") == "\(base)/\(sid)")
            #expect(created["user_name"]?.stringValue == "alice.pbx" && created["realm"]?.stringValue == realm)
            #expect(created["friendly_name"]?.stringValue == "Alice's PBX")
            #expect(created["last_used_at"]?.isNull == true)
            for secretish in ["password", "ha1", "ha1_md5", "ha1_sha256", "ha1_sha512_256"] { #expect(created[secretish] == nil) }

            // Stored only as HA1 digests of user:realm:password, which reach the edge's configuration.
            let input = Data("alice.pbx:\(realm):\(password)".utf8)
            let config = try #require(try await api.store.loadTrunkConfiguration(sid: trunk))
            let stored = try #require(config.credentials["alice.pbx"])
            #expect(stored.ha1MD5 == hex(Insecure.MD5.hash(data: input)))
            #expect(stored.ha1SHA256 == hex(SHA256.hash(data: input)))
            #expect(stored.ha1SHA512_256 == hex(SHA512256.hash(data: input)))
            let changes = try await api.store.configChanges(after: versionBefore, limit: 1000)
            #expect(changes.contains { $0.kind == "credential" && $0.trunkSid == trunk && $0.accountSid == api.account.sid })

            let fetched = try await api.get("\(base)/\(sid)")
            expectDocumented(fetched, "getCredential")
            #expect(fetched.json == created.json)
            let list = try await api.get(base)
            expectDocumented(list, "listCredentials")
            #expect(list["credentials"]?.arrayValue?.compactMap { $0["sid"]?.stringValue } == [sid])

            // Rotation: a second credential, then the old one deleted.
            let second = try await api.post(base, ["user_name": "alice-2", "password": "An0therGoodPassword"])
            #expect(second.status == 201)

            // Rules.
            for bad in ["short1", "alllowercase123", "ALLUPPERCASE123", "NoDigitsHereAtAll", String(repeating: "Aa1", count: 43)] {
                let r = try await api.expectRefused(422, "invalid_password", field: "password") {
                    try await api.post(base, ["user_name": "bob", "password": .string(bad)])
                }
                #expect(!r.text.contains(bad), "the error never repeats the password")
            }
            for bad in ["ab", "has space", "semi;colon", String(repeating: "u", count: 65)] {
                try await api.expectRefused(422, "invalid_user_name", field: "user_name") {
                    try await api.post(base, ["user_name": .string(bad), "password": .string(password)])
                }
            }
            try await api.expectRefused(409, "duplicate_user_name", field: "user_name") {
                try await api.post(base, ["user_name": "alice.pbx", "password": "Different0nePassword"])
            }
            try await api.expectRefused(422, "invalid_friendly_name", field: "friendly_name") {
                try await api.post(base, ["user_name": "carol", "password": .string(password), "friendly_name": .string(String(repeating: "f", count: 65))])
            }
            try await api.expectRefused(400, "missing_field", field: "password") { try await api.post(base, ["user_name": "carol"]) }
            try await api.expectRefused(404, "not_found") {
                try await api.post(api.path("/trunks/\(SID.make(.trunk))/credentials"), ["user_name": "carol", "password": .string(password)])
            }
            // The realm is part of every HA1: it cannot change under existing credentials.
            try await api.expectRefused(409, "realm_in_use", field: "realm") { try await api.post(api.path("/trunks/\(trunk)"), ["realm": "new.example.com"]) }

            let deleted = try await api.delete("\(base)/\(sid)")
            expectDocumented(deleted, "deleteCredential")
            try await api.expectRefused(404, "not_found") { try await api.get("\(base)/\(sid)") }
            try await api.expectRefused(404, "not_found") { try await api.delete("\(base)/\(sid)") }
            let after = try #require(try await api.store.loadTrunkConfiguration(sid: trunk))
            #expect(Array(after.credentials.keys) == ["alice-2"])

            #expect(!api.logs.text.contains(password) && !api.logs.text.contains("An0therGoodPassword"), "passwords never logged")
        }
    }

    @Test(arguments: StoreBackend.all)
    func credentialLimitPerAccount(_ backend: StoreBackend) async throws {
        try await withAPI(backend, configure: { $0.limits.maxCredentials = 2 }) { api in
            let t1 = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "one"])["sid"]?.stringValue)
            let t2 = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "two"])["sid"]?.stringValue)
            #expect(try await api.post(api.path("/trunks/\(t1)/credentials"), ["user_name": "u1", "password": "Passw0rdPassw0rd"]).status == 422)
            #expect(try await api.post(api.path("/trunks/\(t1)/credentials"), ["user_name": "user1", "password": "Passw0rdPassw0rd"]).status == 201)
            #expect(try await api.post(api.path("/trunks/\(t2)/credentials"), ["user_name": "user2", "password": "Passw0rdPassw0rd"]).status == 201)
            try await api.expectRefused(422, "limit_exceeded") {
                try await api.post(api.path("/trunks/\(t2)/credentials"), ["user_name": "user3", "password": "Passw0rdPassw0rd"])
            }
        }
    }

    // MARK: Phone numbers

    @Test(arguments: StoreBackend.all)
    func phoneNumbers(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let trunk = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "dids"])["sid"]?.stringValue)
            let base = api.path("/trunks/\(trunk)/phone-numbers")
            let number = uniqueNumber()
            let created = try await api.post(base, ["phone_number": .string(number)])
            expectDocumented(created, "createPhoneNumber")
            let sid = try #require(created["sid"]?.stringValue)
            #expect(created["phone_number"]?.stringValue == number && created["trunk_sid"]?.stringValue == trunk)
            #expect(created.header("Location") == "\(base)/\(sid)")
            expectDocumented(try await api.get("\(base)/\(sid)"), "getPhoneNumber")
            let list = try await api.get(base)
            expectDocumented(list, "listPhoneNumbers")
            #expect(list["phone_numbers"]?.arrayValue?.count == 1)
            #expect(try await api.store.loadEdgeConfiguration().trunk(forNumber: number)?.trunk.sid == trunk)

            for bad in ["12025550100", "+0123456789", "+1234567", "+1234567890123456", "+1-202-555-0100"] {
                try await api.expectRefused(422, "invalid_phone_number", field: "phone_number") { try await api.post(base, ["phone_number": .string(bad)]) }
            }
            try await api.expectRefused(409, "duplicate_phone_number", field: "phone_number") { try await api.post(base, ["phone_number": .string(number)]) }
            // Unique across the whole system: another tenant cannot claim it either.
            let theirTrunk = try #require(try await api.post("/v1/accounts/\(api.other.sid)/trunks", ["trunk_name": "theirs"], auth: api.otherAuth)["sid"]?.stringValue)
            try await api.expectRefused(409, "duplicate_phone_number", field: "phone_number") {
                try await api.post("/v1/accounts/\(api.other.sid)/trunks/\(theirTrunk)/phone-numbers", ["phone_number": .string(number)], auth: api.otherAuth)
            }

            expectDocumented(try await api.delete("\(base)/\(sid)"), "deletePhoneNumber")
            try await api.expectRefused(404, "not_found") { try await api.get("\(base)/\(sid)") }
            #expect(try await api.store.loadEdgeConfiguration().trunk(forNumber: number) == nil)
        }
    }

    // MARK: Whitelisted IPs

    @Test(arguments: StoreBackend.all)
    func whitelistedIPs(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let trunk = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "wl", "auth_type": "ip_acl"])["sid"]?.stringValue)
            let base = api.path("/trunks/\(trunk)/whitelisted-ips")
            let empty = try await api.get(base)
            expectDocumented(empty, "listWhitelistedIPs")
            #expect(empty["whitelisted_ips"]?.arrayValue?.isEmpty == true)

            let created = try await api.post(base, ["ip": "203.0.113.50", "mask": 32, "description": "office"])
            expectDocumented(created, "createWhitelistedIP")
            let sid = try #require(created["sid"]?.stringValue)
            #expect(created["ip"]?.stringValue == "203.0.113.50" && created["mask"]?.intValue == 32)
            let v6 = try await api.post(base, ["ip": "2001:DB8:0:0::", "mask": 48])
            #expect(v6.status == 201 && v6["ip"]?.stringValue == "2001:db8::")
            let single = try await api.post(base, ["ip": "198.51.100.7"])
            #expect(single["mask"]?.intValue == 32, "default: one address")

            expectDocumented(try await api.get("\(base)/\(sid)"), "getWhitelistedIP")
            #expect(try await api.get(base)["whitelisted_ips"]?.arrayValue?.count == 3)
            let config = try #require(try await api.store.loadTrunkConfiguration(sid: trunk))
            #expect(config.aclAllows(IPAddress("203.0.113.50")!) && config.aclAllows(IPAddress("2001:db8::1")!))
            #expect(!config.aclAllows(IPAddress("203.0.113.51")!))
            // The trunk's own ACL is not an account-level ACL.
            #expect(try await api.get(api.path("/ip-acls"))["ip_acls"]?.arrayValue?.isEmpty == true)

            try await api.expectRefused(422, "invalid_ip_address", field: "ip") { try await api.post(base, ["ip": "pbx.example.com"]) }
            try await api.expectRefused(422, "invalid_ip_address", field: "ip") { try await api.post(base, ["ip": "203.0.113.256"]) }
            try await api.expectRefused(422, "invalid_cidr_prefix", field: "mask") { try await api.post(base, ["ip": "203.0.113.0", "mask": 33]) }
            try await api.expectRefused(422, "invalid_cidr_prefix", field: "mask") { try await api.post(base, ["ip": "2001:db8::", "mask": 129]) }
            try await api.expectRefused(422, "invalid_cidr", field: "ip") { try await api.post(base, ["ip": "203.0.113.5", "mask": 24]) }
            try await api.expectRefused(422, "invalid_description", field: "description") {
                try await api.post(base, ["ip": "192.0.2.9", "description": .string(String(repeating: "d", count: 256))])
            }

            expectDocumented(try await api.delete("\(base)/\(sid)"), "deleteWhitelistedIP")
            try await api.expectRefused(404, "not_found") { try await api.get("\(base)/\(sid)") }
            #expect(try await api.store.loadTrunkConfiguration(sid: trunk)?.aclAllows(IPAddress("203.0.113.50")!) == false)
        }
    }

    // MARK: Destination URIs

    @Test(arguments: StoreBackend.all)
    func destinationURIs(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let trunk = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "dest"])["sid"]?.stringValue)
            let base = api.path("/trunks/\(trunk)/destination-uris")
            let secret = "outb0und-Secret!"
            let created = try await api.post(base, [
                "destination": "agent.example.com:5061;transport=tls", "priority": 5, "weight": 20,
                "auth_username": "edge", "auth_password": .string(secret),
            ])
            expectDocumented(created, "createDestinationURI")
            let sid = try #require(created["sid"]?.stringValue)
            #expect(created["has_auth_password"]?.boolValue == true && created["auth_username"]?.stringValue == "edge")
            #expect(created["auth_password"] == nil && !created.text.contains(secret))
            let plain = try await api.post(base, ["destination": "sip:[2001:db8::5]:5060"])
            #expect(plain.status == 201 && plain["priority"]?.intValue == 10 && plain["weight"]?.intValue == 10)
            #expect(plain["has_auth_password"]?.boolValue == false)

            // Sealed with the server key: the store holds no plaintext, the key opens it.
            let stored = try #require(try await api.store.destination(account: api.account.sid, trunk: trunk, sid: sid))
            let sealed = try #require(stored.authPasswordSealed)
            #expect(!sealed.contains(secret))
            #expect(try api.options.sealer.open(sealed) == secret)

            let fetched = try await api.get("\(base)/\(sid)")
            expectDocumented(fetched, "getDestinationURI")
            #expect(!fetched.text.contains(secret))
            let list = try await api.get(base)
            expectDocumented(list, "listDestinationURIs")
            #expect(list["destination_uris"]?.arrayValue?.count == 2 && !list.text.contains(secret))

            for bad in ["", "agent.example.com:99999", "agent.example.com;transport=sctp", "http://x.example.com", "[::1", "a b.example.com"] {
                try await api.expectRefused(422, "invalid_destination", field: "destination") { try await api.post(base, ["destination": .string(bad)]) }
            }
            try await api.expectRefused(422, "invalid_priority", field: "priority") { try await api.post(base, ["destination": "a.example.com", "priority": 70000]) }
            try await api.expectRefused(422, "invalid_weight", field: "weight") { try await api.post(base, ["destination": "a.example.com", "weight": -1]) }
            try await api.expectRefused(422, "auth_username_required", field: "auth_username") {
                try await api.post(base, ["destination": "a.example.com", "auth_password": "x"])
            }
            try await api.expectRefused(422, "invalid_auth_username", field: "auth_username") {
                try await api.post(base, ["destination": "a.example.com", "auth_username": "a b", "auth_password": "x"])
            }

            expectDocumented(try await api.delete("\(base)/\(sid)"), "deleteDestinationURI")
            try await api.expectRefused(404, "not_found") { try await api.get("\(base)/\(sid)") }
            #expect(!api.logs.text.contains(secret), "outbound passwords never logged")
        }
    }

    // MARK: IP ACLs and entries

    @Test(arguments: StoreBackend.all)
    func ipACLs(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let acls = api.path("/ip-acls")
            let created = try await api.post(acls, ["name": "carrier gateways"])
            expectDocumented(created, "createIPACL")
            let acl = try #require(created["sid"]?.stringValue)
            #expect(created.header("Location") == "\(acls)/\(acl)")
            expectDocumented(try await api.get("\(acls)/\(acl)"), "getIPACL")
            let list = try await api.get(acls)
            expectDocumented(list, "listIPACLs")
            #expect(list["ip_acls"]?.arrayValue?.count == 1)
            let renamed = try await api.post("\(acls)/\(acl)", ["name": "carriers"])
            expectDocumented(renamed, "updateIPACL")
            #expect(renamed["name"]?.stringValue == "carriers")
            let patched = try await api.call("PATCH", "\(acls)/\(acl)", json: ["name": "carriers-2"])
            expectDocumented(patched, "patchIPACL")
            #expect(try await api.store.ipACL(account: api.account.sid, sid: acl)?.name == "carriers-2")

            // Entries.
            let entries = "\(acls)/\(acl)/entries"
            let entry = try await api.post(entries, ["ip_address": "192.0.2.0", "cidr_prefix_length": 24, "description": "gw pool"])
            expectDocumented(entry, "createIPACLEntry")
            let entrySid = try #require(entry["sid"]?.stringValue)
            #expect(entry["ip_acl_sid"]?.stringValue == acl)
            expectDocumented(try await api.get("\(entries)/\(entrySid)"), "getIPACLEntry")
            let entryList = try await api.get(entries)
            expectDocumented(entryList, "listIPACLEntries")
            #expect(entryList["entries"]?.arrayValue?.count == 1)

            try await api.expectRefused(422, "invalid_ip_address", field: "ip_address") { try await api.post(entries, ["ip_address": "gw.example.com"]) }
            try await api.expectRefused(422, "invalid_cidr_prefix", field: "cidr_prefix_length") {
                try await api.post(entries, ["ip_address": "192.0.2.0", "cidr_prefix_length": 40])
            }
            try await api.expectRefused(422, "invalid_cidr", field: "ip_address") { try await api.post(entries, ["ip_address": "192.0.2.1", "cidr_prefix_length": 24]) }
            try await api.expectRefused(400, "missing_field", field: "name") { try await api.post(acls, [:]) }
            try await api.expectRefused(422, "invalid_name", field: "name") { try await api.post(acls, ["name": .string(String(repeating: "n", count: 121))]) }
            try await api.expectRefused(422, "invalid_name", field: "name") { try await api.post(acls, ["name": ""]) }
            try await api.expectRefused(422, "invalid_name", field: "name") { try await api.post("\(acls)/\(acl)", ["name": ""]) }
            try await api.expectRefused(404, "not_found") { try await api.post("\(acls)/\(SID.make(.ipACL))/entries", ["ip_address": "192.0.2.0"]) }

            // Assigned to a trunk: the edge sees its entries; it cannot be deleted until unassigned.
            let trunk = try await api.post(api.path("/trunks"), ["trunk_name": "acl", "auth_type": "ip_acl", "ip_acl_sid": .string(acl)])
            #expect(trunk.status == 201 && trunk["ip_acl_sid"]?.stringValue == acl)
            let trunkSid = try #require(trunk["sid"]?.stringValue)
            #expect(try await api.store.loadTrunkConfiguration(sid: trunkSid)?.aclAllows(IPAddress("192.0.2.77")!) == true)
            let version = try await api.store.currentConfigVersion()
            #expect(try await api.post(entries, ["ip_address": "2001:db8:1::", "cidr_prefix_length": 48]).status == 201)
            #expect(try await api.store.configChanges(after: version, limit: 100).contains { $0.kind == "ip_acl" && $0.trunkSid == trunkSid })
            #expect(try await api.store.loadTrunkConfiguration(sid: trunkSid)?.aclAllows(IPAddress("2001:db8:1::9")!) == true)

            try await api.expectRefused(409, "ip_acl_in_use") { try await api.delete("\(acls)/\(acl)") }
            let unassigned = try await api.post(api.path("/trunks/\(trunkSid)"), ["ip_acl_sid": .null])
            #expect(unassigned.status == 200 && (unassigned["ip_acl_sid"]?.isNull ?? true))
            #expect(try await api.store.trunk(account: api.account.sid, sid: trunkSid)?.ipACLSid == nil)

            expectDocumented(try await api.delete("\(entries)/\(entrySid)"), "deleteIPACLEntry")
            try await api.expectRefused(404, "not_found") { try await api.get("\(entries)/\(entrySid)") }
            expectDocumented(try await api.delete("\(acls)/\(acl)"), "deleteIPACL")
            try await api.expectRefused(404, "not_found") { try await api.get("\(acls)/\(acl)") }
            #expect(try await api.store.ipACL(account: api.account.sid, sid: acl) == nil)
        }
    }

    @Test(arguments: StoreBackend.all)
    func ipACLLimits(_ backend: StoreBackend) async throws {
        try await withAPI(backend, configure: { $0.limits.maxIPACLs = 1; $0.limits.maxEntriesPerACL = 2 }) { api in
            let acl = try #require(try await api.post(api.path("/ip-acls"), ["name": "only"])["sid"]?.stringValue)
            try await api.expectRefused(422, "limit_exceeded") { try await api.post(api.path("/ip-acls"), ["name": "second"]) }
            let entries = api.path("/ip-acls/\(acl)/entries")
            for ip in ["192.0.2.1", "192.0.2.2"] { #expect(try await api.post(entries, ["ip_address": .string(ip)]).status == 201) }
            try await api.expectRefused(422, "limit_exceeded") { try await api.post(entries, ["ip_address": "192.0.2.3"]) }
            // A trunk's whitelisted IPs are an ACL too, under the same per-ACL entry limit.
            let trunk = try #require(try await api.post(api.path("/trunks"), ["trunk_name": "t"])["sid"]?.stringValue)
            let wl = api.path("/trunks/\(trunk)/whitelisted-ips")
            for ip in ["198.51.100.1", "198.51.100.2"] { #expect(try await api.post(wl, ["ip": .string(ip)]).status == 201) }
            try await api.expectRefused(422, "limit_exceeded") { try await api.post(wl, ["ip": "198.51.100.3"]) }
        }
    }
}
