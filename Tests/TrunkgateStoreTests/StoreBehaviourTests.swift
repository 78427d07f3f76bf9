import Foundation
import Testing
import TrunkgateModel
import TrunkgateStore

/// One suite of store behaviours, run against every backend in ``StoreBackend/all``.
@Suite("Store behaviours")
struct StoreBehaviourTests {
    // MARK: Accounts

    @Test(arguments: StoreBackend.all)
    func accountsAndKeys(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = Account(name: "acme")
            let key = APIToken.makeKey(accountSid: account.sid, token: "tg_secret")
            try await store.createAccount(account, key: key)
            let read = try #require(try await store.account(account.sid))
            #expect(read.sid == account.sid && read.name == "acme")
            #expect(abs(read.createdAt.timeIntervalSince(account.createdAt)) < 0.001)
            let readKey = try #require(try await store.apiKey(key.sid))
            #expect(readKey.accountSid == account.sid && readKey.tokenHash == key.tokenHash && readKey.salt == key.salt)
            #expect(APIToken.verify("tg_secret", against: readKey))
            #expect(try await store.account(SID.make(.account)) == nil)
            #expect(try await store.apiKey(SID.make(.apiKey)) == nil)
            // The same sid again is a conflict and writes nothing (not even the second key).
            let key2 = APIToken.makeKey(accountSid: account.sid, token: "other")
            await expectStoreError(.conflict, "duplicate") { try await store.createAccount(Account(sid: account.sid, name: "dup"), key: key2) }
            #expect(try await store.apiKey(key2.sid) == nil)
            #expect(try await store.account(account.sid)?.name == "acme")
            #expect(await store.ping())
        }
    }

    // MARK: Trunks

    @Test(arguments: StoreBackend.all)
    func trunkLifecycle(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store, name: "other")
            let domain = uniqueDomain()
            let created = try await store.createTrunk(
                Trunk(accountSid: account.sid, trunkName: "main_1", domainName: domain.uppercased(), authType: .ipACLAndCredential,
                      realm: "realm.example.com", digestAlgorithms: ["SHA-256", "MD5"], maxCPS: 5, maxConcurrentCalls: 20),
                limits: .default)
            #expect(created.domainName == domain, "domain names are stored lower-cased")
            let read = try #require(try await store.trunk(account: account.sid, sid: created.sid))
            #expect(read == created)
            #expect(read.authType == .ipACLAndCredential && read.realm == "realm.example.com" && read.digestAlgorithms == ["SHA-256", "MD5"])
            #expect(read.maxCPS == 5 && read.maxConcurrentCalls == 20 && read.ipACLSid == nil)

            // Another account sees nothing and can change nothing.
            #expect(try await store.trunk(account: other.sid, sid: created.sid) == nil)
            #expect(try await store.trunks(account: other.sid, page: PageRequest()).items.isEmpty)
            var foreign = created
            foreign.accountSid = other.sid
            foreign.trunkName = "stolen"
            await expectStoreError(.notFound, "not_found") { _ = try await store.updateTrunk(foreign) }
            await expectStoreError(.notFound, "not_found") { try await store.deleteTrunk(account: other.sid, sid: created.sid) }
            #expect(try await store.trunk(account: account.sid, sid: created.sid)?.trunkName == "main_1")

            // Update replaces the mutable fields and keeps created_at.
            let acl = try await store.createIPACL(IPACL(accountSid: account.sid, name: "office"), limits: .default)
            var change = created
            change.trunkName = "renamed"
            change.domainName = uniqueDomain()
            change.authType = .ipACL
            change.realm = "other.example.com"
            change.digestAlgorithms = ["SHA-512-256"]
            change.maxCPS = nil
            change.maxConcurrentCalls = 3
            change.ipACLSid = acl.sid
            let updated = try await store.updateTrunk(change)
            #expect(updated.createdAt == created.createdAt)
            #expect(updated.updatedAt >= created.updatedAt)
            let reread = try #require(try await store.trunk(account: account.sid, sid: created.sid))
            #expect(reread == updated)
            #expect(reread.trunkName == "renamed" && reread.authType == .ipACL && reread.ipACLSid == acl.sid && reread.maxCPS == nil)

            // An ACL of another account, or a trunk-owned one, cannot be assigned.
            let otherACL = try await store.createIPACL(IPACL(accountSid: other.sid, name: "theirs"), limits: .default)
            var bad = reread
            bad.ipACLSid = otherACL.sid
            await expectStoreError(.invalid, "unknown_ip_acl") { _ = try await store.updateTrunk(bad) }
            let owned = try #require(try await store.trunkOwnedACL(account: account.sid, trunk: created.sid, create: true))
            bad.ipACLSid = owned.sid
            await expectStoreError(.invalid, "unknown_ip_acl") { _ = try await store.updateTrunk(bad) }
            await expectStoreError(.invalid, "unknown_ip_acl") {
                _ = try await makeTrunk(store, account, ipACL: SID.make(.ipACL))
            }
            #expect(try await store.trunk(account: account.sid, sid: created.sid) == reread)

            try await store.deleteTrunk(account: account.sid, sid: created.sid)
            #expect(try await store.trunk(account: account.sid, sid: created.sid) == nil)
            await expectStoreError(.notFound, "not_found") { try await store.deleteTrunk(account: account.sid, sid: created.sid) }
            #expect(try await store.trunks(account: account.sid, page: PageRequest()).items.isEmpty)
            // Creating a trunk for an account that does not exist.
            await expectStoreError(.notFound, "not_found") {
                _ = try await store.createTrunk(Trunk(accountSid: SID.make(.account), trunkName: "x", domainName: uniqueDomain()), limits: .default)
            }
        }
    }

    @Test(arguments: StoreBackend.all)
    func domainNamesAreUniqueSystemWide(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let a = try await makeAccount(store)
            let b = try await makeAccount(store)
            let domain = uniqueDomain()
            let first = try await makeTrunk(store, a, domain: domain)
            let error = await expectStoreError(.conflict, "duplicate_domain_name") { _ = try await makeTrunk(store, b, domain: domain.uppercased()) }
            #expect(error?.field == "domain_name")
            #expect(try await store.trunks(account: b.sid, page: PageRequest()).items.isEmpty, "nothing written")
            // Renaming another trunk onto the domain is refused too, leaving it unchanged.
            var second = try await makeTrunk(store, a)
            let before = second
            second.domainName = domain
            await expectStoreError(.conflict, "duplicate_domain_name") { _ = try await store.updateTrunk(second) }
            #expect(try await store.trunk(account: a.sid, sid: second.sid) == before)
            #expect(try await store.trunk(account: a.sid, sid: first.sid)?.domainName == domain)
            // Once the first trunk is gone the domain is free again.
            try await store.deleteTrunk(account: a.sid, sid: first.sid)
            _ = try await makeTrunk(store, b, domain: domain)
        }
    }

    // MARK: Credentials

    @Test(arguments: StoreBackend.all)
    func credentialLifecycle(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let trunk2 = try await makeTrunk(store, account, name: "second")
            let alice = try await makeCredential(store, trunk, user: "alice")
            let read = try #require(try await store.credential(account: account.sid, trunk: trunk.sid, sid: alice.sid))
            #expect(read == alice)
            #expect(read.ha1MD5 == "md5-alice" && read.ha1SHA256 == "sha256-alice" && read.ha1SHA512_256 == "sha512-alice")
            #expect(read.lastUsedAt == nil && read.lastUsedIP == nil)

            // user_name is unique within a trunk, not across trunks.
            let dup = await expectStoreError(.conflict, "duplicate_user_name") { _ = try await makeCredential(store, trunk, user: "alice") }
            #expect(dup?.field == "user_name")
            #expect(try await store.credentials(account: account.sid, trunk: trunk.sid, page: PageRequest()).items.map(\.sid) == [alice.sid])
            _ = try await makeCredential(store, trunk2, user: "alice")

            // Tenant isolation, and a credential for a trunk of another account.
            #expect(try await store.credential(account: other.sid, trunk: trunk.sid, sid: alice.sid) == nil)
            #expect(try await store.credential(account: account.sid, trunk: trunk2.sid, sid: alice.sid) == nil)
            #expect(try await store.credentials(account: other.sid, trunk: trunk.sid, page: PageRequest()).items.isEmpty)
            await expectStoreError(.notFound, "not_found") {
                _ = try await store.createCredential(
                    Credential(accountSid: other.sid, trunkSid: trunk.sid, userName: "mallory", friendlyName: nil, ha1MD5: "x", ha1SHA256: "x",
                               ha1SHA512_256: "x", realm: "r"),
                    limits: .default)
            }
            await expectStoreError(.notFound, "not_found") { try await store.deleteCredential(account: other.sid, trunk: trunk.sid, sid: alice.sid) }

            // Usage is recorded (latest wins, older ones never overwrite).
            let t1 = Date(timeIntervalSince1970: 1_700_000_000.25)
            let t2 = t1.addingTimeInterval(60)
            try await store.recordCredentialUse([
                CredentialUse(credentialSid: alice.sid, at: t2, ip: "203.0.113.9"),
                CredentialUse(credentialSid: alice.sid, at: t1, ip: "203.0.113.1"),
            ])
            try await store.recordCredentialUse([CredentialUse(credentialSid: alice.sid, at: t1, ip: "198.51.100.1")])
            let used = try #require(try await store.credential(account: account.sid, trunk: trunk.sid, sid: alice.sid))
            #expect(used.lastUsedAt == t2 && used.lastUsedIP == "203.0.113.9")

            try await store.deleteCredential(account: account.sid, trunk: trunk.sid, sid: alice.sid)
            #expect(try await store.credential(account: account.sid, trunk: trunk.sid, sid: alice.sid) == nil)
            await expectStoreError(.notFound, "not_found") { try await store.deleteCredential(account: account.sid, trunk: trunk.sid, sid: alice.sid) }
            // The user name is free again.
            _ = try await makeCredential(store, trunk, user: "alice")
        }
    }

    // MARK: Phone numbers

    @Test(arguments: StoreBackend.all)
    func phoneNumberLifecycle(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let otherTrunk = try await makeTrunk(store, other)
            let number = uniqueNumber()
            let created = try await store.createPhoneNumber(PhoneNumber(accountSid: account.sid, trunkSid: trunk.sid, phoneNumber: number),
                                                            limits: .default)
            #expect(try await store.phoneNumber(account: account.sid, trunk: trunk.sid, sid: created.sid) == created)
            #expect(try await store.phoneNumber(account: other.sid, trunk: trunk.sid, sid: created.sid) == nil)

            // Unique across the whole system: another tenant cannot claim it.
            let dup = await expectStoreError(.conflict, "duplicate_phone_number") {
                _ = try await store.createPhoneNumber(PhoneNumber(accountSid: other.sid, trunkSid: otherTrunk.sid, phoneNumber: number),
                                                      limits: .default)
            }
            #expect(dup?.field == "phone_number")
            #expect(try await store.phoneNumbers(account: other.sid, trunk: otherTrunk.sid, page: PageRequest()).items.isEmpty)
            // A number on another account's trunk.
            await expectStoreError(.notFound, "not_found") {
                _ = try await store.createPhoneNumber(PhoneNumber(accountSid: other.sid, trunkSid: trunk.sid, phoneNumber: uniqueNumber()),
                                                      limits: .default)
            }
            #expect(try await store.phoneNumbers(account: account.sid, trunk: trunk.sid, page: PageRequest()).items == [created])

            await expectStoreError(.notFound, "not_found") { try await store.deletePhoneNumber(account: other.sid, trunk: trunk.sid, sid: created.sid) }
            try await store.deletePhoneNumber(account: account.sid, trunk: trunk.sid, sid: created.sid)
            #expect(try await store.phoneNumber(account: account.sid, trunk: trunk.sid, sid: created.sid) == nil)
            // Free again.
            _ = try await store.createPhoneNumber(PhoneNumber(accountSid: other.sid, trunkSid: otherTrunk.sid, phoneNumber: number), limits: .default)
        }
    }

    // MARK: IP ACLs

    @Test(arguments: StoreBackend.all)
    func ipACLLifecycle(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store)
            let acl = try await store.createIPACL(IPACL(accountSid: account.sid, name: "office"), limits: .default)
            #expect(try await store.ipACL(account: account.sid, sid: acl.sid) == acl)
            #expect(try await store.ipACL(account: other.sid, sid: acl.sid) == nil)

            var renamed = acl
            renamed.name = "hq"
            #expect(try await store.updateIPACL(renamed).name == "hq")
            #expect(try await store.ipACL(account: account.sid, sid: acl.sid)?.name == "hq")
            var foreign = renamed
            foreign.accountSid = other.sid
            await expectStoreError(.notFound, "not_found") { _ = try await store.updateIPACL(foreign) }

            let e1 = try await store.createIPACLEntry(IPACLEntry(aclSid: acl.sid, cidr: cidr("203.0.113.0/24"), description: "office"),
                                                      account: account.sid, limits: .default)
            let e2 = try await store.createIPACLEntry(IPACLEntry(aclSid: acl.sid, cidr: cidr("2001:db8::/32"), description: nil),
                                                      account: account.sid, limits: .default)
            #expect(try await store.ipACLEntry(account: account.sid, acl: acl.sid, sid: e1.sid) == e1)
            #expect(try await store.ipACLEntry(account: other.sid, acl: acl.sid, sid: e1.sid) == nil)
            let entries = try await store.ipACLEntries(account: account.sid, acl: acl.sid, page: PageRequest()).items
            #expect(Set(entries) == [e1, e2])
            #expect(entries.first { $0.sid == e2.sid }?.cidr == cidr("2001:db8::/32"))
            #expect(try await store.ipACLEntries(account: other.sid, acl: acl.sid, page: PageRequest()).items.isEmpty)
            await expectStoreError(.notFound, "not_found") {
                _ = try await store.createIPACLEntry(IPACLEntry(aclSid: acl.sid, cidr: cidr("10.0.0.0/8"), description: nil),
                                                     account: other.sid, limits: .default)
            }
            await expectStoreError(.notFound, "not_found") { try await store.deleteIPACLEntry(account: other.sid, acl: acl.sid, sid: e1.sid) }
            try await store.deleteIPACLEntry(account: account.sid, acl: acl.sid, sid: e1.sid)
            #expect(try await store.ipACLEntry(account: account.sid, acl: acl.sid, sid: e1.sid) == nil)

            // Assigned to a trunk: deleting it is a 409 until it is unassigned.
            var trunk = try await makeTrunk(store, account, authType: .ipACL, ipACL: acl.sid)
            await expectStoreError(.notFound, "not_found") { try await store.deleteIPACL(account: other.sid, sid: acl.sid) }
            await expectStoreError(.conflict, "ip_acl_in_use") { try await store.deleteIPACL(account: account.sid, sid: acl.sid) }
            #expect(try await store.ipACL(account: account.sid, sid: acl.sid) != nil)
            #expect(try await store.ipACLEntry(account: account.sid, acl: acl.sid, sid: e2.sid) == e2)
            trunk.ipACLSid = nil
            _ = try await store.updateTrunk(trunk)
            try await store.deleteIPACL(account: account.sid, sid: acl.sid)
            #expect(try await store.ipACL(account: account.sid, sid: acl.sid) == nil)
            #expect(try await store.ipACLEntry(account: account.sid, acl: acl.sid, sid: e2.sid) == nil)
            await expectStoreError(.notFound, "not_found") { try await store.deleteIPACL(account: account.sid, sid: acl.sid) }
        }
    }

    @Test(arguments: StoreBackend.all)
    func trunkOwnedACL(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store)
            let shared = try await store.createIPACL(IPACL(accountSid: account.sid, name: "shared"), limits: .default)
            let trunk = try await makeTrunk(store, account)
            #expect(try await store.trunkOwnedACL(account: account.sid, trunk: trunk.sid, create: false) == nil)
            await expectStoreError(.notFound, "not_found") { _ = try await store.trunkOwnedACL(account: other.sid, trunk: trunk.sid, create: true) }
            let owned = try #require(try await store.trunkOwnedACL(account: account.sid, trunk: trunk.sid, create: true))
            #expect(owned.ownerTrunkSid == trunk.sid && owned.accountSid == account.sid)
            #expect(try await store.trunkOwnedACL(account: account.sid, trunk: trunk.sid, create: true) == owned, "created once")
            #expect(try await store.trunkOwnedACL(account: account.sid, trunk: trunk.sid, create: false) == owned)
            #expect(try await store.trunkOwnedACL(account: other.sid, trunk: trunk.sid, create: false) == nil)
            let entry = try await store.createIPACLEntry(IPACLEntry(aclSid: owned.sid, cidr: cidr("198.51.100.7"), description: nil),
                                                         account: account.sid, limits: .default)
            // Not listed among the account's ACLs.
            #expect(try await store.ipACLs(account: account.sid, page: PageRequest()).items.map(\.sid) == [shared.sid])
            // Deleted with the trunk, entries included.
            try await store.deleteTrunk(account: account.sid, sid: trunk.sid)
            #expect(try await store.ipACL(account: account.sid, sid: owned.sid) == nil)
            #expect(try await store.ipACLEntry(account: account.sid, acl: owned.sid, sid: entry.sid) == nil)
            #expect(try await store.ipACL(account: account.sid, sid: shared.sid) != nil)
        }
    }

    // MARK: Destinations

    @Test(arguments: StoreBackend.all)
    func destinationLifecycle(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let d = try await store.createDestination(
                DestinationURI(accountSid: account.sid, trunkSid: trunk.sid, destination: "agent.example.com:5061;transport=tls", priority: 5,
                               weight: 20, authUsername: "out", authPasswordSealed: "c2VhbGVk"),
                limits: .default)
            let read = try #require(try await store.destination(account: account.sid, trunk: trunk.sid, sid: d.sid))
            #expect(read == d && read.authPasswordSealed == "c2VhbGVk" && read.priority == 5 && read.weight == 20)
            #expect(try await store.destination(account: other.sid, trunk: trunk.sid, sid: d.sid) == nil)
            #expect(try await store.destinations(account: account.sid, trunk: trunk.sid, page: PageRequest()).items == [d])
            await expectStoreError(.notFound, "not_found") {
                _ = try await store.createDestination(DestinationURI(accountSid: other.sid, trunkSid: trunk.sid, destination: "x.example.com"),
                                                      limits: .default)
            }
            await expectStoreError(.notFound, "not_found") { try await store.deleteDestination(account: other.sid, trunk: trunk.sid, sid: d.sid) }
            try await store.deleteDestination(account: account.sid, trunk: trunk.sid, sid: d.sid)
            #expect(try await store.destination(account: account.sid, trunk: trunk.sid, sid: d.sid) == nil)
        }
    }

    // MARK: Limits

    @Test(arguments: StoreBackend.all)
    func limitsAreEnforcedAndLeaveTheStoreUnchanged(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            var limits = AccountLimits()
            limits.maxTrunks = 2
            limits.maxCredentials = 2
            limits.maxIPACLs = 1
            limits.maxEntriesPerACL = 2
            limits.maxPhoneNumbers = 2
            limits.maxDestinationsPerTrunk = 2
            let account = try await makeAccount(store)

            let t1 = try await makeTrunk(store, account, name: "a", limits: limits)
            let t2 = try await makeTrunk(store, account, name: "b", limits: limits)
            let e = await expectStoreError(.limitExceeded, "limit_exceeded") { _ = try await makeTrunk(store, account, name: "c", limits: limits) }
            #expect(e?.message == "an account can have at most 2 trunks")
            #expect(try await store.trunks(account: account.sid, page: PageRequest()).items.count == 2)

            // Credentials count per account, across trunks.
            _ = try await makeCredential(store, t1, user: "one", limits: limits)
            _ = try await makeCredential(store, t2, user: "two", limits: limits)
            let ce = await expectStoreError(.limitExceeded, "limit_exceeded") { _ = try await makeCredential(store, t2, user: "three", limits: limits) }
            #expect(ce?.message == "an account can have at most 2 credentials")
            #expect(try await store.credentials(account: account.sid, trunk: t2.sid, page: PageRequest()).items.map(\.userName) == ["two"])

            // ACLs: the trunk-owned ones do not count.
            let acl = try await store.createIPACL(IPACL(accountSid: account.sid, name: "one"), limits: limits)
            _ = try await store.trunkOwnedACL(account: account.sid, trunk: t1.sid, create: true)
            let ae = await expectStoreError(.limitExceeded, "limit_exceeded") {
                _ = try await store.createIPACL(IPACL(accountSid: account.sid, name: "two"), limits: limits)
            }
            #expect(ae?.message == "an account can have at most 1 IP ACLs")
            #expect(try await store.ipACLs(account: account.sid, page: PageRequest()).items.map(\.sid) == [acl.sid])

            // Entries per ACL.
            for c in ["10.0.0.0/8", "192.0.2.0/24"] {
                _ = try await store.createIPACLEntry(IPACLEntry(aclSid: acl.sid, cidr: cidr(c), description: nil), account: account.sid, limits: limits)
            }
            let ee = await expectStoreError(.limitExceeded, "limit_exceeded") {
                _ = try await store.createIPACLEntry(IPACLEntry(aclSid: acl.sid, cidr: cidr("198.51.100.0/24"), description: nil),
                                                     account: account.sid, limits: limits)
            }
            #expect(ee?.message == "an IP ACL can have at most 2 entries")
            #expect(try await store.ipACLEntries(account: account.sid, acl: acl.sid, page: PageRequest()).items.count == 2)

            // Phone numbers per account.
            for t in [t1, t2] {
                _ = try await store.createPhoneNumber(PhoneNumber(accountSid: account.sid, trunkSid: t.sid, phoneNumber: uniqueNumber()), limits: limits)
            }
            let refused = uniqueNumber()
            await expectStoreError(.limitExceeded, "limit_exceeded") {
                _ = try await store.createPhoneNumber(PhoneNumber(accountSid: account.sid, trunkSid: t1.sid, phoneNumber: refused), limits: limits)
            }
            #expect(try await store.phoneNumbers(account: account.sid, trunk: t1.sid, page: PageRequest()).items.count == 1)

            // Destinations per trunk.
            for i in 0..<2 {
                _ = try await store.createDestination(DestinationURI(accountSid: account.sid, trunkSid: t1.sid, destination: "d\(i).example.com"),
                                                      limits: limits)
            }
            await expectStoreError(.limitExceeded, "limit_exceeded") {
                _ = try await store.createDestination(DestinationURI(accountSid: account.sid, trunkSid: t1.sid, destination: "d9.example.com"),
                                                      limits: limits)
            }
            #expect(try await store.destinations(account: account.sid, trunk: t1.sid, page: PageRequest()).items.count == 2)
            _ = try await store.createDestination(DestinationURI(accountSid: account.sid, trunkSid: t2.sid, destination: "d.example.com"),
                                                  limits: limits)

            // Deleting frees room.
            try await store.deleteTrunk(account: account.sid, sid: t2.sid)
            _ = try await makeTrunk(store, account, name: "c", limits: limits)
        }
    }

    @Test(arguments: StoreBackend.all)
    func concurrentCreatesRespectTheLimit(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            var five = AccountLimits()
            five.maxCredentials = 5
            let limits = five
            let account = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<12 {
                    group.addTask { (try? await makeCredential(store, trunk, user: "user\(i)", limits: limits)) != nil }
                }
                var ok = 0
                for await success in group where success { ok += 1 }
                return ok
            }
            #expect(outcomes == 5)
            #expect(try await store.credentials(account: account.sid, trunk: trunk.sid, page: PageRequest()).items.count == 5)
        }
    }

    // MARK: Pagination

    @Test(arguments: StoreBackend.all)
    func cursorPagination(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            var sids: [String] = []
            for i in 0..<7 { sids.append(try await makeTrunk(store, account, name: "t\(i)").sid) }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await store.trunks(account: account.sid, page: PageRequest(limit: 3, after: cursor))
                seen += page.items.map(\.sid)
                cursor = page.nextCursor
                pages += 1
                #expect(page.items.count == (pages < 3 ? 3 : 1))
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == sids.sorted())
            // An exact multiple of the page size ends without an extra empty page.
            let six = try await store.trunks(account: account.sid, page: PageRequest(limit: 7))
            #expect(six.items.count == 7 && six.nextCursor == nil)

            let trunk = try await makeTrunk(store, account, name: "creds")
            var creds: [String] = []
            for i in 0..<5 { creds.append(try await makeCredential(store, trunk, user: "user\(i)").sid) }
            let p1 = try await store.credentials(account: account.sid, trunk: trunk.sid, page: PageRequest(limit: 2))
            let p2 = try await store.credentials(account: account.sid, trunk: trunk.sid, page: PageRequest(limit: 2, after: p1.nextCursor))
            let p3 = try await store.credentials(account: account.sid, trunk: trunk.sid, page: PageRequest(limit: 2, after: p2.nextCursor))
            #expect((p1.items + p2.items + p3.items).map(\.sid) == creds.sorted())
            #expect(p3.nextCursor == nil)
        }
    }

    // MARK: Auth events

    @Test(arguments: StoreBackend.all)
    func authEventsNewestFirstWithFilters(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let base = Date(timeIntervalSince1970: 1_750_000_000)
            func event(_ i: Int, account: String?, result: AuthEvent.Result, reason: String, ip: String) -> AuthEvent {
                AuthEvent(accountSid: account, trunkSid: account == nil ? nil : trunk.sid, time: base.addingTimeInterval(Double(i)), sourceIP: ip,
                          sourcePort: 5060 + i, transport: "udp", method: "REGISTER", requestURI: "sip:\(trunk.domainName)",
                          userName: i % 2 == 0 ? "alice" : "bob", algorithm: "SHA-256", credentialSid: nil, result: result, reason: reason)
            }
            var events: [AuthEvent] = []
            for i in 0..<9 {
                events.append(event(i, account: account.sid, result: i % 3 == 0 ? .allowed : .rejected, reason: i % 3 == 0 ? "ok" : "wrong_password",
                                    ip: i < 5 ? "203.0.113.5" : "198.51.100.2"))
            }
            events.append(event(20, account: other.sid, result: .allowed, reason: "ok", ip: "203.0.113.5"))
            events.append(event(21, account: nil, result: .rejected, reason: "unknown_domain", ip: "203.0.113.5"))
            try await store.appendAuthEvents(Array(events[0..<4]))
            try await store.appendAuthEvents(Array(events[4...]))

            // Newest first, across pages.
            var all: [AuthEvent] = []
            var cursor: String?
            repeat {
                let page = try await store.authEvents(AuthEventQuery(accountSid: account.sid), page: PageRequest(limit: 4, after: cursor))
                all += page.items
                cursor = page.nextCursor
            } while cursor != nil && all.count < 100
            #expect(all.map(\.sid) == events[0..<9].reversed().map(\.sid))
            #expect(all.first == events[8])

            let q = { (f: (inout AuthEventQuery) -> Void) async throws -> [String] in
                var query = AuthEventQuery(accountSid: account.sid)
                f(&query)
                return try await store.authEvents(query, page: PageRequest(limit: 100)).items.map(\.sid)
            }
            #expect(try await q { $0.result = .allowed } == [8, 6, 3, 0].compactMap { i in i % 3 == 0 ? events[i].sid : nil })
            #expect(try await q { $0.reason = "wrong_password"; $0.sourceIP = "198.51.100.2" } == [8, 7, 6, 5].filter { $0 % 3 != 0 }.map { events[$0].sid })
            #expect(try await q { $0.userName = "bob" } == [7, 5, 3, 1].map { events[$0].sid })
            #expect(try await q { $0.trunkSid = trunk.sid; $0.since = base.addingTimeInterval(2); $0.until = base.addingTimeInterval(4) }
                    == [4, 3, 2].map { events[$0].sid })
            #expect(try await q { $0.trunkSid = "TK0000" }.isEmpty)
            await expectStoreError(.invalid, "invalid_cursor") {
                _ = try await store.authEvents(AuthEventQuery(accountSid: account.sid), page: PageRequest(after: "not-a-cursor"))
            }
        }
    }

    @Test(arguments: StoreBackend.all)
    func callRecordsRoundTripNewestFirstWithFilters(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let other = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let base = Date(timeIntervalSince1970: 1_750_000_000)
            func record(_ i: Int, account: String, direction: CallRecord.Direction, answered: Bool) -> CallRecord {
                let start = base.addingTimeInterval(Double(i * 10))
                return CallRecord(accountSid: account, trunkSid: i == 4 ? nil : trunk.sid, direction: direction, from: "sip:+1555019\(i)@pbx.test",
                                  to: "sip:+15550100@pbx.test", startTime: start, answerTime: answered ? start.addingTimeInterval(2) : nil,
                                  endTime: start.addingTimeInterval(9), hangupCause: answered ? "caller_bye" : "busy",
                                  hangupCauseCode: answered ? 200 : 486, authType: i % 2 == 0 ? "credential" : nil,
                                  authUser: i % 2 == 0 ? "alice" : nil, sourceIP: i % 2 == 0 ? "203.0.113.5" : nil)
            }
            var records: [CallRecord] = []
            for i in 0..<7 { records.append(record(i, account: account.sid, direction: i < 5 ? .outbound : .inbound, answered: i % 3 != 1)) }
            try await store.appendCallRecords(Array(records[0..<3]))
            try await store.appendCallRecords(Array(records[3...]) + [record(9, account: other.sid, direction: .outbound, answered: true)])

            var all: [CallRecord] = []
            var cursor: String?
            repeat {
                let page = try await store.callRecords(CallRecordQuery(accountSid: account.sid), page: PageRequest(limit: 3, after: cursor))
                all += page.items
                cursor = page.nextCursor
            } while cursor != nil && all.count < 100
            // Every field round-trips exactly, newest first, and another account's record is not listed.
            #expect(all == records.reversed())
            #expect(records[0].duration == 7 && records[1].duration == 0)

            let q = { (f: (inout CallRecordQuery) -> Void) async throws -> [String] in
                var query = CallRecordQuery(accountSid: account.sid)
                f(&query)
                return try await store.callRecords(query, page: PageRequest(limit: 100)).items.map(\.sid)
            }
            #expect(try await q { $0.direction = .inbound } == [6, 5].map { records[$0].sid })
            #expect(try await q { $0.direction = .outbound; $0.trunkSid = trunk.sid } == [3, 2, 1, 0].map { records[$0].sid })
            #expect(try await q { $0.since = base.addingTimeInterval(20); $0.until = base.addingTimeInterval(40) } == [4, 3, 2].map { records[$0].sid })
            #expect(try await q { $0.trunkSid = "TK0000" }.isEmpty)
            await expectStoreError(.invalid, "invalid_cursor") {
                _ = try await store.callRecords(CallRecordQuery(accountSid: account.sid), page: PageRequest(after: "x"))
            }
        }
    }

    // MARK: Lockouts and registrations

    @Test(arguments: StoreBackend.all)
    func lockouts(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let now = Date()
            try await store.upsertLockout(Lockout(ip: "203.0.113.7", accountSid: account.sid, lockedAt: now, until: now.addingTimeInterval(600), failures: 5))
            try await store.upsertLockout(Lockout(ip: "203.0.113.8", accountSid: account.sid, lockedAt: now.addingTimeInterval(-900),
                                                  until: now.addingTimeInterval(-300), failures: 5))
            try await store.upsertLockout(Lockout(ip: "203.0.113.7", accountSid: account.sid, lockedAt: now, until: now.addingTimeInterval(900), failures: 9))
            let active = try await store.lockouts(account: account.sid, now: now)
            #expect(active.map(\.ip) == ["203.0.113.7"])
            #expect(active.first?.failures == 9 && active.first?.accountSid == account.sid)
            #expect(try await store.activeLockouts(now: now).contains { $0.ip == "203.0.113.7" && $0.accountSid == account.sid })
            #expect(try await store.lockouts(account: SID.make(.account), now: now).isEmpty)
            #expect(try await store.deleteLockout(account: SID.make(.account), ip: "203.0.113.7") == false)
            #expect(try await store.deleteLockout(account: account.sid, ip: "203.0.113.7") == true)
            #expect(try await store.deleteLockout(account: account.sid, ip: "203.0.113.7") == false)
            #expect(try await store.lockouts(account: account.sid, now: now).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.all)
    func registrations(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let trunk2 = try await makeTrunk(store, account, name: "two")
            let now = Date()
            func binding(_ trunk: Trunk, _ contact: String, expires: TimeInterval, cseq: Int = 1) -> RegistrationBinding {
                RegistrationBinding(accountSid: account.sid, trunkSid: trunk.sid, aor: "sip:alice@\(trunk.domainName)", contact: contact,
                                    expiresAt: now.addingTimeInterval(expires), q: 1000, callID: "call-1", cseq: cseq, credentialSid: nil,
                                    sourceIP: "203.0.113.9", sourcePort: 5060, transport: "udp", userAgent: "test", updatedAt: now)
            }
            let a = binding(trunk, "sip:alice@203.0.113.9:5060", expires: 3600)
            try await store.upsertRegistration(a)
            try await store.upsertRegistration(binding(trunk, "sip:alice@203.0.113.9:5060", expires: 1800, cseq: 2))
            try await store.upsertRegistration(binding(trunk, "sip:alice@203.0.113.10:5060", expires: -10))
            try await store.upsertRegistration(binding(trunk2, "sip:alice@203.0.113.11:5060", expires: 60))
            let mine = try await store.registrations(account: account.sid, trunk: trunk.sid, page: PageRequest()).items
            #expect(mine.count == 2)
            let refreshed = try #require(mine.first { $0.contact == a.contact })
            #expect(refreshed.sid == a.sid && refreshed.cseq == 2, "a refresh updates the binding in place")
            #expect(try await store.registrations(account: account.sid, trunk: nil, page: PageRequest()).items.count == 3)
            #expect(try await store.registrations(account: SID.make(.account), trunk: nil, page: PageRequest()).items.isEmpty)
            let active = try await store.activeRegistrations(now: now).filter { $0.accountSid == account.sid }
            #expect(Set(active.map(\.contact)) == ["sip:alice@203.0.113.9:5060", "sip:alice@203.0.113.11:5060"])

            try await store.deleteRegistrations(trunk: trunk.sid, aor: a.aor, contact: a.contact)
            #expect(try await store.registrations(account: account.sid, trunk: trunk.sid, page: PageRequest()).items.count == 1)
            try await store.deleteRegistrations(trunk: trunk.sid, aor: a.aor, contact: nil)
            #expect(try await store.registrations(account: account.sid, trunk: trunk.sid, page: PageRequest()).items.isEmpty)
            // Bindings go with their trunk; a binding for a missing trunk is refused.
            try await store.deleteTrunk(account: account.sid, sid: trunk2.sid)
            #expect(try await store.registrations(account: account.sid, trunk: nil, page: PageRequest()).items.isEmpty)
            await expectStoreError(.notFound, "not_found") { try await store.upsertRegistration(binding(trunk2, "sip:x@192.0.2.1", expires: 60)) }
        }
    }

    /// The registrar's write-behind batch goes out as multi-row statements: repeated upserts of
    /// one binding, deletes between them and batches larger than one statement keep their order.
    @Test(arguments: StoreBackend.all)
    func registrationWriteBatches(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let now = Date()
            func binding(_ contact: String, cseq: Int) -> RegistrationBinding {
                RegistrationBinding(accountSid: account.sid, trunkSid: trunk.sid, aor: "sip:alice@\(trunk.domainName)", contact: contact,
                                    expiresAt: now.addingTimeInterval(3600), q: 1000, callID: "call-1", cseq: cseq, credentialSid: nil,
                                    sourceIP: "203.0.113.9", sourcePort: 5060, transport: "udp", userAgent: "test", updatedAt: now)
            }
            let a = binding("sip:a@203.0.113.9", cseq: 1), b = binding("sip:b@203.0.113.9", cseq: 1)
            var writes: [RegistrationWrite] = [.upsert(a), .upsert(b), .upsert(binding(a.contact, cseq: 3)), .upsert(binding(a.contact, cseq: 4))]
            writes.append(.delete(trunk: trunk.sid, aor: b.aor, contact: b.contact))
            writes.append(.upsert(binding(b.contact, cseq: 5)))
            writes += (0..<230).map { .upsert(binding("sip:u\($0)@203.0.113.9", cseq: 1)) }
            writes.append(.upsert(binding("sip:u7@203.0.113.9", cseq: 9)))
            try await store.applyRegistrationWrites(writes)
            var all: [RegistrationBinding] = []
            var page = PageRequest(limit: 1000)
            while true {
                let p = try await store.registrations(account: account.sid, trunk: trunk.sid, page: page)
                all += p.items
                guard let next = p.nextCursor else { break }
                page = PageRequest(limit: 1000, after: next)
            }
            #expect(all.count == 232)
            let byContact = Dictionary(uniqueKeysWithValues: all.map { ($0.contact, $0) })
            #expect(byContact[a.contact]?.cseq == 4 && byContact[a.contact]?.sid == a.sid, "the last upsert wins, in place")
            #expect(byContact[b.contact]?.cseq == 5, "an upsert after a delete inserts again")
            #expect(byContact["sip:u7@203.0.113.9"]?.cseq == 9 && byContact["sip:u229@203.0.113.9"] != nil)

            // Credential use of many credentials in one batch.
            let c1 = try await makeCredential(store, trunk, user: "c1"), c2 = try await makeCredential(store, trunk, user: "c2")
            let t = Date(timeIntervalSince1970: 1_700_000_000.5)
            try await store.recordCredentialUse([CredentialUse(credentialSid: c1.sid, at: t, ip: "192.0.2.1"),
                                                 CredentialUse(credentialSid: c2.sid, at: t.addingTimeInterval(1), ip: "192.0.2.2")])
            let u1 = try await store.credential(account: account.sid, trunk: trunk.sid, sid: c1.sid)
            let u2 = try await store.credential(account: account.sid, trunk: trunk.sid, sid: c2.sid)
            #expect(u1?.lastUsedAt == t && u1?.lastUsedIP == "192.0.2.1")
            #expect(u2?.lastUsedAt == t.addingTimeInterval(1) && u2?.lastUsedIP == "192.0.2.2")
        }
    }

    // MARK: Change feed and edge configuration

    @Test(arguments: StoreBackend.all)
    func everyConfigChangeIsFedAndNotified(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let notifications = store.configChangeNotifications()
            let start = try await store.currentConfigVersion()

            let trunk = try await makeTrunk(store, account)
            let v1 = try await store.currentConfigVersion()
            #expect(v1 > start)
            let notified = await awaitVersion(notifications, atLeast: v1, timeout: .seconds(1))
            #expect(notified != nil, "notified within 1 s")

            let acl = try await store.createIPACL(IPACL(accountSid: account.sid, name: "a"), limits: .default)
            var assigned = trunk
            assigned.ipACLSid = acl.sid
            _ = try await store.updateTrunk(assigned)
            let cred = try await makeCredential(store, trunk)
            let number = try await store.createPhoneNumber(PhoneNumber(accountSid: account.sid, trunkSid: trunk.sid, phoneNumber: uniqueNumber()),
                                                           limits: .default)
            let dest = try await store.createDestination(DestinationURI(accountSid: account.sid, trunkSid: trunk.sid, destination: "a.example.com"),
                                                         limits: .default)
            let entry = try await store.createIPACLEntry(IPACLEntry(aclSid: acl.sid, cidr: cidr("192.0.2.0/24"), description: nil),
                                                         account: account.sid, limits: .default)
            let owned = try #require(try await store.trunkOwnedACL(account: account.sid, trunk: trunk.sid, create: true))
            _ = try await store.createIPACLEntry(IPACLEntry(aclSid: owned.sid, cidr: cidr("198.51.100.1"), description: nil),
                                                 account: account.sid, limits: .default)
            try await store.deleteIPACLEntry(account: account.sid, acl: acl.sid, sid: entry.sid)
            try await store.upsertLockout(Lockout(ip: "203.0.113.1", accountSid: account.sid, lockedAt: Date(), until: Date() + 60, failures: 3))
            #expect(try await store.deleteLockout(account: account.sid, ip: "203.0.113.1"))
            try await store.deleteDestination(account: account.sid, trunk: trunk.sid, sid: dest.sid)
            try await store.deletePhoneNumber(account: account.sid, trunk: trunk.sid, sid: number.sid)
            try await store.deleteCredential(account: account.sid, trunk: trunk.sid, sid: cred.sid)
            try await store.deleteTrunk(account: account.sid, sid: trunk.sid)

            let changes = try await store.configChanges(after: start, limit: 1000).filter { $0.accountSid == account.sid }
            let kinds = changes.map { "\($0.kind):\($0.trunkSid == trunk.sid ? "T" : ($0.trunkSid == nil ? "-" : "?"))" }
            #expect(kinds == [
                "trunk:T", "trunk:T", "credential:T", "phone_number:T", "destination:T", "ip_acl:T", "ip_acl:T", "ip_acl:T",
                "lockout:-", "lockout:-", "destination:T", "phone_number:T", "credential:T", "trunk:T",
            ])
            #expect(changes.map(\.version) == changes.map(\.version).sorted())
            let last = try await store.currentConfigVersion()
            #expect(changes.last?.version ?? 0 <= last)
            #expect(await awaitVersion(notifications, atLeast: changes.last?.version ?? .max, timeout: .seconds(1)) != nil)
            // Writes that do not change the edge's view leave the version alone.
            let before = try await store.currentConfigVersion()
            _ = try await store.createIPACL(IPACL(accountSid: account.sid, name: "unused"), limits: .default)
            try await store.appendAuthEvents([AuthEvent(accountSid: account.sid, trunkSid: nil, time: Date(), sourceIP: "192.0.2.1", sourcePort: 1,
                                                        transport: "udp", method: "INVITE", requestURI: "sip:x", userName: nil, algorithm: nil,
                                                        credentialSid: nil, result: .rejected, reason: "unknown_domain")])
            if backend == .sqlite { #expect(try await store.currentConfigVersion() == before) }
            #expect(try await store.configChanges(after: before, limit: 100).allSatisfy { $0.accountSid != account.sid })
        }
    }

    @Test(arguments: StoreBackend.all)
    func edgeConfigurationContents(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let acl = try await store.createIPACL(IPACL(accountSid: account.sid, name: "carrier"), limits: .default)
            for c in ["203.0.113.0/24", "2001:db8::/48"] {
                _ = try await store.createIPACLEntry(IPACLEntry(aclSid: acl.sid, cidr: cidr(c), description: nil), account: account.sid, limits: .default)
            }
            let trunk = try await makeTrunk(store, account, authType: .ipACLAndCredential, ipACL: acl.sid)
            let plain = try await makeTrunk(store, account, name: "plain")
            let owned = try #require(try await store.trunkOwnedACL(account: account.sid, trunk: trunk.sid, create: true))
            _ = try await store.createIPACLEntry(IPACLEntry(aclSid: owned.sid, cidr: cidr("198.51.100.50"), description: "pbx"),
                                                 account: account.sid, limits: .default)
            let alice = try await makeCredential(store, trunk, user: "alice")
            let bob = try await makeCredential(store, trunk, user: "bob")
            _ = try await makeCredential(store, plain, user: "carol")
            let n1 = uniqueNumber(), n2 = uniqueNumber()
            for n in [n1, n2] {
                _ = try await store.createPhoneNumber(PhoneNumber(accountSid: account.sid, trunkSid: trunk.sid, phoneNumber: n), limits: .default)
            }
            let d2 = try await store.createDestination(DestinationURI(accountSid: account.sid, trunkSid: trunk.sid, destination: "b.example.com", priority: 20),
                                                       limits: .default)
            let d1 = try await store.createDestination(DestinationURI(accountSid: account.sid, trunkSid: trunk.sid, destination: "a.example.com", priority: 10),
                                                       limits: .default)

            let version = try await store.currentConfigVersion()
            let config = try await store.loadEdgeConfiguration()
            #expect(config.version >= version)
            let tc = try #require(config.trunksBySid[trunk.sid])
            #expect(tc.trunk == trunk)
            #expect(tc.credentials == ["alice": EdgeCredential(alice), "bob": EdgeCredential(bob)])
            #expect(Set(tc.acl) == [cidr("203.0.113.0/24"), cidr("2001:db8::/48"), cidr("198.51.100.50/32")])
            #expect(tc.aclAllows(IPAddress("203.0.113.77")!) && tc.aclAllows(IPAddress("198.51.100.50")!))
            #expect(!tc.aclAllows(IPAddress("198.51.100.51")!))
            #expect(Set(tc.phoneNumbers) == [n1, n2])
            #expect(tc.destinations.map(\.sid) == [d1.sid, d2.sid], "ordered by priority")
            #expect(config.trunk(forDomain: trunk.domainName.uppercased())?.trunk.sid == trunk.sid)
            #expect(config.trunk(forNumber: n2)?.trunk.sid == trunk.sid)
            let pc = try #require(config.trunksBySid[plain.sid])
            #expect(Array(pc.credentials.keys) == ["carol"] && pc.acl.isEmpty && pc.phoneNumbers.isEmpty)

            let single = try #require(try await store.loadTrunkConfiguration(sid: trunk.sid))
            #expect(single.trunk == tc.trunk && single.credentials == tc.credentials && Set(single.acl) == Set(tc.acl))
            #expect(Set(single.phoneNumbers) == Set(tc.phoneNumbers) && single.destinations == tc.destinations)
            #expect(try await store.loadTrunkConfiguration(sid: SID.make(.trunk)) == nil)
        }
    }

    @Test(arguments: StoreBackend.all)
    func reopeningKeepsDataAndSchema(_ backend: StoreBackend) async throws {
        switch backend {
        case .sqlite:
            let dir = try makeTempDirectory("trunkgate-reopen")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let store = try await StoreFactory.open(url: "", dataDirectory: dir, logger: testLogger)
            #expect(FileManager.default.fileExists(atPath: dir + "/trunkgate.sqlite"))
            let account = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let version = try await store.currentConfigVersion()
            #expect(FileManager.default.fileExists(atPath: dir + "/trunkgate.sqlite-wal"), "WAL journal")
            try await store.close()
            #expect(await store.ping() == false)
            let again = try await StoreFactory.open(url: "sqlite:\(dir)/trunkgate.sqlite", dataDirectory: "/nonexistent", logger: testLogger)
            #expect(try await again.trunk(account: account.sid, sid: trunk.sid) == trunk)
            #expect(try await again.currentConfigVersion() == version)
            try await again.close()
        case .postgres:
            let url = try await PostgresTestServer.shared.url()
            let a = try await StoreFactory.open(url: url, dataDirectory: "/nonexistent", logger: testLogger)
            let b = try await StoreFactory.open(url: url, dataDirectory: "/nonexistent", logger: testLogger)
            let account = try await makeAccount(a)
            let trunk = try await makeTrunk(a, account)
            #expect(try await b.trunk(account: account.sid, sid: trunk.sid) == trunk)
            try await a.close()
            try await b.close()
        }
    }
}

