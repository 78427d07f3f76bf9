import Foundation
import Testing
import TrunkgateModel
import TrunkgateStore

/// `createCredentials`: the bulk import behind `trunkgate credentials import`.
@Suite("Bulk credential import")
struct BulkCredentialTests {
    func batch(_ trunk: Trunk, _ users: [String]) -> [Credential] {
        users.map {
            Credential(accountSid: trunk.accountSid, trunkSid: trunk.sid, userName: $0, friendlyName: nil,
                       ha1MD5: "md5-\($0)", ha1SHA256: "sha256-\($0)", ha1SHA512_256: "sha512-\($0)", realm: trunk.realm)
        }
    }

    @Test(arguments: StoreBackend.all)
    func oneTransactionOneChangeAllOrNothing(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            var limits = AccountLimits.default
            limits.maxCredentials = 1_000
            let before = try await store.currentConfigVersion()
            try await store.createCredentials(batch(trunk, (0..<600).map { String(format: "u%04d", $0) }), limits: limits)
            let page = try await store.credentials(account: account.sid, trunk: trunk.sid, page: PageRequest(limit: 1000))
            #expect(page.items.count == 600)
            // Other tests share the PostgreSQL database and append changes meanwhile: count this account's.
            func ownChanges() async throws -> [ConfigChange] {
                try await store.configChanges(after: before, limit: 100_000).filter { $0.accountSid == account.sid }
            }
            let changes = try await ownChanges()
            #expect(changes.count == 1 && changes.first?.kind == "credential" && changes.first?.trunkSid == trunk.sid, "one change: \(changes)")
            let loaded = try #require(try await store.loadTrunkConfiguration(sid: trunk.sid))
            #expect(loaded.credentials.count == 600 && loaded.credentials["u0599"]?.ha1SHA256 == "sha256-u0599")

            // Over the limit: refused, nothing written.
            await expectStoreError(.limitExceeded, "limit_exceeded") {
                try await store.createCredentials(batch(trunk, (600..<1001).map { String(format: "u%04d", $0) }), limits: limits)
            }
            // A user name that exists already: refused as a whole.
            await expectStoreError(.conflict, "duplicate_user_name") {
                try await store.createCredentials(batch(trunk, ["new1", "u0001", "new2"]), limits: limits)
            }
            #expect(try await store.credentials(account: account.sid, trunk: trunk.sid, page: PageRequest(limit: 1000)).items.count == 600)
            #expect(try await ownChanges().count == 1, "a refused import appends no change")
            #expect(try await store.configChanges(after: before, limit: 100_000).filter { $0.accountSid == account.sid }.first?.objectSid == nil,
                    "a batch of many names no single credential")
            let single = batch(trunk, ["solo"])
            try await store.createCredentials(single, limits: limits)
            #expect(try await store.configChanges(after: before, limit: 100_000).filter { $0.accountSid == account.sid }.last?.objectSid == single[0].sid,
                    "a batch of one names its credential")
            // Two trunks in one batch are refused.
            let other = try await makeTrunk(store, account)
            await expectStoreError(.invalid, "mixed_trunks") {
                try await store.createCredentials(batch(trunk, ["x1"]) + batch(other, ["x2"]), limits: limits)
            }
        }
    }
}

/// A credential created or deleted through the store names itself in its config change, so the
/// edge can apply it without reloading the trunk.
@Suite("Config change objects")
struct ConfigChangeObjectTests {
    @Test(arguments: StoreBackend.all)
    func credentialChangesNameTheCredential(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let account = try await makeAccount(store)
            let trunk = try await makeTrunk(store, account)
            let before = try await store.currentConfigVersion()
            let credential = try await makeCredential(store, trunk, user: "objectuser")
            try await store.deleteCredential(account: account.sid, trunk: trunk.sid, sid: credential.sid)
            let mine = try await store.configChanges(after: before, limit: 100_000).filter { $0.accountSid == account.sid }
            #expect(mine.map(\.kind) == ["credential", "credential"])
            #expect(mine.allSatisfy { $0.objectSid == credential.sid && $0.trunkSid == trunk.sid }, "\(mine)")
            // A trunk change names no single object: the edge reloads the trunk.
            var renamed = trunk
            renamed.trunkName = "renamed"
            _ = try await store.updateTrunk(renamed)
            #expect(try await store.configChanges(after: before, limit: 100_000).filter { $0.accountSid == account.sid }.last?.objectSid == nil)
        }
    }
}
