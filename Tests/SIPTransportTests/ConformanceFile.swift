import Foundation

/// Reads the shared conformance corpus (`../shared/conformance` beside the package, or
/// `$TRUNKGATE_SHARED/conformance`).
enum ConformanceFile {
    static var directory: URL {
        if let shared = ProcessInfo.processInfo.environment["TRUNKGATE_SHARED"] {
            return URL(fileURLWithPath: shared).appendingPathComponent("conformance")
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // SIPTransportTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()
            .appendingPathComponent("shared/conformance")
    }

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "conformance file not found: \(path)" }
    }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        let url = directory.appendingPathComponent(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw Missing(path: url.path) }
        return Array(data)
    }
}
