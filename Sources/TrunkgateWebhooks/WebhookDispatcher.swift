import AsyncHTTPClient
import CoreMetrics
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import TrunkgateModel

/// Delivers auth events and CDRs to each account's webhook URL (SPEC §3 "Call records and
/// events"), signed with ``WebhookSignature``.
///
/// Never on the SIP path: the edge hands over what it has just stored (``deliver``), which
/// only enqueues into a bounded buffer (full → dropped and counted). One POST per event,
/// several in flight; a delivery that fails (no connection, timeout, 408, 425, 429, 5xx) is
/// retried with exponential backoff and jitter up to ``Configuration/maxAttempts``; any other
/// answer is final. Redirects are not followed. Addresses in private, loopback and link-local
/// ranges are refused unless ``Configuration/allowPrivateNetworks`` (a customer's URL must not
/// reach the operator's internal network).
public final class WebhookDispatcher: Service, EdgeEventSink, Sendable {
    public struct Configuration: Sendable {
        public var maxAttempts = 6
        public var firstRetryDelay: Duration = .seconds(1)
        public var maxRetryDelay: Duration = .seconds(60)
        public var requestTimeout: Duration = .seconds(10)
        public var maxInFlight = 32
        /// Batches (one per flush of the edge) waiting to be sorted into deliveries.
        public var queueCapacity = 1_000
        /// How long an account's webhook settings are cached (an account change clears them).
        public var settingsTTL: TimeInterval = 30
        public var allowPrivateNetworks = false

        public init() {}
    }

    struct Batch: Sendable {
        var authEvents: [AuthEvent]
        var callRecords: [CallRecord]
    }

    public let configuration: Configuration
    private let store: any TrunkgateStore
    private let sealer: SecretSealer
    private let client: HTTPClient
    private let logger: Logger
    private let stream: AsyncStream<Batch>
    private let continuation: AsyncStream<Batch>.Continuation
    private let settings = Mutex<[String: (webhook: WebhookSettings?, fetched: Date)]>([:])
    private let delivered = Counter(label: "trunkgate_webhook_deliveries_total", dimensions: [("result", "delivered")])
    private let failed = Counter(label: "trunkgate_webhook_deliveries_total", dimensions: [("result", "failed")])
    private let dropped = Counter(label: "trunkgate_webhook_deliveries_total", dimensions: [("result", "dropped")])
    private let retried = Counter(label: "trunkgate_webhook_retries_total")

    public init(store: any TrunkgateStore, sealer: SecretSealer, configuration: Configuration = .init(), logger: Logger) {
        self.store = store
        self.sealer = sealer
        self.configuration = configuration
        self.logger = logger
        var http = HTTPClient.Configuration()
        http.redirectConfiguration = .disallow
        http.timeout = .init(connect: .seconds(5), read: .seconds(10))
        http.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        (stream, continuation) = AsyncStream.makeStream(of: Batch.self, bufferingPolicy: .bufferingOldest(configuration.queueCapacity))
    }

    // MARK: EdgeEventSink

    public func deliver(authEvents: [AuthEvent], callRecords: [CallRecord]) {
        if case .dropped = continuation.yield(Batch(authEvents: authEvents, callRecords: callRecords)) {
            dropped.increment(by: authEvents.count + callRecords.count)
            logger.warning("webhook queue full: events dropped", metadata: ["events": "\(authEvents.count + callRecords.count)"])
        }
    }

    public func accountChanged(_ accountSid: String) {
        _ = settings.withLock { $0.removeValue(forKey: accountSid) }
    }

