import Foundation
import Testing

@testable import TrunkgateStore

/// The SQLite writer connection with its statement cache, on a real database file.
@Suite("SQLite writer connection")
struct SQLiteRawConnectionTests {
    private func withConnection(_ body: (SQLiteRawConnection) async throws -> Void) async throws {
        let dir = try makeTempDirectory("trunkgate-raw")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let connection = try await SQLiteRawConnection.open(path: dir + "/raw.sqlite")
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    @Test func aCachedStatementRunsAgainWithNewValues() async throws {
        try await withConnection { c in
            _ = try await c.query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT)", [])
            for i in 0..<50 {
                _ = try await c.query("INSERT INTO t (id, name, score, note) VALUES (?, ?, ?, ?)",
                                      [.int(Int64(i)), .text("n\(i)"), .double(Double(i) / 2), i % 2 == 0 ? .null : .text("")])
            }
            let rows = try await c.query("SELECT id, name, score, note FROM t WHERE id >= ? ORDER BY id", [.int(48)])
            #expect(rows.count == 2)
            #expect(rows[0].int64(0) == 48 && rows[0].string(1) == "n48" && rows[0].optDouble(2) == 24)
            #expect(rows[0].isNull(3), "NULL stays NULL")
            #expect(!rows[1].isNull(3) && rows[1].string(3) == "", "the empty string is not bound as NULL")
            // The same statement, other values: no rows left from the previous run.
            let none = try await c.query("SELECT id, name, score, note FROM t WHERE id >= ? ORDER BY id", [.int(50)])
            #expect(none.isEmpty)
            let text = try await c.query("SELECT ?", [.text("héllo \u{1F600}")])
            #expect(text.first?.string(0) == "héllo \u{1F600}")
        }
    }

    @Test func moreDistinctStatementsThanTheCacheHoldsStillRun() async throws {
        try await withConnection { c in
            for i in 0..<(SQLiteRawConnection.cacheLimit * 2 + 3) {
                let rows = try await c.query("SELECT \(i) + ?", [.int(1)])
                #expect(rows.first?.int64(0) == Int64(i + 1))
            }
        }
    }

    @Test func aFailedStepIsReportedAndTheStatementIsUsableAfterwards() async throws {
        try await withConnection { c in
            _ = try await c.query("CREATE TABLE u (name TEXT NOT NULL UNIQUE)", [])
            let insert = "INSERT INTO u (name) VALUES (?)"
            _ = try await c.query(insert, [.text("a")])
            do {
                _ = try await c.query(insert, [.text("a")])
                Issue.record("a duplicate was inserted")
            } catch let error as SQLiteRawError {
                #expect(error.primaryCode == 19, "SQLITE_CONSTRAINT")
                #expect(error.message.contains("u.name"))
                guard case .unique(let constraint) = SQLiteBackend.classify(error) else {
                    Issue.record("not classified as a unique violation: \(error)")
                    return
                }
                #expect(constraint == "primary_key")
            }
            _ = try await c.query(insert, [.text("b")])
            await #expect(throws: SQLiteRawError.self) { _ = try await c.query("SELEC nonsense", []) }
            let count = try await c.query("SELECT count(*) FROM u", [])
            #expect(count.first?.int64(0) == 2)
        }
    }

    @Test func rowsAreInsertedOneStatementPerRowInOneTrip() async throws {
        try await withConnection { c in
            _ = try await c.query("CREATE TABLE e (a TEXT, b INTEGER)", [])
            let executor = SQLiteRawExecutor(connection: c)
            var binds: [SQLValue] = []
            for i in 0..<1_000 { binds.append(.text("row\(i)")); binds.append(.int(Int64(i))) }
            try await executor.insertRows("INSERT INTO e (a, b)", columns: 2, rowsPerStatement: 250, binds)
            let rows = try await c.query("SELECT count(*), sum(b), min(a), max(b) FROM e", [])
            #expect(rows.first?.int64(0) == 1_000)
            #expect(rows.first?.int64(1) == Int64(999 * 1_000 / 2))
            #expect(rows.first?.string(2) == "row0")
            // A row that breaks a constraint fails the call (the caller's transaction then
            // rolls back).
            _ = try await c.query("CREATE TABLE f (a TEXT NOT NULL)", [])
            await #expect(throws: SQLiteRawError.self) {
                try await executor.insertRows("INSERT INTO f (a)", columns: 1, rowsPerStatement: 1, [.text("x"), .null])
            }
        }
    }
}