@Suite("PostgreSQL specifics")
struct PostgresSpecificTests {
    static var enabled: Bool { StoreBackend.all.contains(.postgres) }

    /// Both nodes' version poll is set to an hour, so only LISTEN/NOTIFY can carry a change
    /// across: no wall-clock bound that a loaded CI machine could miss.
    @Test(.enabled(if: enabled))
    func twoNodesSeeEachOthersChangesThroughListenNotify() async throws {
        let url = try await PostgresTestServer.shared.url()
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.versionPollInterval = .seconds(3600)
        try await withTwoStores({ try await PostgresStore.open(configuration: configuration, logger: testLogger) }) { nodeA, nodeB in
            let onB = nodeB.configChangeNotifications()
            let onA = nodeA.configChangeNotifications()
            let (account, trunk, cred, vA, after) = try await credentialAnnounced(by: nodeA, to: onB, timeout: .seconds(10))
            #expect(after != nil, "node B notified of node A's write by LISTEN/NOTIFY")
            #expect(try await nodeB.loadTrunkConfiguration(sid: trunk.sid)?.credentials["alice"]?.sid == cred.sid)

            // And back: a deletion through B reaches A.
            try await nodeB.deleteCredential(account: account.sid, trunk: trunk.sid, sid: cred.sid)
            let vB = try await nodeB.currentConfigVersion()
            #expect(await awaitVersion(onA, atLeast: vB, timeout: .seconds(10)) != nil)
            let changes = try await nodeA.configChanges(after: vA, limit: 100).filter { $0.trunkSid == trunk.sid }
            #expect(changes.map(\.kind) == ["credential"])
            #expect(try await nodeA.loadTrunkConfiguration(sid: trunk.sid)?.credentials.isEmpty == true)
        }
    }

