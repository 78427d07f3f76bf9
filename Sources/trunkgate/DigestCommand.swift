import ArgumentParser
import Foundation
import SIPDigest

/// `trunkgate digest …`: Digest authentication tools (SPEC §4).
struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Digest authentication tools.",
        subcommands: [Response.self]
    )

    /// `trunkgate digest response …`: prints the lower-case hex Digest response, e.g. to check
    /// what a client should have sent.
    struct Response: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the Digest response (lower-case hex) for the given inputs."
        )

        @Option(
            help: "MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256 or SHA-512-256-sess.",
            transform: { text in
                guard let algorithm = DigestAlgorithm(token: text) else {
                    throw ValidationError("unknown algorithm '\(text)'; use one of: \(DigestAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return algorithm
            }
        )
        var algorithm: DigestAlgorithm

        @Option(help: "The user name.")
        var username: String

        @Option(help: "The realm of the challenge.")
        var realm: String

        @Option(help: "The password.")
        var password: String

        @Option(help: "The request method, e.g. REGISTER or INVITE.")
        var method: String

        @Option(help: "The digest uri: the Request-URI as sent.")
        var uri: String

        @Option(help: "The nonce of the challenge.")
        var nonce: String

        @Option(
            help: "auth or auth-int; omit for the RFC 2069 form.",
            transform: { text in
                guard let qop = DigestQOP(token: text) else { throw ValidationError("unknown qop '\(text)'; use auth or auth-int") }
                return qop
            }
        )
        var qop: DigestQOP?

        @Option(help: "The nonce-count: 8 hex digits, e.g. 00000001 (with --qop).")
        var nc: String?

        @Option(help: "The client nonce (with --qop, and for -sess algorithms).")
        var cnonce: String?

        @Option(name: .customLong("body-file"), help: "File holding the message body (with --qop auth-int; default empty).")
        var bodyFile: String?

        func validate() throws {
            if qop != nil {
                guard let nc, nc.utf8.count == 8, nc.allSatisfy(\.isHexDigit) else {
                    throw ValidationError("--qop needs --nc with 8 hex digits, e.g. 00000001")
                }
                guard cnonce != nil else { throw ValidationError("--qop needs --cnonce") }
            } else if nc != nil {
                throw ValidationError("--nc is used only with --qop")
            }
            if algorithm.isSession, cnonce == nil {
                throw ValidationError("\(algorithm.rawValue) needs --cnonce")
            }
            if bodyFile != nil, qop != .authInt {
                throw ValidationError("--body-file is used only with --qop auth-int")
            }
        }

        func run() throws {
            var body: [UInt8]?
            if let bodyFile {
                guard let data = FileManager.default.contents(atPath: bodyFile) else {
                    throw ValidationError("cannot read --body-file \(bodyFile)")
                }
                body = Array(data)
            }
            print(DigestResponse.compute(
                algorithm: algorithm, username: username, realm: realm, password: password,
                method: method, uri: uri, nonce: nonce, qop: qop, nc: nc, cnonce: cnonce, body: body
            ))
        }
    }
}
