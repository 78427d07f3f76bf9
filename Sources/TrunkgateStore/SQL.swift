import Foundation

/// A value bound to or read from a statement. The store keeps to four types so one set of
/// queries runs on SQLite and PostgreSQL alike: TEXT, 64-bit INTEGER/BIGINT, REAL/DOUBLE
/// PRECISION (timestamps are unix seconds as a double) and NULL.
enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
}

extension SQLValue {
    static func opt(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func opt(_ i: Int?) -> SQLValue { i.map { .int(Int64($0)) } ?? .null }
    static func int(_ i: Int) -> SQLValue { .int(Int64(i)) }
    static func date(_ d: Date) -> SQLValue { .double(d.timeIntervalSince1970) }
    static func opt(_ d: Date?) -> SQLValue { d.map { .date($0) } ?? .null }
}

/// One result row, read by column position (every SELECT names its columns explicitly).
struct SQLRow: Sendable {
    var values: [SQLValue]

    init(_ values: [SQLValue]) { self.values = values }

    subscript(_ i: Int) -> SQLValue { i < values.count ? values[i] : .null }

    func string(_ i: Int) -> String { optString(i) ?? "" }

    func isNull(_ i: Int) -> Bool {
        if case .null = self[i] { return true }
        return false
    }

    /// The text in a storage of its own, for values kept long after the rows are gone (the
    /// edge's snapshot). A row's strings sit between the row's other allocations; kept as they
    /// are, 100,000 of them would pin the pages of every freed row (glibc can only return
    /// whole free pages). Copies made while the rows are still alive are laid out together.
    func keptString(_ i: Int) -> String {
        let s = string(i)
        let count = s.utf8.count
        guard count > 15 else { return s }  // small strings live inside the String value
        return String(unsafeUninitializedCapacity: count) { buffer in
            _ = buffer.initialize(fromContentsOf: s.utf8)
            return count
        }
    }

    func optString(_ i: Int) -> String? {
        switch self[i] {
        case .text(let s): return s
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .null: return nil
        }
    }

    func int64(_ i: Int) -> Int64 { optInt64(i) ?? 0 }

    func optInt64(_ i: Int) -> Int64? {
        switch self[i] {
        case .int(let v): return v
        case .double(let v): return Int64(v)
        case .text(let s): return Int64(s)
        case .null: return nil
        }
    }

    func int(_ i: Int) -> Int { Int(int64(i)) }
    func optInt(_ i: Int) -> Int? { optInt64(i).map { Int($0) } }

    func optDouble(_ i: Int) -> Double? {
        switch self[i] {
        case .double(let v): return v
        case .int(let v): return Double(v)
        case .text(let s): return Double(s)
        case .null: return nil
        }
    }

    func date(_ i: Int) -> Date { optDate(i) ?? Date(timeIntervalSince1970: 0) }
    func optDate(_ i: Int) -> Date? { optDouble(i).map { Date(timeIntervalSince1970: $0) } }
}

/// Runs statements inside a transaction (or one autocommit read) on one connection.
/// Statements use `?` placeholders; the PostgreSQL executor rewrites them to `$n`.
protocol SQLExecutor: Sendable {
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]

    /// Inserts rows: `head` is `INSERT INTO t (c1, …)` without `VALUES`, `binds` holds
    /// `columns` values per row. By default `rowsPerStatement` rows go in each multi-row
    /// statement (one round trip each); an executor with a statement cache may prefer one
    /// prepared one-row statement.
    func insertRows(_ head: String, columns: Int, rowsPerStatement: Int, _ binds: [SQLValue]) async throws
}

extension SQLExecutor {
    func insertRows(_ head: String, columns: Int, rowsPerStatement: Int, _ binds: [SQLValue]) async throws {
        let rows = binds.count / columns, perStatement = max(1, rowsPerStatement)
        var start = 0
        while start < rows {
            let count = min(perStatement, rows - start)
            try await execute(head + " VALUES " + placeholderRows(columns: columns, rows: count),
                              Array(binds[(start * columns)..<((start + count) * columns)]))
            start += count
        }
    }

    func execute(_ sql: String, _ binds: [SQLValue] = []) async throws {
        _ = try await query(sql, binds)
    }

    func first(_ sql: String, _ binds: [SQLValue] = []) async throws -> SQLRow? {
        try await query(sql, binds).first
    }

    func scalarInt(_ sql: String, _ binds: [SQLValue] = []) async throws -> Int64 {
        try await first(sql, binds)?.optInt64(0) ?? 0
    }
}

enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// What went wrong in the database, in the store's terms.
enum SQLFailure: Sendable {
    /// A UNIQUE (or primary key) constraint, named as in the PostgreSQL schema
    /// (`trunks_domain_name_key`, `credentials_trunk_user_key`, `phone_numbers_number_key`, …).
    case unique(constraint: String)
    case foreignKey
    /// Anything else: the text is for logs (no bound values, so never a secret).
    case other(String)
}

/// The database-specific half of a store: connections, transactions, error classification
/// and the few statements that differ between SQLite and PostgreSQL.
protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    func write<R: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> R) async throws -> R

    /// Runs `body` on a read connection. With `snapshot`, all its statements see one consistent
    /// snapshot (a read transaction); otherwise each statement sees the latest commit.
    func read<R: Sendable>(snapshot: Bool, _ body: @escaping @Sendable (any SQLExecutor) async throws -> R) async throws -> R

    /// Serialises writers of one account for the rest of the transaction, so limit checks
    /// (count, then insert) cannot race (SQLite: writes are already serial; PostgreSQL: row lock).
    func lockAccount(_ ex: any SQLExecutor, _ accountSid: String) async throws

    /// Called before a transaction appends to `config_changes` (PostgreSQL: a transaction-level
    /// advisory lock so versions commit in the order they are allocated).
    func willAppendConfigChanges(_ ex: any SQLExecutor) async throws

    /// Called after a transaction appended to `config_changes` (PostgreSQL: `NOTIFY`).
    func didAppendConfigChanges(_ ex: any SQLExecutor, version: Int64) async throws

    func classify(_ error: any Error) -> SQLFailure

    func ping() async -> Bool
    func close() async throws
}

extension SQLBackend {
    func lockAccount(_ ex: any SQLExecutor, _ accountSid: String) async throws {}
    func willAppendConfigChanges(_ ex: any SQLExecutor) async throws {}
    func didAppendConfigChanges(_ ex: any SQLExecutor, version: Int64) async throws {}
}

/// `(?, ?, …)` groups for multi-row inserts.
func placeholderRows(columns: Int, rows: Int) -> String {
    let one = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
    return Array(repeating: one, count: rows).joined(separator: ", ")
}

/// Dates go to the database as unix seconds in a double; a value returned by the store is the
/// one a later read returns, so round-trip through the same representation.
func normalized(_ d: Date) -> Date { Date(timeIntervalSince1970: d.timeIntervalSince1970) }
func normalized(_ d: Date?) -> Date? { d.map(normalized) }
