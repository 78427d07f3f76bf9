import Foundation
public import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import VaporCSQLite
import Synchronization
public import TrunkgateModel

/// The embedded store: one SQLite file (default `<data>/trunkgate.sqlite`), created and
/// migrated on open.
///
/// - WAL journal, `synchronous=FULL`: a write is acknowledged only after COMMIT returned, and
///   with FULL the WAL is fsync'ed at every commit, so an acknowledged write survives not only
///   `kill -9` of the process (NORMAL+WAL would already give that, as the WAL frames are in the
///   OS page cache) but also an OS crash or power loss. Control-plane writes are rare enough
///   that one fsync per commit costs nothing that matters.
/// - One writer connection, used by one transaction at a time (`BEGIN IMMEDIATE … COMMIT`,
///   `ROLLBACK` on any error); two reader connections for reads (WAL readers never block the
///   writer and always see the latest commit).
/// - Foreign keys on, `busy_timeout` 5 s (another process holding the write lock).
/// - Change notifications: published after each commit of this store, and, once somebody
///   subscribes, by a watcher that reads the newest change version every 100 ms: another
///   process (the admin CLI's `credentials import`) writes to the same file, and SQLite has no
///   cross-process notification. The read is one index lookup.
public final class SQLiteStore: SQLTrunkgateStore, @unchecked Sendable {
    public let path: String
    /// How often the watcher looks for commits of other processes.
    static let watchInterval: Duration = .milliseconds(100)
    private let watcher = Mutex<Task<Void, Never>?>(nil)

    /// Opens (creating and migrating when needed) the database file at `path`.
    public static func open(path: String, logger: Logger = Logger(label: "trunkgate.store.sqlite")) async throws(StoreError) -> SQLiteStore {
        do {
            let backend = try await SQLiteBackend.open(path: path, logger: logger)
            let store = SQLiteStore(path: path, backend: backend)
            store.notifier.seed(try await store.currentConfigVersion())
            return store
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(.unavailable, code: "store_unavailable", "cannot open SQLite database at \(path): \(error)")
        }
    }

    private init(path: String, backend: SQLiteBackend) {
        self.path = path
        super.init(backend: backend)
    }

    public override func configChangeNotifications() -> AsyncStream<Int64> {
        let stream = super.configChangeNotifications()
        watcher.withLock { watcher in
            guard watcher == nil else { return }
            let notifier = self.notifier
            watcher = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.watchInterval)
                    guard let self, !Task.isCancelled else { break }
                    // The notifier drops versions already published, so this wakes nobody
                    // unless something new was committed.
                    if let v = try? await self.currentConfigVersion() { notifier.publish(v) }
                }
            }
        }
        return stream
    }

    public override func close() async throws {
        let task = watcher.withLock { w in
            defer { w = nil }
            return w
        }
        task?.cancel()
        await task?.value
        try await super.close()
    }
}

/// A connection ``SQLiteConnectionPool`` can close.
protocol SQLiteClosable: Sendable {
    func close() async throws
}

extension SQLiteConnection: SQLiteClosable {}
extension SQLiteRawConnection: SQLiteClosable {}

/// Hands out a fixed set of connections, one user at a time each; waiters queue in order.
final class SQLiteConnectionPool<Connection: SQLiteClosable & AnyObject>: Sendable {
    private struct State {
        var idle: [Connection]
        var waiters: [CheckedContinuation<Connection?, Never>] = []
        var all: [Connection]
        var closed = false
    }

    private let state: Mutex<State>

    init(_ connections: [Connection]) {
        state = Mutex(State(idle: connections, all: connections))
    }

