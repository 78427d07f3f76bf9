public import Logging
public import TrunkgateModel
import Foundation

/// Opens the store named by `--database`.
///
/// - `""`, `sqlite` or `sqlite:` → SQLite at `<dataDirectory>/trunkgate.sqlite`
/// - `sqlite:PATH` or `sqlite://PATH` → SQLite at PATH (relative paths against the working directory)
/// - `postgres://…` or `postgresql://…` → PostgreSQL (see ``PostgresStore/Configuration/init(url:)``)
///
/// The returned store is ready to use; its background work (PostgreSQL: client run loop,
/// LISTEN connection, version poll) runs until ``TrunkgateStore/close()``, which the caller
/// must await once at shutdown.
public enum StoreFactory {
    public static let defaultSQLiteFileName = "trunkgate.sqlite"

    public enum Kind: Sendable, Hashable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    /// Parses a database URL without opening anything.
    public static func kind(of url: String, dataDirectory: String) throws(StoreError) -> Kind {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        let lower = trimmed.lowercased()
        if trimmed.isEmpty || lower == "sqlite" || lower == "sqlite:" || lower == "sqlite://" {
            return .sqlite(path: (dataDirectory as NSString).appendingPathComponent(defaultSQLiteFileName))
        }
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            return .postgres(url: trimmed)
        }
        if lower.hasPrefix("sqlite://") {
            return .sqlite(path: String(trimmed.dropFirst("sqlite://".count)))
        }
        if lower.hasPrefix("sqlite:") {
            return .sqlite(path: String(trimmed.dropFirst("sqlite:".count)))
        }
        throw StoreError(.invalid, code: "invalid_database_url",
                         "unsupported database URL; use sqlite:PATH or postgres://user:password@host:port/database", field: "database")
    }

    public static func open(url: String, dataDirectory: String, logger: Logger) async throws(StoreError) -> any TrunkgateStore {
        switch try kind(of: url, dataDirectory: dataDirectory) {
        case .sqlite(let path):
            return try await SQLiteStore.open(path: path, logger: logger)
        case .postgres(let url):
            return try await PostgresStore.open(url: url, logger: logger)
        }
    }
}
