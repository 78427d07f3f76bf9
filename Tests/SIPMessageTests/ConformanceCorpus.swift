import Foundation

/// The shared conformance corpus (`../shared/conformance` beside the checkout), read in place.
enum ConformanceCorpus {
    static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["TRUNKGATE_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: override)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()

    struct Entry: Sendable, CustomStringConvertible {
        var path: String
        var section: String
        var expect: String
        var note: String
        var description: String { path }

        var status: Int? { Self.token("status", in: note).flatMap { Int($0) } }
        var altStatus: Int? { Self.token("alt_status", in: note).flatMap { Int($0) } }

        static func token(_ key: String, in note: String) -> String? {
            for word in note.split(whereSeparator: { $0 == " " || $0 == "." }) where word.hasPrefix(key + "=") {
                return String(word.dropFirst(key.count + 1))
            }
            return nil
        }
    }

    static func manifest() throws -> [Entry] {
        let text = try String(contentsOf: directory.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Entry(path: f[0], section: f[1], expect: f[2], note: f.count > 3 ? f[3] : "")
        }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        try Array(Data(contentsOf: directory.appendingPathComponent(path)))
    }

    /// Every message file of the RFC 4475 / RFC 5118 corpus.
    static func allMessages() throws -> [(String, [UInt8])] {
        try manifest().map { ($0.path, try bytes($0.path)) }
    }
}