    func withConnection<R: Sendable>(_ body: @Sendable (Connection) async throws -> R) async throws -> R {
        let connection: Connection? = await withCheckedContinuation { (c: CheckedContinuation<Connection?, Never>) in
            let ready: Connection?? = state.withLock { s in
                if s.closed { return .some(nil) }
                if let conn = s.idle.popLast() { return .some(conn) }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
        guard let connection else { throw StoreError(.unavailable, code: "store_closed", "the store is closed") }
        defer { release(connection) }
        return try await body(connection)
    }

    private func release(_ connection: Connection) {
        let waiter: CheckedContinuation<Connection?, Never>? = state.withLock { s in
            if !s.waiters.isEmpty { return s.waiters.removeFirst() }
            s.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: connection)
    }

    /// Closes every connection once it is idle; later users get `store_closed`.
    func close() async throws {
        let waiters = state.withLock { s in
            s.closed = true
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in waiters { w.resume(returning: nil) }
        // Wait for connections in use to come back, then close them all.
        while true {
            let (idle, total) = state.withLock { ($0.idle.count, $0.all.count) }
            if idle == total { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        for conn in state.withLock({ $0.all }) { try await conn.close() }
    }
}

/// Statements on the writer connection (cached prepared statements).
struct SQLiteRawExecutor: SQLExecutor {
    let connection: SQLiteRawConnection

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await connection.query(sql, binds)
    }

    func insertRows(_ head: String, columns: Int, rowsPerStatement: Int, _ binds: [SQLValue]) async throws {
        // One prepared one-row statement, stepped per row, in one trip to the thread pool.
        try await connection.runForEachRow(head + " VALUES " + placeholderRows(columns: columns, rows: 1), columns: columns, binds)
    }
}

/// Statements on a reader connection.
struct SQLiteExecutor: SQLExecutor {
    let connection: SQLiteConnection

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let data: [SQLiteData] = binds.map {
            switch $0 {
            case .null: return .null
            case .int(let v): return .integer(SQLiteInt64(v))
            case .double(let v): return .float(v)
            case .text(let s): return .text(s)
            }
        }
        let rows = try await connection.query(sql, data)
        return rows.map { row in
            SQLRow(row.columns.map { col in
                switch col.data {
                case .null: return .null
                case .integer(let v): return .int(Int64(v))
                case .float(let v): return .double(v)
                case .text(let s): return .text(s)
                case .blob(let b): return .text(String(buffer: b))
                }
            })
        }
    }
}

final class SQLiteBackend: SQLBackend {
    let dialect = SQLDialect.sqlite
    /// The one writer: a connection with a statement cache (``SQLiteRawConnection``).
    let writer: SQLiteConnectionPool<SQLiteRawConnection>
    let readers: SQLiteConnectionPool<SQLiteConnection>
    let logger: Logger

    private init(writer: SQLiteConnectionPool<SQLiteRawConnection>, readers: SQLiteConnectionPool<SQLiteConnection>, logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.logger = logger
    }

    static func open(path: String, logger: Logger) async throws -> SQLiteBackend {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let writer = try await SQLiteRawConnection.open(path: path)
        do {
            // Connection settings first (busy_timeout: another process may hold the file);
            // journal_mode is persistent in the file: set it before anything else touches it.
            for pragma in pragmas { _ = try await writer.query(pragma, []) }
            _ = try await writer.query("PRAGMA journal_mode=WAL", [])
            try await migrate(SQLiteRawExecutor(connection: writer), logger: logger)
        } catch {
            try? await writer.close()
            throw error
        }
        var readers: [SQLiteConnection] = []
        for _ in 0..<2 { readers.append(try await connect(path: path, logger: logger)) }
        return SQLiteBackend(writer: SQLiteConnectionPool([writer]), readers: SQLiteConnectionPool(readers), logger: logger)
    }

    private static let pragmas = ["PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=FULL"]

    private static func connect(path: String, logger: Logger) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            for pragma in pragmas {
                _ = try await connection.query(pragma)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }

    private static func migrate(_ ex: SQLiteRawExecutor, logger: Logger) async throws {
        try await ex.execute("BEGIN IMMEDIATE")
        do {
            try await ex.execute(Schema.createMigrationsTable(.sqlite))
            let applied = Set(try await ex.query("SELECT version FROM schema_migrations", []).map { $0.int(0) })
            for m in Schema.migrations(for: .sqlite) where !applied.contains(m.version) {
                logger.info("applying schema migration", metadata: ["version": "\(m.version)", "name": "\(m.name)"])
                for statement in m.statements { try await ex.execute(statement) }
                try await ex.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                     [.int(m.version), .text(m.name), .date(Date())])
            }
            try await ex.execute("COMMIT")
        } catch {
            try? await ex.execute("ROLLBACK")
            throw error
        }
    }

    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> R) async throws -> R {
        try await writer.withConnection { conn in
            let ex = SQLiteRawExecutor(connection: conn)
            try await ex.execute("BEGIN IMMEDIATE")
            do {
                let value = try await body(ex)
                try await ex.execute("COMMIT")
                return value
            } catch {
                // After a failed COMMIT the transaction may still be open; ROLLBACK either way.
                try? await ex.execute("ROLLBACK")
                throw error
            }
        }
    }

    func read<R: Sendable>(snapshot: Bool, _ body: @escaping @Sendable (any SQLExecutor) async throws -> R) async throws -> R {
        try await readers.withConnection { conn in
            let ex = SQLiteExecutor(connection: conn)
            guard snapshot else { return try await body(ex) }
            try await ex.execute("BEGIN")
            do {
                let value = try await body(ex)
                try await ex.execute("COMMIT")
                return value
            } catch {
                try? await ex.execute("ROLLBACK")
                throw error
            }
        }
    }

    func classify(_ error: any Error) -> SQLFailure {
        if let e = error as? SQLiteRawError { return Self.classify(e) }
        // SQLiteNIO connections only read: no constraint can fail on them.
        if let e = error as? SQLiteError { return .other("SQLite: \(e.reason): \(e.message)") }
        return .other("\(error)")
    }

    /// The writer's errors: extended result codes and SQLite's messages, which name the
    /// columns of a failed UNIQUE constraint.
    static func classify(_ e: SQLiteRawError) -> SQLFailure {
        guard e.primaryCode == SQLITE_CONSTRAINT else { return .other("SQLite: \(e.code): \(e.message)") }
        let m = e.message
        // Extended codes are C macros built with operators, which Swift does not import.
        let foreignKey = SQLITE_CONSTRAINT | (3 << 8), primaryKey = SQLITE_CONSTRAINT | (6 << 8), unique = SQLITE_CONSTRAINT | (8 << 8)
        if e.code == foreignKey || m.contains("FOREIGN KEY") { return .foreignKey }
        if m.contains("trunks.domain_name") { return .unique(constraint: "trunks_domain_name_key") }
        if m.contains("credentials.trunk_sid, credentials.user_name") { return .unique(constraint: "credentials_trunk_user_key") }
        if m.contains("phone_numbers.phone_number") { return .unique(constraint: "phone_numbers_number_key") }
        if e.code == unique || e.code == primaryKey { return .unique(constraint: "primary_key") }
        return .other("SQLite: \(e.code): \(e.message)")
    }

    func ping() async -> Bool {
        do {
            return try await read(snapshot: false) { ex in try await ex.scalarInt("SELECT 1") == 1 }
        } catch {
            return false
        }
    }

    func close() async throws {
        try await readers.close()
        try await writer.close()
    }
}
