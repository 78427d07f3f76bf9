import ArgumentParser
import Foundation
import Logging
import TrunkgateModel
import TrunkgateStore

/// `--data` / `--database` for the admin commands: the same store `serve` uses.
struct StoreOptions: ParsableArguments {
    @Option(help: "Data directory (default ./trunkgate-data, or TRUNKGATE_DATA).")
    var data: String?

    @Option(help: ArgumentHelp("sqlite:PATH (default: the data directory's trunkgate.sqlite) or postgres://… (or TRUNKGATE_DATABASE).", valueName: "url"))
    var database: String?

    var dataPath: String {
        data ?? ProcessInfo.processInfo.environment["TRUNKGATE_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "./trunkgate-data"
    }

    var databaseURL: String {
        database ?? ProcessInfo.processInfo.environment["TRUNKGATE_DATABASE"] ?? ""
    }

    /// Opens (creating and migrating when new) the store. Logs only warnings, to stderr.
    func open() async throws -> (any TrunkgateStore, DataDirectory) {
        let directory = try DataDirectory(dataPath)
        var logger = Logger(label: "trunkgate.admin") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        do {
            return (try await StoreFactory.open(url: databaseURL, dataDirectory: directory.path, logger: logger), directory)
        } catch {
            throw AdminFailure("cannot open the database: \(error)")
        }
    }
}

/// A refusal of an admin command: printed as `error: …` with exit status 1.
struct AdminFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
