import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import NIOCore
import NIOPosix
import SIPDigest
import SIPMessage
import SIPTransaction
import SIPTransport
import ServiceLifecycle
import Synchronization
import TrunkgateAPI
import TrunkgateEdge
import TrunkgateModel
import TrunkgateStore

/// One real edge node on loopback, composed like `trunkgate serve`: SQLite store in a temporary
/// directory, the edge's request pipeline behind real UDP and TCP listeners (IPv4 and IPv6,
/// ephemeral ports), the background sync service and the REST API — all in one ServiceGroup.
final class EdgeNode: Sendable {
    struct Ports: Sendable {
        var udp4 = 0, tcp4 = 0, udp6 = 0, api = 0
        var ready: Bool { udp4 != 0 && tcp4 != 0 && udp6 != 0 && api != 0 }
    }

    let directory: URL
    let store: any TrunkgateStore
    let handler: EdgeRequestHandler
    let accountSid: String
    let keySid: String
    let token: String
    private final class PortBox: Sendable {
        let value = Mutex(Ports())
        func withLock<T>(_ body: (inout Ports) -> T) -> T { value.withLock { body(&$0) } }
    }
    private let ports = PortBox()
    private let group: ServiceGroup
    private let runner: Task<Void, any Error>

    var udpPort: Int { ports.withLock { $0.udp4 } }
    var tcpPort: Int { ports.withLock { $0.tcp4 } }
    var udp6Port: Int { ports.withLock { $0.udp6 } }
    var apiPort: Int { ports.withLock { $0.api } }

    /// - Parameter carrier: the PSTN gateway (`--carrier`); calls are routed only with one.
    /// - Parameter pollInterval: the background service's safety-net version poll; a test sets
    ///   it long to show that the store's change notification alone reaches the edge.
    init(lockout: LockoutTracker.Policy = .init(), nonceLifetime: Int64 = 300, database: String = "", carrier: SocketAddress? = nil,
         credentialUseInterval: Duration = .seconds(60), pollInterval: Duration = .milliseconds(500)) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tg-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "it")
        logger.logLevel = .critical
        store = try await StoreFactory.open(url: database, dataDirectory: directory.path, logger: logger)

        let account = Account(name: "integration")
        let (key, token) = APICredentials.issue(accountSid: account.sid)
        try await store.createAccount(account, key: key)
        accountSid = account.sid
        keySid = key.sid
        self.token = token

        let loops = MultiThreadedEventLoopGroup.singleton
        let scheduler = TimerWheelScheduler(loop: loops.next())
        let transactions = ServerTransactionTable(scheduler: scheduler)
        let outbound = SIPOutboundSockets()
        let calls = try carrier.map { address in
            CallManager(
                configuration: .init(carrier: try SIPURI(parsing: "sip:\(address.ipAddress!):\(address.port!)"), carrierAddress: address,
                                     fromDomain: "edge.test"),
                sockets: outbound, transactions: transactions, scheduler: scheduler, logger: logger)
        }
        let handler = EdgeRequestHandler(
            configuration: EdgeConfigurationCell(),
            authorizer: EdgeAuthorizer(
                authenticator: DigestAuthenticator(keys: try NonceKeyRing(current: .generate(id: 1)),
                                                   configuration: .init(nonceLifetimeSeconds: nonceLifetime)),
                lockouts: LockoutTracker(policy: lockout)),
            registrar: Registrar(),
            transactions: transactions,
            calls: calls,
            logger: logger)
        self.handler = handler
        try await EdgeBackgroundService.loadInitialState(store: store, handler: handler)

        let ports = self.ports
        let transport = SIPTransportService(
            configuration: SIPTransportConfiguration(addresses: [
                try SIPListenAddress(parsing: "udp:127.0.0.1:0"), try SIPListenAddress(parsing: "tcp:127.0.0.1:0"),
                try SIPListenAddress(parsing: "udp:[::1]:0"),
            ]),
            handler: handler, group: loops, logger: logger,
            onListening: { bound in
                ports.withLock { p in
                    p.udp4 = bound[0].localAddress.port ?? 0
                    p.tcp4 = bound[1].localAddress.port ?? 0
                    p.udp6 = bound[2].localAddress.port ?? 0
                }
            },
            outbound: outbound)
        var background = EdgeBackgroundService(store: store, handler: handler, logger: logger)
        background.flushInterval = .milliseconds(100)
        background.pollInterval = pollInterval
        background.credentialUseInterval = credentialUseInterval
        let api = APIServer(
            store: store, options: APIOptions(edgeDomain: "trunks.invalid", sealer: SecretSealer(keyData: SecretSealer.generateKeyData()),
                                              rateLimitPerMinute: 100_000, logger: logger),
            host: "127.0.0.1", port: 0, logger: logger,
            onListening: { port in ports.withLock { $0.api = port } })
        group = ServiceGroup(configuration: .init(services: [background, transport, api], logger: logger))
        let group = self.group
        runner = Task { try await group.run() }
        for _ in 0..<500 where !ports.withLock({ $0.ready }) { try await Task.sleep(for: .milliseconds(10)) }
        guard ports.withLock({ $0.ready }) else { throw NodeError("the node did not start listening within 5 s") }
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await runner.value
        try? await store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: API

    struct HTTPResult {
        var status: Int
        var json: Any?
        var body: Data
        var object: [String: Any] { json as? [String: Any] ?? [:] }
    }

    /// `path` relative to `/v1/accounts/{sid}`.
    @discardableResult
    func api(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(apiPort)/v1/accounts/\(accountSid)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return HTTPResult(status: status, json: data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data), body: data)
    }

    /// Creates a trunk and returns its sid.
    func createTrunk(_ fields: [String: Any]) async throws -> String {
        let r = try await api("POST", "/trunks", fields)
        guard r.status == 201 || r.status == 200, let sid = r.object["sid"] as? String else {
            throw NodeError("trunk not created: \(r.status) \(String(decoding: r.body, as: UTF8.self))")
        }
        return sid
    }

    func createCredential(trunk: String, user: String, password: String) async throws -> String {
        let r = try await api("POST", "/trunks/\(trunk)/credentials", ["user_name": user, "password": password])
        guard r.status == 201 || r.status == 200, let sid = r.object["sid"] as? String else {
            throw NodeError("credential not created: \(r.status) \(String(decoding: r.body, as: UTF8.self))")
        }
        return sid
    }

    /// Auth events, newest first, as (result, reason, user_name) for the given query string.
    func authEvents(_ query: String = "") async throws -> [[String: Any]] {
        let r = try await api("GET", "/auth-events\(query.isEmpty ? "" : "?" + query)")
        return r.object["auth_events"] as? [[String: Any]] ?? []
    }

    /// Waits until the edge's snapshot includes every committed change (the change feed is
    /// asynchronous); throws after 30 s.
    func settle() async throws {
        let target = try await store.currentConfigVersion()
        // Bounded generously and loud when it runs out: a loaded CI machine needed more than the
        // 2 s this once allowed, and returning unsettled made the next step fail as if the edge
        // had refused a known credential.
        for _ in 0..<3_000 where handler.configuration.current.version < target { try await Task.sleep(for: .milliseconds(10)) }
        let reached = handler.configuration.current.version
        guard reached >= target else { throw NodeError("the edge did not reach configuration version \(target) within 30 s (at \(reached))") }
    }

    /// Waits until queued auth events have reached the store (bounded).
    func flushEvents() async throws {
        for _ in 0..<100 where handler.authEvents.count > 0 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(150))
    }
}

struct NodeError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
