import Foundation
public import Logging
import NIOCore
import PostgresNIO
import Synchronization
public import TrunkgateModel

/// The shared store: PostgreSQL through postgres-nio's `PostgresClient` (a connection pool).
///
/// Lifecycle: ``open(configuration:logger:)`` starts the client's background run loop
/// (`PostgresClient.run()`) in a task it owns, migrates the schema, then starts the change
/// listener. ``close()`` stops all of them; call it once when shutting down (e.g. after the
/// service group returns). Nothing else has to be run by the caller.
///
/// - Writes: `BEGIN … COMMIT` on one pooled connection (READ COMMITTED); writers of one account
///   are serialised by `SELECT … FROM accounts … FOR UPDATE` so limit checks cannot race.
/// - Uniqueness: SQLSTATE 23505 with the constraint name → `duplicate_*` conflicts.
/// - Change feed: `config_changes` (BIGSERIAL) rows are appended under a transaction-level
///   advisory lock, so versions become visible in order on every node, and the transaction
///   sends `NOTIFY trunkgate_config, '<version>'` (delivered at commit). Each store LISTENs on
///   a dedicated connection and also checks ``currentConfigVersion()`` every second, so a lost
///   connection or notification delays a change by at most about a second.
public final class PostgresStore: SQLTrunkgateStore, @unchecked Sendable {
    /// Connection settings, usually parsed from a `postgres://` URL.
    public struct Configuration: Sendable, Hashable {
        public enum TLSMode: String, Sendable, Hashable {
            /// Plain TCP.
            case disable
            /// TLS when the server offers it, without certificate verification (libpq's default).
            case prefer
            /// TLS required, without certificate verification.
            case require
            /// TLS required, certificate and host name verified.
            case verifyFull = "verify-full"
        }

        public var host: String
        public var port: Int
        /// A Unix-domain socket file; when set, `host` is ignored.
        public var unixSocketPath: String?
        public var username: String
        public var password: String?
        public var database: String
        public var tls: TLSMode
        public var maximumConnections: Int
        public var connectTimeout: Duration
        /// How often the version is compared, as a safety net for notifications lost while
        /// the listener reconnects. Tests set it long to prove that LISTEN/NOTIFY alone works.
        public var versionPollInterval: Duration = .seconds(1)

        public init(host: String = "127.0.0.1", port: Int = 5432, unixSocketPath: String? = nil, username: String, password: String? = nil,
                    database: String, tls: TLSMode = .prefer, maximumConnections: Int = 10, connectTimeout: Duration = .seconds(5)) {
            self.host = host
            self.port = port
            self.unixSocketPath = unixSocketPath
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.maximumConnections = maximumConnections
            self.connectTimeout = connectTimeout
        }

        /// Parses `postgres://user:password@host:port/database?sslmode=…` (also `postgresql://`).
        /// User and password may be percent-encoded. A Unix socket directory can be given as
        /// `?host=/path/to/dir` (libpq style; the socket is `<dir>/.s.PGSQL.<port>`).
        /// `sslmode`: `disable`, `prefer` (default), `require`, `verify-ca`/`verify-full`.
        public init(url: String) throws(StoreError) {
            func invalid(_ why: String) -> StoreError {
                StoreError(.invalid, code: "invalid_database_url", "invalid PostgreSQL URL: \(why)", field: "database")
            }
            guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
                throw invalid("expected postgres://user:password@host:port/database")
            }
            let query = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
            port = c.port ?? Int(query["port"] ?? "") ?? 5432
            host = c.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
            if let dir = query["host"], dir.hasPrefix("/") {
                unixSocketPath = dir.hasSuffix("/") ? "\(dir).s.PGSQL.\(port)" : "\(dir)/.s.PGSQL.\(port)"
            } else {
                unixSocketPath = nil
                if let h = query["host"], !h.isEmpty { host = h }
            }
            guard let user = c.user ?? query["user"], !user.isEmpty else { throw invalid("a user name is required") }
            username = user
            password = c.password ?? query["password"]
            let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
            database = path.isEmpty ? (query["dbname"] ?? user) : path
            switch query["sslmode"]?.lowercased() ?? "prefer" {
            case "disable", "allow": tls = .disable
            case "prefer": tls = .prefer
            case "require": tls = .require
            case "verify-ca", "verify-full": tls = .verifyFull
            case let other: throw invalid("unknown sslmode '\(other)'")
            }
            maximumConnections = Int(query["pool_max_conns"] ?? "") ?? 10
            connectTimeout = .seconds(Int(query["connect_timeout"] ?? "") ?? 5)
        }

