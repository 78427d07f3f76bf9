import Foundation
import Logging
import Testing
import TrunkgateModel
import TrunkgateStore

/// Which database a store test runs against. Every behaviour test is parameterised over
/// ``StoreBackend/all``, so SQLite and PostgreSQL run the same suite.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// SQLite always; PostgreSQL when a server URL is given, PostgreSQL binaries are installed,
    /// or `CI` is set (then a missing PostgreSQL fails the tests instead of skipping them).
    static let all: [StoreBackend] = {
        if PostgresTestServer.available {
            return [.sqlite, .postgres]
        }
        print("note: no PostgreSQL binaries and TRUNKGATE_TEST_POSTGRES_URL unset: PostgreSQL store tests not run")
        return [.sqlite]
    }()
}

let testLogger: Logger = {
    var l = Logger(label: "trunkgate.store.test")
    l.logLevel = .warning
    return l
}()

/// Opens a fresh store (SQLite: a new file in a new temp directory; PostgreSQL: the shared
/// test database, where every test uses its own accounts, domains and numbers), runs `body`
/// and closes it.
func withStore(_ backend: StoreBackend, _ body: (any TrunkgateStore) async throws -> Void) async throws {
    switch backend {
    case .sqlite:
        let dir = try makeTempDirectory("trunkgate-store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try await SQLiteStore.open(path: dir + "/trunkgate.sqlite", logger: testLogger)
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    case .postgres:
        let url = try await PostgresTestServer.shared.url()
        let store = try await PostgresStore.open(url: url, logger: testLogger)
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

/// Two stores on one database (two edge nodes, or the edge and the admin CLI): opens both with
/// `open`, runs `body` and closes both, also when `body` throws.
func withTwoStores<S: TrunkgateStore>(_ open: () async throws -> S, _ body: (S, S) async throws -> Void) async throws {
    let a = try await open()
    let b: S
    do { b = try await open() } catch {
        try? await a.close()
        throw error
    }
    do {
        try await body(a, b)
    } catch {
        try? await a.close()
        try? await b.close()
        throw error
    }
    try await a.close()
    try await b.close()
}

/// A credential (in a new account and trunk) written through `writer`, and how long after the
/// write returned `notifications` (another store's) announced the version it committed: nil when
/// not within `timeout`.
func credentialAnnounced(by writer: any TrunkgateStore, to notifications: AsyncStream<Int64>, timeout: Duration)
    async throws -> (account: Account, trunk: Trunk, credential: Credential, version: Int64, after: Duration?) {
    let account = try await makeAccount(writer)
    let trunk = try await makeTrunk(writer, account)
    let credential = try await makeCredential(writer, trunk)
    let version = try await writer.currentConfigVersion()
    let clock = ContinuousClock()
    let started = clock.now
    let seen = await awaitVersion(notifications, atLeast: version, timeout: timeout)
    return (account, trunk, credential, version, seen.map { _ in clock.now - started })
}

func makeTempDirectory(_ prefix: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

// MARK: - Test data

func randomDigits(_ n: Int) -> String {
    (0..<n).map { _ in String(Int.random(in: 0...9)) }.joined()
}

func uniqueDomain() -> String { "t\(randomDigits(12)).sip.example.com" }
func uniqueNumber() -> String { "+1" + String(Int.random(in: 2...9)) + randomDigits(9) }

@discardableResult
func makeAccount(_ store: any TrunkgateStore, name: String = "acme") async throws -> Account {
    let account = Account(name: name)
    try await store.createAccount(account, key: APIToken.makeKey(accountSid: account.sid, token: APIToken.generate()))
    return account
}

func makeTrunk(_ store: any TrunkgateStore, _ account: Account, name: String = "main", domain: String? = nil, authType: AuthType = .credential,
               ipACL: String? = nil, limits: AccountLimits = .default) async throws -> Trunk {
    try await store.createTrunk(
        Trunk(accountSid: account.sid, trunkName: name, domainName: domain ?? uniqueDomain(), authType: authType, ipACLSid: ipACL), limits: limits)
}

func makeCredential(_ store: any TrunkgateStore, _ trunk: Trunk, user: String = "alice", limits: AccountLimits = .default) async throws -> Credential {
    try await store.createCredential(
        Credential(accountSid: trunk.accountSid, trunkSid: trunk.sid, userName: user, friendlyName: "f-\(user)",
                   ha1MD5: "md5-\(user)", ha1SHA256: "sha256-\(user)", ha1SHA512_256: "sha512-\(user)", realm: trunk.realm),
        limits: limits)
}

func cidr(_ s: String) -> CIDR {
    do { return try CIDR(parsing: s) } catch { fatalError("bad CIDR in test: \(s)") }
}

/// Asserts `operation` throws a StoreError with `kind` and `code`, and returns it.
@discardableResult
func expectStoreError(_ kind: StoreError.Kind, _ code: String, sourceLocation: SourceLocation = #_sourceLocation,
                      _ operation: () async throws -> Void) async -> StoreError? {
    do {
        try await operation()
        Issue.record("expected StoreError \(kind) \(code), got success", sourceLocation: sourceLocation)
        return nil
    } catch let e as StoreError {
        #expect(e.kind == kind, "kind", sourceLocation: sourceLocation)
        #expect(e.code == code, "code: \(e)", sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected StoreError \(kind) \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The first version ≥ `atLeast` the stream yields within `timeout`, or nil.
func awaitVersion(_ stream: AsyncStream<Int64>, atLeast: Int64, timeout: Duration = .seconds(1)) async -> Int64? {
    await withTaskGroup(of: Int64?.self) { group in
        group.addTask {
            for await v in stream where v >= atLeast { return v }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
