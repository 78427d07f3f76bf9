import ArgumentParser
import Foundation
import SIPMessage

/// `trunkgate sip …`: tools for looking at SIP messages.
struct SIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip",
        abstract: "Inspect SIP messages.",
        subcommands: [SIPParseCommand.self]
    )
}

/// `trunkgate sip parse FILE…` (SPEC §4): one JSON object per accepted file on stdout,
/// `FILE: error: <reason>` on stderr for each refused one, exit status 1 if any was refused.
struct SIPParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse each file as one SIP message (as one UDP datagram) and print it as JSON."
    )

    @Argument(help: "Files, each holding one SIP message.")
    var files: [String]

    @Option(help: "Framing: 'datagram' (no Content-Length means the rest of the file) or 'stream'.")
    var framing: String = "datagram"

    func run() throws {
        let mode: SIPFramingMode = framing == "stream" ? .stream : .datagram
        var refused = false
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("\(file): error: cannot read file\n".utf8))
                refused = true
                continue
            }
            do {
                let message = try SIPMessage.parse(Array(data), framing: mode)
                print(Self.json(message))
            } catch {
                FileHandle.standardError.write(Data("\(file): error: \(error.description)\n".utf8))
                refused = true
            }
        }
        if refused { throw ExitCode(1) }
    }

    static func json(_ message: SIPMessage) -> String {
        var object: [String: Any] = [:]
        switch message.startLine {
        case .request(let line):
            object["kind"] = "request"
            object["method"] = String(line.method)
            object["request_uri"] = String(line.uri.raw)
        case .response(let line):
            object["kind"] = "response"
            object["status"] = line.code
            object["reason"] = String(line.reason)
        }
        object["headers"] = message.headers.map { [$0.name.name, String($0.value)] }
        object["body_length"] = message.body.count
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
