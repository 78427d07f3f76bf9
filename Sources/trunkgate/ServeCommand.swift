import ArgumentParser
import Logging
import SIPTransport
import ServiceLifecycle

/// `trunkgate serve`: the SIP edge (SPEC §4).
///
/// For now it listens, parses and answers with ``MinimalEdge``; the control-plane API, the store
/// and TLS arrive with later issues, and their flags with them.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the SIP edge.",
        discussion: """
            Listens on every --sip address and answers SIP requests: OPTIONS gets 200, a message \
            that does not parse gets 400 (when a response is possible), CANCEL gets 481, other \
            requests get 501 (ACK: nothing). Trunks, authentication and the API are not wired in \
            yet. SIGTERM or SIGINT stops listening, closes connections and exits.
            """
    )

    @Option(
        name: .customLong("sip"),
        help: ArgumentHelp(
            "Listening address, repeatable: udp:HOST:PORT, tcp:HOST:PORT (IPv6 in brackets, e.g. tcp:[::]:5060). Default: udp and tcp on 0.0.0.0:5060 and [::]:5060. tls: is not supported yet.",
            valueName: "transport:host:port"),
        transform: { try SIPListenAddress(parsing: $0) }
    )
    var sip: [SIPListenAddress] = []

    @Option(help: "Data directory (SQLite file, TLS material, nonce key). Nothing is stored yet.")
    var data: String = "./trunkgate-data"

    @Option(help: "Domain under which trunk domains live by default. Not used yet: there are no trunks.")
    var edgeDomain: String?

    @Option(
        help: ArgumentHelp(
            "Log level: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (default: info).",
            valueName: "level"),
        transform: { text in
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError("unknown log level '\(text)'")
            }
            return level
        }
    )
    var logLevel: Logger.Level = .info

    func run() async throws {
        var logger = Logger(label: "trunkgate")
        logger.logLevel = logLevel
        let transport = SIPTransportService(
            configuration: SIPTransportConfiguration(addresses: sip.isEmpty ? SIPListenAddress.defaults : sip),
            handler: MinimalEdge(),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(
                        service: transport,
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