    @Test func configurationURLParsing() throws {
        let c = try PostgresStore.Configuration(url: "postgres://u%40x:p%3Ass@db.example.com:6543/trunk?sslmode=require")
        #expect(c.username == "u@x" && c.password == "p:ss" && c.host == "db.example.com" && c.port == 6543 && c.database == "trunk")
        #expect(c.tls == .require && c.unixSocketPath == nil)
        let d = try PostgresStore.Configuration(url: "postgresql://me@/mydb?host=/run/postgresql")
        #expect(d.unixSocketPath == "/run/postgresql/.s.PGSQL.5432" && d.database == "mydb" && d.password == nil && d.tls == .prefer)
        let e = try PostgresStore.Configuration(url: "postgres://me@localhost")
        #expect(e.database == "me" && e.port == 5432)
        #expect(throws: StoreError.self) { try PostgresStore.Configuration(url: "mysql://me@localhost/db") }
        #expect(throws: StoreError.self) { try PostgresStore.Configuration(url: "postgres://localhost/db") }
        #expect(throws: StoreError.self) { try PostgresStore.Configuration(url: "postgres://me@localhost/db?sslmode=bogus") }
    }

    @Test func factoryURLKinds() throws {
        #expect(try StoreFactory.kind(of: "", dataDirectory: "/data") == .sqlite(path: "/data/trunkgate.sqlite"))
        #expect(try StoreFactory.kind(of: "sqlite:", dataDirectory: "/data") == .sqlite(path: "/data/trunkgate.sqlite"))
        #expect(try StoreFactory.kind(of: "sqlite:/x/y.db", dataDirectory: "/data") == .sqlite(path: "/x/y.db"))
        #expect(try StoreFactory.kind(of: "sqlite:///x/y.db", dataDirectory: "/data") == .sqlite(path: "/x/y.db"))
        #expect(try StoreFactory.kind(of: "postgres://u@h/d", dataDirectory: "/data") == .postgres(url: "postgres://u@h/d"))
        #expect(throws: StoreError.self) { try StoreFactory.kind(of: "redis://h", dataDirectory: "/data") }
    }
}

@Suite("SQLite specifics")
struct SQLiteSpecificTests {
    /// The admin CLI (`credentials import`) writes to the file from another process, which
    /// SQLite cannot announce: the store's 100 ms watcher is the only way the edge's store can
    /// learn of it (the stores share nothing in memory), so an announcement at all proves it.
    /// No wall-clock bound: the last one (600 ms) failed once on a loaded CI machine.
    @Test func anotherConnectionsCommitIsNoticedByTheWatcher() async throws {
        let dir = try makeTempDirectory("sqlite-watch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withTwoStores({ try await SQLiteStore.open(path: dir + "/trunkgate.sqlite", logger: testLogger) }) { edge, cli in
            let onEdge = edge.configChangeNotifications()
            let (_, trunk, cred, _, after) = try await credentialAnnounced(by: cli, to: onEdge, timeout: .seconds(10))
            #expect(after != nil, "the other connection's commit was announced by the watcher")
            #expect(try await edge.loadTrunkConfiguration(sid: trunk.sid)?.credentials["alice"]?.sid == cred.sid)
        }
    }
}