    // MARK: Service

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await batch in stream {
                    for (event, webhook) in await sort(batch) {
                        if running >= configuration.maxInFlight {
                            await group.next()
                            running -= 1
                        }
                        group.addTask { await self.send(event, to: webhook) }
                        running += 1
                    }
                }
                // Shutting down: deliveries still waiting for a retry are abandoned.
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
        try? await client.shutdown()
    }

    /// The events of a batch that an account's webhook wants, with that webhook.
    private func sort(_ batch: Batch) async -> [(WebhookEvent, WebhookSettings)] {
        var out: [(WebhookEvent, WebhookSettings)] = []
        // Each account's settings are looked up once per batch: a batch holds a quarter
        // second's events (thousands under load), mostly of a few accounts, and most accounts
        // have no webhook at all.
        var known: [String: WebhookSettings?] = [:]
        func settings(of account: String) async -> WebhookSettings? {
            if let cached = known[account] { return cached }
            let fetched = await webhook(of: account)
            known[account] = .some(fetched)
            return fetched
        }
        for i in batch.authEvents.indices {
            guard let account = batch.authEvents[i].accountSid, let webhook = await settings(of: account) else { continue }
            let e = batch.authEvents[i]
            let type = WebhookEventType.of(e)
            if webhook.wants(type) { out.append((WebhookEvent(type: type, accountSid: account, createdAt: e.time, data: .auth(e)), webhook)) }
        }
        for r in batch.callRecords {
            guard let webhook = await settings(of: r.accountSid), webhook.wants(.callEnded) else { continue }
            out.append((WebhookEvent(type: .callEnded, accountSid: r.accountSid, createdAt: r.endTime, data: .call(r)), webhook))
        }
        return out
    }

    private func webhook(of account: String) async -> WebhookSettings? {
        let now = Date()
        if let cached = settings.withLock({ $0[account] }), now.timeIntervalSince(cached.fetched) < configuration.settingsTTL {
            return cached.webhook
        }
        let fetched: Account?
        do { fetched = try await store.account(account) } catch { return nil }  // store down: not cached, asked again next batch
        settings.withLock { $0[account] = (fetched?.webhook, now) }
        return fetched?.webhook
    }

    // MARK: Delivery

    enum Outcome { case delivered, retry(String), final(String) }

    private func send(_ event: WebhookEvent, to webhook: WebhookSettings) async {
        let body: Data
        let secret: String
        do {
            body = try event.encoded()
            secret = try sealer.open(webhook.secretSealed)
        } catch {
            failed.increment()
            logger.error("webhook event cannot be prepared", metadata: ["event": "\(event.id)"])
            return
        }
        var delay = configuration.firstRetryDelay
        for attempt in 1...max(1, configuration.maxAttempts) {
            let outcome = await attemptDelivery(event, body: body, secret: secret, url: webhook.url, attempt: attempt)
            switch outcome {
            case .delivered:
                delivered.increment()
                return
            case .final(let why):
                failed.increment()
                logger.warning("webhook delivery refused", metadata: ["event": "\(event.id)", "type": "\(event.type.rawValue)", "why": "\(why)"])
                return
            case .retry(let why):
                guard attempt < configuration.maxAttempts else {
                    failed.increment()
                    logger.warning("webhook delivery failed", metadata: ["event": "\(event.id)", "attempts": "\(attempt)", "why": "\(why)"])
                    return
                }
                retried.increment()
                logger.debug("webhook delivery will be retried", metadata: ["event": "\(event.id)", "attempt": "\(attempt)", "why": "\(why)"])
                // Full jitter on the upper half, so that many failed deliveries do not retry in step.
                let jittered = delay * Double.random(in: 0.5...1.0)
                do { try await Task.sleep(for: jittered) } catch { return }
                delay = min(delay * 2, configuration.maxRetryDelay)
            }
        }
    }

    private func attemptDelivery(_ event: WebhookEvent, body: Data, secret: String, url: String, attempt: Int) async -> Outcome {
        guard let parsed = URL(string: url), let host = parsed.host(percentEncoded: false) else { return .final("invalid URL") }
        if !configuration.allowPrivateNetworks {
            switch await Self.resolvesToPublicAddresses(host) {
            case .none: return .retry("cannot resolve \(host)")
            case .some(false): return .final("\(host) is in a private, loopback or link-local range")
            case .some(true): break
            }
        }
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "trunkgate-webhooks/1")
        request.headers.add(name: "X-Trunkgate-Event", value: event.type.rawValue)
        request.headers.add(name: "X-Trunkgate-Delivery", value: event.id)
        request.headers.add(name: "X-Trunkgate-Attempt", value: "\(attempt)")
        request.headers.add(name: WebhookSignature.timestampHeader, value: "\(timestamp)")
        request.headers.add(name: WebhookSignature.signatureHeader, value: WebhookSignature.sign(body: body, timestamp: timestamp, secret: secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .init(configuration.requestTimeout))
            _ = try? await response.body.collect(upTo: 64 * 1024)  // read (and discard) so the connection can be reused
            let status = Int(response.status.code)
            switch status {
            case 200..<300: return .delivered
            case 408, 425, 429, 500..<600: return .retry("HTTP \(status)")
            default: return .final("HTTP \(status)")
            }
        } catch is CancellationError {
            return .final("cancelled")
        } catch {
            return .retry("\(type(of: error))")
        }
    }

    /// Ranges a customer's webhook may not reach (RFC 6890 special-purpose blocks that lead
    /// into the operator's own network).
    static let privateRanges: [CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "::/128", "::1/128", "fc00::/7", "fe80::/10",
    ].compactMap { try? CIDR(parsing: $0) }

    static func isPublic(_ ip: IPAddress) -> Bool { !privateRanges.contains { $0.contains(ip) } }

    private static func ipAddress(_ sa: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok: Bool
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            ok = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                withUnsafePointer(to: sin.pointee.sin_addr) { inet_ntop(AF_INET, $0, &text, socklen_t(text.count)) != nil }
            }
        case AF_INET6:
            ok = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                withUnsafePointer(to: sin6.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &text, socklen_t(text.count)) != nil }
            }
        default:
            ok = false
        }
        guard ok else { return nil }
        return IPAddress(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// True when every address `host` resolves to is public; nil when it does not resolve.
    /// The lookup blocks, so it runs on NIO's thread pool.
    static func resolvesToPublicAddresses(_ host: String) async -> Bool? {
        let literal = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if let ip = IPAddress(literal) { return isPublic(ip) }
        let addresses: [IPAddress]? = try? await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(literal, nil, &hints, &result) == 0, let first = result else { return nil }
            defer { freeaddrinfo(first) }
            var found: [IPAddress] = []
            var node: UnsafeMutablePointer<addrinfo>? = first
            while let n = node {
                if let ip = n.pointee.ai_addr.flatMap(Self.ipAddress) { found.append(ip) }
                node = n.pointee.ai_next
            }
            return found
        }
        guard let addresses, !addresses.isEmpty else { return nil }
        return addresses.allSatisfy(isPublic)
    }
}
