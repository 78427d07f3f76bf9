import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import SIPMessage
import Synchronization
import NIOCore
import NIOPosix
import NIOSSL
import SIPDigest
import SIPTransaction
import SIPTransport
import ServiceLifecycle
import TrunkgateAPI
import TrunkgateEdge
import TrunkgateModel
import TrunkgateStore
import TrunkgateWebhooks

/// `trunkgate serve`: the SIP edge and the control-plane API (SPEC §4).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the SIP edge and the API.",
        discussion: """
            Opens (and on first start creates and migrates) the database, loads the trunk \
            configuration into memory, then listens on every --sip address and on --api. \
            Configuration changes made through the API (on this node or, with PostgreSQL, any \
            node) reach the SIP side within a second. Every option can also be given as an \
            environment variable: TRUNKGATE_ and the option name in capitals with underscores \
            (TRUNKGATE_DATABASE, TRUNKGATE_SIP as a comma-separated list, TRUNKGATE_API …); a \
            flag on the command line wins. SIGTERM or SIGINT drains and stops.
            """
    )

    @Option(
        name: .customLong("sip"),
        help: ArgumentHelp(
            "Listening address, repeatable: udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT (IPv6 in brackets, e.g. tcp:[::]:5060; tls: needs --tls-cert and --tls-key). Default: udp and tcp on 0.0.0.0:5060 and [::]:5060.",
            valueName: "transport:host:port")
    )
    var sip: [String] = []

    @Option(help: ArgumentHelp("PEM certificate chain for tls: listeners.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key for tls: listeners.", valueName: "file"))
    var tlsKey: String?

    @Option(help: "Data directory: SQLite file, server secrets (created on first start).")
    var data: String?

    @Option(help: ArgumentHelp("sqlite:PATH (default: the data directory's trunkgate.sqlite) or postgres://user:pass@host:port/db.", valueName: "url"))
    var database: String?

    @Option(help: ArgumentHelp("Where the API listens (default 127.0.0.1:8080).", valueName: "host:port"))
    var api: String?

    @Option(help: "Domain under which trunk domains live by default (<trunk_sid>.<edge-domain>; default trunks.invalid).")
    var edgeDomain: String?

    @Option(help: ArgumentHelp("The PSTN carrier gateway (sip:HOST:PORT, over UDP unless ;transport=tcp or ;transport=tls, or sips:HOST:PORT): authenticated INVITEs to trunk domains are routed to it, and INVITEs from its address are inbound calls. Without it, INVITEs get 501.", valueName: "uri"))
    var carrier: String?

    @Option(help: ArgumentHelp("PEM file of CA certificates trusted for outbound TLS legs (carrier, destinations); default: the system's.", valueName: "file"))
    var tlsCA: String?

    @Option(help: ArgumentHelp("DNS server for locating destinations (NAPTR, SRV, A/AAAA; RFC 3263), HOST:PORT; default: /etc/resolv.conf's.", valueName: "host:port"))
    var dnsServer: String?

    @Option(help: "Failed credential checks from one source IP within --lockout-window that lock it out (default 10).")
    var lockoutThreshold: Int?

    @Option(help: "Seconds over which failures are counted (default 60).")
    var lockoutWindow: Int?

    @Option(help: "Seconds a locked-out source IP gets 403 (default 60).")
    var lockoutDuration: Int?

    @Option(help: "Seconds a digest nonce stays fresh; afterwards a correct answer gets stale=true (default 300).")
    var nonceLifetime: Int?

    @Option(help: "Event-loop threads that handle SIP and the API (default: one per core, TRUNKGATE_THREADS).")
    var threads: Int?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical (default info).", valueName: "level"))
    var logLevel: String?

    @Flag(help: "Let webhooks reach private, loopback and link-local addresses (refused by default: a customer's URL must not reach the operator's network).")
    var webhookAllowPrivateNetworks = false

    /// Hidden (for tests and benchmarks): API requests per minute per key (default 200, SPEC §2).
    @Option(help: .hidden)
    var apiRateLimit: Int?

    /// A flag, else TRUNKGATE_<NAME>, else nil.
    private func setting(_ value: String?, _ name: String) -> String? {
        if let value { return value }
        let env = ProcessInfo.processInfo.environment["TRUNKGATE_" + name]
        return env?.isEmpty == false ? env : nil
    }

    private func number(_ value: Int?, _ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        let n: Int
        if let value { n = value } else if let text = setting(nil, name) {
            guard let parsed = Int(text) else { throw ArgumentParser.ValidationError("TRUNKGATE_\(name) must be a number") }
            n = parsed
        } else { n = fallback }
        guard range.contains(n) else { throw ArgumentParser.ValidationError("\(name.lowercased().replacingOccurrences(of: "_", with: "-")) must be in \(range.lowerBound)…\(range.upperBound)") }
        return n
    }

    func run() async throws {
        MallocTuning.apply()
        // Before anything (the store included) touches the singleton group, which sizes itself
        // on first use.
        NIOSingletons.groupLoopCountSuggestion = try number(threads, "THREADS", default: System.coreCount, range: 1...256)
        let levelText = setting(logLevel, "LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ArgumentParser.ValidationError("unknown log level '\(levelText)'")
        }
        // Logging is bootstrapped once, here; every module logs through swift-log.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "trunkgate")
        // Metrics likewise: swift-metrics into one Prometheus registry that /metrics renders.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let sipTexts = sip.isEmpty ? (setting(nil, "SIP")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []) : sip
        let addresses: [SIPListenAddress]
        do {
            addresses = try sipTexts.isEmpty ? SIPListenAddress.defaults : sipTexts.map { try SIPListenAddress(parsing: $0) }
        } catch {
            throw ArgumentParser.ValidationError("\(error)")
        }
        var transportConfiguration = SIPTransportConfiguration(addresses: addresses)
        // One UDP socket per loop, SO_REUSEPORT spreading peers over them; a read burst from one
        // busy peer (which SO_REUSEPORT keeps on one socket, a TCP connection on one loop) is
        // dealt out over every loop (see SIPDatagramHandler, SIPStreamHandler). Handing off
        // every message instead cost ~10 % more CPU per flow.
        transportConfiguration.spreadBurstsOverLoops = true
        if addresses.contains(where: { $0.transport == .tls }) {
            guard let certPath = setting(tlsCert, "TLS_CERT"), let keyPath = setting(tlsKey, "TLS_KEY") else {
                throw ArgumentParser.ValidationError("a tls: listener needs --tls-cert and --tls-key")
            }
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certPath).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
                transportConfiguration.tls = try NIOSSLContext(
                    configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
            } catch {
                throw ArgumentParser.ValidationError("cannot load the TLS certificate or key: \(error)")
            }
        }
        let (apiHost, apiPort) = try Self.hostPort(setting(api, "API") ?? "127.0.0.1:8080")
        let edgeDomainName = setting(edgeDomain, "EDGE_DOMAIN") ?? "trunks.invalid"
        var carrierRoute: (uri: SIPURI, address: SocketAddress, transport: SIPTransportProtocol, serverName: String?)?
        if let carrierText = setting(carrier, "CARRIER") {
            guard let uri = try? SIPURI(parsing: Substring(carrierText)), !uri.host.isEmpty,
                  let transport = uri.transportParameter.map({ SIPTransportProtocol(rawValue: $0.lowercased()) }) ?? (uri.scheme == .sips ? .tls : .udp)
            else { throw ArgumentParser.ValidationError("--carrier must be a sip: URI like sip:203.0.113.10:5060 (;transport=udp|tcp|tls) or sips:HOST:PORT") }
            guard addresses.contains(where: { $0.transport == transport }) else {
                throw ArgumentParser.ValidationError("--carrier over \(transport) needs a \(transport): listener (--sip \(transport):…)")
            }
            let host = uri.host.hasPrefix("[") ? String(uri.host.dropFirst().dropLast()) : String(uri.host)
            // Resolved once, at start-up (A/AAAA through the system resolver).
            guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: uri.port ?? (transport == .tls ? 5061 : 5060)) else {
                throw ArgumentParser.ValidationError("--carrier: cannot resolve \(host)")
            }
            let isName = (try? SocketAddress(ipAddress: host, port: 0)) == nil
            carrierRoute = (uri, address, transport, isName ? host : nil)
            logger.info("carrier gateway configured", metadata: ["carrier": "\(carrierText)", "address": "\(address)", "transport": "\(transport)"])
        }
        var tlsClient: NIOSSLContext?
        do {
            var client = TLSConfiguration.makeClientConfiguration()
            if let ca = setting(tlsCA, "TLS_CA") { client.trustRoots = .file(ca) }
            tlsClient = try NIOSSLContext(configuration: client)
        } catch {
            throw ArgumentParser.ValidationError("cannot set up outbound TLS (--tls-ca): \(error)")
        }
        var locator = SIPLocator(nameservers: SIPLocator.systemNameservers(), supported: Set(addresses.map(\.transport)))
        if let dns = setting(dnsServer, "DNS_SERVER") {
            let (host, port) = try Self.hostPort(dns, option: "--dns-server")
            guard let server = try? SocketAddress(ipAddress: host, port: port) else { throw ArgumentParser.ValidationError("--dns-server must be IP:PORT") }
            locator.nameservers = [server]
        }
        let lockoutPolicy = LockoutTracker.Policy(
            maxFailures: try number(lockoutThreshold, "LOCKOUT_THRESHOLD", default: 10, range: 1...1_000_000),
            window: TimeInterval(try number(lockoutWindow, "LOCKOUT_WINDOW", default: 60, range: 1...86_400)),
            duration: TimeInterval(try number(lockoutDuration, "LOCKOUT_DURATION", default: 60, range: 1...86_400)))
        let lifetime = try number(nonceLifetime, "NONCE_LIFETIME", default: 300, range: 10...86_400)
        let rateLimit = try number(apiRateLimit, "API_RATE_LIMIT", default: 200, range: 1...100_000_000)

        let dataDirectory = try DataDirectory(setting(data, "DATA") ?? "./trunkgate-data")
        let nonceKeys = try dataDirectory.nonceKeys()
        let sealer = try dataDirectory.sealer()
        let store: any TrunkgateStore
        do {
            store = try await StoreFactory.open(url: setting(database, "DATABASE") ?? "", dataDirectory: dataDirectory.path, logger: logger)
        } catch {
            logger.critical("cannot open the database", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }

        let group = MultiThreadedEventLoopGroup.singleton
        let authenticator = DigestAuthenticator(
            keys: nonceKeys, configuration: .init(nonceLifetimeSeconds: Int64(lifetime)))
        let scheduler = TimerWheelScheduler(loop: group.next())
        let transactions = ServerTransactionTable(scheduler: scheduler)
        let outboundSockets = SIPOutboundSockets(tlsClient: tlsClient)
        let calls = carrierRoute.map { route in
            var callConfiguration = CallManager.Configuration(carrier: route.uri, carrierAddress: route.address, fromDomain: edgeDomainName)
            callConfiguration.carrierTransport = route.transport
            callConfiguration.carrierServerName = route.serverName
            callConfiguration.sealer = sealer
            callConfiguration.locator = locator
            return CallManager(
                configuration: callConfiguration,
                sockets: outboundSockets, transactions: transactions, scheduler: scheduler, logger: Logger(label: "trunkgate.calls"))
        }
        let handler = EdgeRequestHandler(
            configuration: EdgeConfigurationCell(),
            authorizer: EdgeAuthorizer(authenticator: authenticator, lockouts: LockoutTracker(policy: lockoutPolicy)),
            registrar: Registrar(),
            transactions: transactions,
            calls: calls,
            logger: Logger(label: "trunkgate.edge"))
        do {
            try await EdgeBackgroundService.loadInitialState(store: store, handler: handler)
        } catch {
            logger.critical("cannot load the configuration", metadata: ["error": "\(error)"])
            try? await store.close()
            throw ExitCode(2)
        }
        let configuration = handler.configuration.current
        logger.info("configuration loaded", metadata: ["version": "\(configuration.version)", "trunks": "\(configuration.trunksBySid.count)"])

        let listening = ListeningFlag()
        let transport = SIPTransportService(
            configuration: transportConfiguration,
            handler: handler, group: group, logger: Logger(label: "trunkgate.sip"),
            onListening: { _ in listening.set() },
            outbound: outboundSockets,
            beforeClose: {
                guard let calls, calls.activeCalls > 0 else { return }
                calls.endAllCalls()
                // Give the BYEs and CANCELs a moment on the wire before the sockets close.
                try? await Task.sleep(for: .milliseconds(200))
            })
        var webhookConfiguration = WebhookDispatcher.Configuration()
        webhookConfiguration.allowPrivateNetworks = webhookAllowPrivateNetworks || ["1", "true", "yes"].contains(setting(nil, "WEBHOOK_ALLOW_PRIVATE_NETWORKS")?.lowercased() ?? "")
        let webhooks = WebhookDispatcher(store: store, sealer: sealer, configuration: webhookConfiguration, logger: Logger(label: "trunkgate.webhooks"))
        let background = EdgeBackgroundService(store: store, handler: handler, logger: Logger(label: "trunkgate.edge"), events: webhooks)
        let apiServer = APIServer(
            store: store,
            options: APIOptions(
                edgeDomain: edgeDomainName, sealer: sealer,
                rateLimitPerMinute: rateLimit,
                prometheus: registry,
                readiness: { listening.isSet ? await store.ping() : false },
                logger: Logger(label: "trunkgate.api")),
            host: apiHost, port: apiPort, logger: Logger(label: "trunkgate.api"))

        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                // Stopped in reverse order: the webhook dispatcher last, after the edge's final flush.
                services: [
                    .init(service: webhooks, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: background, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: transport, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: apiServer, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        logger.info("stopped")
    }

    static func hostPort(_ text: String, option: String = "--api") throws -> (String, Int) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ArgumentParser.ValidationError("\(option) must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ArgumentParser.ValidationError("\(option) must be HOST:PORT, e.g. 127.0.0.1:8080") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(portText), (0...65535).contains(port) else { throw ArgumentParser.ValidationError("\(option) port must be 0…65535") }
        return (String(host), port)
    }
}

/// Set once the SIP listeners are bound (for `/readyz`).
final class ListeningFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