        var clientConfiguration: PostgresClient.Configuration {
            var config: PostgresClient.Configuration
            if let unixSocketPath {
                config = .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
            } else {
                let tlsSetting: PostgresClient.Configuration.TLS
                switch tls {
                case .disable:
                    tlsSetting = .disable
                case .prefer:
                    var t = TLSConfiguration.makeClientConfiguration()
                    t.certificateVerification = .none
                    tlsSetting = .prefer(t)
                case .require:
                    var t = TLSConfiguration.makeClientConfiguration()
                    t.certificateVerification = .none
                    tlsSetting = .require(t)
                case .verifyFull:
                    tlsSetting = .require(.makeClientConfiguration())
                }
                config = .init(host: host, port: port, username: username, password: password, database: database, tls: tlsSetting)
            }
            config.options.maximumConnections = max(2, maximumConnections)
            config.options.connectTimeout = connectTimeout
            return config
        }
    }

    public let configuration: Configuration
    private let postgres: PostgresBackend
    private let background = Mutex<[Task<Void, Never>]>([])

    /// Opens a store on the database named by a `postgres://` URL. See ``Configuration/init(url:)``.
    public static func open(url: String, logger: Logger = Logger(label: "trunkgate.store.postgres")) async throws(StoreError) -> PostgresStore {
        try await open(configuration: Configuration(url: url), logger: logger)
    }

    /// Starts the client, migrates the schema (serialised across nodes by an advisory lock)
    /// and starts the change listener. Fails with `.unavailable` when the database cannot be
    /// reached within the connect timeout (plus a margin).
    public static func open(configuration: Configuration, logger: Logger = Logger(label: "trunkgate.store.postgres")) async throws(StoreError)
        -> PostgresStore
    {
        let backend = PostgresBackend(configuration: configuration.clientConfiguration, logger: logger)
        let store = PostgresStore(configuration: configuration, backend: backend)
        do {
            let budget = configuration.connectTimeout + .seconds(10)
            try await withTimeout(budget, "connecting to PostgreSQL") { try await backend.migrate() }
            store.notifier.seed(try await store.currentConfigVersion())
        } catch {
            try? await backend.close()
            throw store.mapError(error)
        }
        store.startListening()
        return store
    }

    private init(configuration: Configuration, backend: PostgresBackend) {
        self.configuration = configuration
        self.postgres = backend
        super.init(backend: backend)
    }

    private func startListening() {
        let client = postgres.client
        let logger = postgres.logger
        let notifier = self.notifier
        let pollInterval = configuration.versionPollInterval
        let listener = Task { [weak self] in
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: PostgresBackend.channel) { notifications in
                            // Whatever committed while not listening.
                            if let v = try? await self?.currentConfigVersion() { notifier.publish(v) }
                            for try await n in notifications {
                                if let v = Int64(n.payload) { notifier.publish(v) }
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("config change listener lost its connection; retrying", metadata: ["error": "\(String(describing: error))"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let poller = Task { [weak self] in
            // Safety net for lost notifications: compare the version every `versionPollInterval`.
            while !Task.isCancelled {
                try? await Task.sleep(for: pollInterval)
                guard let self, !Task.isCancelled else { break }
                if let v = try? await self.currentConfigVersion() { notifier.publish(v) }
            }
        }
        background.withLock { $0 += [listener, poller] }
    }

    /// Stops the listener, the version poll and the client's run loop.
    public override func close() async throws {
        let tasks = background.withLock { t in
            defer { t.removeAll() }
            return t
        }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
        try await super.close()
    }
}

struct PostgresExecutor: SQLExecutor {
    let connection: PostgresConnection
    let logger: Logger

    /// `?` placeholders → `$1, $2, …` (the store's SQL has no other question marks).
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        for ch in sql {
            if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for b in binds {
            switch b {
            case .null: bindings.appendNull()
            case .int(let v): bindings.append(v)
            case .double(let v): bindings.append(v)
            case .text(let s): bindings.append(s)
            }
        }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings), logger: logger)
        var out: [SQLRow] = []
        for try await row in rows {
            out.append(SQLRow(try row.map(Self.value)))
        }
        return out
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard let bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
        case .float8, .float4: return .double(try cell.decode(Double.self))
        case .text, .varchar, .bpchar, .name: return .text(try cell.decode(String.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(String(buffer: bytes))
        }
    }
}

final class PostgresBackend: SQLBackend {
    static let channel = "trunkgate_config"
    /// Advisory lock keys (arbitrary, fixed): one serialises `config_changes` appends, the other migrations.
    static let changeLockKey: Int64 = 0x7472_756E_6B67_01
    static let migrationLockKey: Int64 = 0x7472_756E_6B67_02

    let dialect = SQLDialect.postgres
    let client: PostgresClient
    let logger: Logger
    private let runTask: Task<Void, Never>

    init(configuration: PostgresClient.Configuration, logger: Logger) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        runTask = Task { await client.run() }
    }

    func migrate() async throws {
        try await write { ex in
            try await ex.execute("SELECT pg_advisory_xact_lock(?)", [.int(Self.migrationLockKey)])
            try await ex.execute(Schema.createMigrationsTable(.postgres))
            let applied = Set(try await ex.query("SELECT version FROM schema_migrations", []).map { $0.int(0) })
            for m in Schema.migrations(for: .postgres) where !applied.contains(m.version) {
                self.logger.info("applying schema migration", metadata: ["version": "\(m.version)", "name": "\(m.name)"])
                for statement in m.statements { try await ex.execute(statement) }
                try await ex.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                     [.int(m.version), .text(m.name), .date(Date())])
            }
        }
    }

    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> R) async throws -> R {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await Self.transaction(PostgresExecutor(connection: connection, logger: logger), begin: "BEGIN", body)
        }
    }

    func read<R: Sendable>(snapshot: Bool, _ body: @escaping @Sendable (any SQLExecutor) async throws -> R) async throws -> R {
        let logger = self.logger
        return try await client.withConnection { connection in
            let ex = PostgresExecutor(connection: connection, logger: logger)
            guard snapshot else { return try await body(ex) }
            return try await Self.transaction(ex, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
        }
    }

    private static func transaction<R: Sendable>(_ ex: PostgresExecutor, begin: String, _ body: @Sendable (any SQLExecutor) async throws -> R)
        async throws -> R
    {
        try await ex.execute(begin)
        do {
            let value = try await body(ex)
            try await ex.execute("COMMIT")
            return value
        } catch {
            try? await ex.execute("ROLLBACK")
            throw error
        }
    }

    func lockAccount(_ ex: any SQLExecutor, _ accountSid: String) async throws {
        try await ex.execute("SELECT sid FROM accounts WHERE sid = ? FOR UPDATE", [.text(accountSid)])
    }

    func willAppendConfigChanges(_ ex: any SQLExecutor) async throws {
        // Held until COMMIT/ROLLBACK: versions are allocated and committed in the same order,
        // so a reader that saw version v can never later find a smaller one appear.
        try await ex.execute("SELECT pg_advisory_xact_lock(?)", [.int(Self.changeLockKey)])
    }

    func didAppendConfigChanges(_ ex: any SQLExecutor, version: Int64) async throws {
        try await ex.execute("SELECT pg_notify(?, ?)", [.text(Self.channel), .text(String(version))])
    }

    func classify(_ error: any Error) -> SQLFailure {
        guard let e = error as? PSQLError else {
            if error is CancellationError { return .other("cancelled") }
            return .other("\(error)")
        }
        guard e.code == .server, let info = e.serverInfo else { return .other("PostgreSQL: \(e.code)") }
        let state = info[.sqlState] ?? "?"
        switch state {
        case "23505": return .unique(constraint: info[.constraintName] ?? "unknown")
        case "23503": return .foreignKey
        default: return .other("PostgreSQL \(state): \(info[.message] ?? "")")
        }
    }

    func ping() async -> Bool {
        do {
            return try await withTimeout(.seconds(2), "ping") {
                try await self.read(snapshot: false) { ex in try await ex.scalarInt("SELECT 1") == 1 }
            }
        } catch {
            return false
        }
    }

    func close() async throws {
        runTask.cancel()
        await runTask.value
    }
}

/// Runs `operation`, cancelling it and throwing `.unavailable` when it takes longer than `limit`.
func withTimeout<R: Sendable>(_ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> R) async throws -> R {
    try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw StoreError(.unavailable, code: "store_unavailable", "\(what) timed out after \(limit)")
        }
        return value
    }
}
