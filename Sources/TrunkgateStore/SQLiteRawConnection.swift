import NIOPosix
// The SQLite library that SQLiteNIO is built on, used directly: SQLiteNIO prepares every
// statement anew and has no statement cache.
import VaporCSQLite

/// A SQLite error from ``SQLiteRawConnection``: the extended result code and SQLite's message
/// (never a bound value).
struct SQLiteRawError: Error, CustomStringConvertible {
    var code: Int32
    var message: String

    var description: String { "SQLite error \(code): \(message)" }

    /// The primary result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, …).
    var primaryCode: Int32 { code & 0xFF }
}

/// The store's SQLite writer connection, driven through the C API with a cache of prepared
/// statements.
///
/// The edge writes behind the same handful of statements thousands of times a second (auth
/// events, registrations, credential uses). Preparing each anew, as SQLiteNIO does, cost about
/// as much as running it; here a statement is prepared once and reset between runs.
///
/// Used by one caller at a time (the writer pool hands it out exclusively); every call runs on
/// the NIO thread pool, so SQLite's blocking I/O never runs on an event loop or the
/// cooperative pool.
final class SQLiteRawConnection: @unchecked Sendable {
    /// More distinct statements than this (multi-row inserts of many sizes) clears the cache.
    static let cacheLimit = 128

    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let pool: NIOThreadPool

    private init(handle: OpaquePointer, pool: NIOThreadPool) {
        self.handle = handle
        self.pool = pool
    }

    static func open(path: String, pool: NIOThreadPool = .singleton) async throws -> SQLiteRawConnection {
        try await pool.runIfActive {
            var handle: OpaquePointer?
            let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
            let rc = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
            guard rc == SQLITE_OK, let handle else {
                let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0).map { String(cString: $0) } } ?? "cannot open"
                sqlite_nio_sqlite3_close(handle)
                throw SQLiteRawError(code: rc, message: message)
            }
            sqlite_nio_sqlite3_extended_result_codes(handle, 1)
            return SQLiteRawConnection(handle: handle, pool: pool)
        }
    }

    deinit {
        finalizeAll()
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
    }

    /// Runs one statement and returns its rows.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await pool.runIfActive { [self] in try run(sql, binds) }
    }

    /// Runs the one-row statement `sql` once for each group of `columns` values in `binds`,
    /// all in one trip to the thread pool.
    func runForEachRow(_ sql: String, columns: Int, _ binds: [SQLValue]) async throws {
        precondition(columns > 0 && binds.count % columns == 0, "binds must fill whole rows")
        try await pool.runIfActive { [self] in
            let statement = try prepared(sql)
            var start = 0
            while start < binds.count {
                defer { sqlite_nio_sqlite3_reset(statement) }
                try bind(statement, binds[start..<(start + columns)])
                let rc = sqlite_nio_sqlite3_step(statement)
                guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw failure(rc) }
                start += columns
            }
        }
    }

    func close() async throws {
        try await pool.runIfActive { [self] in
            finalizeAll()
            if let handle {
                let rc = sqlite_nio_sqlite3_close(handle)
                guard rc == SQLITE_OK else { throw failure(rc) }
                self.handle = nil
            }
        }
    }

    // MARK: - On the thread pool

    private func run(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        let statement = try prepared(sql)
        defer { sqlite_nio_sqlite3_reset(statement) }
        try bind(statement, binds[...])
        var rows: [SQLRow] = []
        let columns = sqlite_nio_sqlite3_column_count(statement)
        while true {
            let rc = sqlite_nio_sqlite3_step(statement)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { throw failure(rc) }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columns))
            for i in 0..<columns { values.append(value(statement, i)) }
            rows.append(SQLRow(values))
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        guard let handle else { throw SQLiteRawError(code: SQLITE_MISUSE, message: "connection closed") }
        if let cached = statements[sql] { return cached }
        if statements.count >= Self.cacheLimit { finalizeAll() }
        var statement: OpaquePointer?
        let rc = sql.withCString { text in
            sqlite_nio_sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        }
        guard rc == SQLITE_OK, let statement else {
            if let statement { sqlite_nio_sqlite3_finalize(statement) }
            throw failure(rc)
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ statement: OpaquePointer, _ binds: ArraySlice<SQLValue>) throws {
        var position: Int32 = 1
        for index in binds.indices {
            let rc: Int32
            switch binds[index] {
            case .null:
                rc = sqlite_nio_sqlite3_bind_null(statement, position)
            case .int(let v):
                rc = sqlite_nio_sqlite3_bind_int64(statement, position, v)
            case .double(let v):
                rc = sqlite_nio_sqlite3_bind_double(statement, position, v)
            case .text(let s):
                rc = s.utf8.withContiguousStorageIfAvailable { Self.bindText(statement, position, $0) }
                    ?? { var copy = s; return copy.withUTF8 { Self.bindText(statement, position, $0) } }()
            }
            guard rc == SQLITE_OK else { throw failure(rc) }
            position += 1
        }
    }

    private static func bindText(_ statement: OpaquePointer, _ position: Int32, _ utf8: UnsafeBufferPointer<UInt8>) -> Int32 {
        // A nil pointer would bind NULL, not the empty string.
        guard let base = utf8.baseAddress else { return sqlite_nio_sqlite3_bind_text(statement, position, "", 0, transient) }
        return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
            sqlite_nio_sqlite3_bind_text64(statement, position, $0, UInt64(utf8.count), transient, UInt8(SQLITE_UTF8))
        }
    }

    private func value(_ statement: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite_nio_sqlite3_column_type(statement, i) {
        case SQLITE_INTEGER:
            return .int(sqlite_nio_sqlite3_column_int64(statement, i))
        case SQLITE_FLOAT:
            return .double(sqlite_nio_sqlite3_column_double(statement, i))
        case SQLITE_NULL:
            return .null
        default:  // text, and blobs read as text (the schema has none)
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, i))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, i) else { return .text("") }
            return .text(String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self))
        }
    }

    private func failure(_ rc: Int32) -> SQLiteRawError {
        let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0).map { String(cString: $0) } } ?? "SQLite error"
        let code = handle.map { sqlite_nio_sqlite3_extended_errcode($0) } ?? rc
        return SQLiteRawError(code: code == 0 ? rc : code, message: message)
    }

    private func finalizeAll() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
    }
}

/// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
