import Logging
public import NIOCore
import NIOPosix
public import NIOSSL
import Synchronization

/// Where the edge sends its own requests from (the B2BUA's legs toward the carrier and
/// destinations).
///
/// - UDP: the listeners' sockets, so the far end sees the edge's listening address and port and
///   its responses come back to a listener.
/// - TCP and TLS: one client connection per far end (transport, address), opened on first use
///   and reused by every leg toward it; what arrives on it (responses, the far end's BYE) goes to
///   the same ``SIPMessageHandler`` as the listeners' traffic. Via and Contact name the edge's
///   TCP/TLS listener of that address family, where the far end can open a connection of its own.
///   TLS verifies the far end's certificate against `tlsClient`'s trust roots and the host name
///   of the URI (or, for an IP literal, its IP address). A far end that has a connection open to
///   one of our listeners (a registered client) is reached over that connection instead.
///
/// Filled in when the listeners bind.
public final class SIPOutboundSockets: Sendable {
    struct Listeners {
        /// Per transport, per family: the listener sockets, one chosen per family (a socket
        /// bound to a specific address, which is what goes into Via, is preferred to a wildcard).
        var inet: [SIPTransportProtocol: any Channel] = [:]
        var inet6: [SIPTransportProtocol: any Channel] = [:]
        var handler: (any SIPMessageHandler)?
        var logger: Logger?
        var maxMessageSize = SIPStreamFrameDecoder.defaultMaxMessageSize
        var idleTimeout: TimeAmount = .minutes(10)
        var group: (any EventLoopGroup)?
        /// Connections clients opened to our listeners: reused for requests to them.
        var accepted: SIPConnectionRegistry?
    }

    struct ConnectionKey: Hashable {
        var transport: SIPTransportProtocol
        var address: SocketAddress
        var serverName: String?
    }

    private let listeners = Mutex(Listeners())
    private let connections = Mutex<[ConnectionKey: EventLoopFuture<any Channel>]>([:])
    /// The client side of TLS legs; nil refuses `tls` destinations.
    private let tlsClient: NIOSSLContext?

    public init(tlsClient: NIOSSLContext? = nil) {
        self.tlsClient = tlsClient
    }

    func register(_ bound: [any Channel], transport: SIPTransportProtocol) {
        listeners.withLock { chosen in
            for channel in bound {
                guard let local = channel.localAddress else { continue }
                let specific = local.ipAddress != "0.0.0.0" && local.ipAddress != "::"
                func better(_ current: (any Channel)?) -> Bool {
                    guard let current else { return true }
                    let wildcard = current.localAddress?.ipAddress == "0.0.0.0" || current.localAddress?.ipAddress == "::"
                    return specific && wildcard
                }
                switch local.protocol {
                case .inet6: if better(chosen.inet6[transport]) { chosen.inet6[transport] = channel }
                default: if better(chosen.inet[transport]) { chosen.inet[transport] = channel }
                }
            }
        }
    }

    /// Where messages arriving on outbound connections go, and how they are framed.
    func configure(handler: any SIPMessageHandler, logger: Logger, group: any EventLoopGroup, maxMessageSize: Int, idleTimeout: TimeAmount,
                   accepted: SIPConnectionRegistry? = nil) {
        listeners.withLock {
            $0.accepted = accepted
            $0.handler = handler
            $0.logger = logger
            $0.group = group
            $0.maxMessageSize = maxMessageSize
            $0.idleTimeout = idleTimeout
        }
    }

    func clear() {
        listeners.withLock { $0 = Listeners() }
        closeConnections()
    }

    /// Closes the outbound connections (at shutdown, after the listeners).
    func closeConnections() {
        let open = connections.withLock { table -> [EventLoopFuture<any Channel>] in
            defer { table.removeAll() }
            return Array(table.values)
        }
        for future in open { future.whenSuccess { $0.close(promise: nil) } }
    }

    /// Whether requests can go to `destination` over `transport` (a listener of that transport
    /// and family exists; TLS also needs a client context).
    public func canSend(to destination: SocketAddress, transport: SIPTransportProtocol) -> Bool {
        if transport == .tls, tlsClient == nil { return false }
        return listener(toward: destination, transport: transport) != nil
    }

    /// The listener address a request to `destination` names in Via and Contact.
    public func localAddress(toward destination: SocketAddress, transport: SIPTransportProtocol = .udp) -> SocketAddress? {
        listener(toward: destination, transport: transport)?.localAddress
    }

    /// Sends a datagram to `destination`; false when no UDP listener of that address family exists.
    @discardableResult
    public func send(_ bytes: [UInt8], to destination: SocketAddress) -> Bool {
        guard let channel = listener(toward: destination, transport: .udp) else { return false }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: buffer), promise: nil)
        return true
    }

    /// Sends a message over `transport`: a datagram, or over the (possibly new) connection to
    /// `destination`. `serverName` is the TLS host name to verify (nil: the IP address).
    /// `onFailure` runs when the message cannot be sent (no listener, connection refused, TLS
    /// handshake failed, connection lost) — the transport error of RFC 3261 §8.1.3.1.
    public func send(_ bytes: [UInt8], to destination: SocketAddress, transport: SIPTransportProtocol, serverName: String? = nil,
                     onFailure: @escaping @Sendable () -> Void = {}) {
        guard transport.isStream else {
            if !send(bytes, to: destination) { onFailure() }
            return
        }
        guard let future = connection(to: destination, transport: transport, serverName: serverName) else {
            onFailure()
            return
        }
        future.whenComplete { result in
            switch result {
            case .success(let channel):
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                channel.writeAndFlush(buffer).whenFailure { _ in onFailure() }
            case .failure:
                onFailure()
            }
        }
    }

    private func listener(toward destination: SocketAddress, transport: SIPTransportProtocol) -> (any Channel)? {
        listeners.withLock { destination.protocol == .inet6 ? $0.inet6[transport] : $0.inet[transport] }
    }

    /// The open (or opening) connection to a far end, or a new one.
    private func connection(to destination: SocketAddress, transport: SIPTransportProtocol, serverName: String?) -> EventLoopFuture<any Channel>? {
        let key = ConnectionKey(transport: transport, address: destination, serverName: transport == .tls ? serverName : nil)
        let settings = listeners.withLock { $0 }
        // A client that connected to us (e.g. a registered contact): its own connection.
        if let open = settings.accepted?.connection(from: destination, transport: transport) {
            return open.eventLoop.makeSucceededFuture(open)
        }
        guard let handler = settings.handler, let group = settings.group, let logger = settings.logger else { return nil }
        if transport == .tls, tlsClient == nil { return nil }
        let tls = tlsClient
        let (future, isNew) = connections.withLock { table -> (EventLoopFuture<any Channel>, Bool) in
            if let existing = table[key] { return (existing, false) }
            let maxMessageSize = settings.maxMessageSize
            let idle = settings.idleTimeout
            let future = ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if transport == .tls, let tls {
                            try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try pipeline.addHandler(IdleStateHandler(allTimeout: idle))
                        try pipeline.addHandler(ByteToMessageHandler(SIPStreamFrameDecoder(maxMessageSize: maxMessageSize)))
                        try pipeline.addHandler(SIPStreamHandler(transport: transport, handler: handler, logger: logger))
                    }
                }
                .connect(to: destination)
            table[key] = future
            return (future, true)
        }
        if isNew {
            // A failed or closed connection is forgotten, so the next request opens a new one.
            future.whenComplete { [weak self] result in
                switch result {
                case .success(let channel):
                    channel.closeFuture.whenComplete { [weak self] _ in self?.forget(key, future) }
                case .failure(let error):
                    logger.info("outbound connection failed", metadata: ["to": "\(destination)", "transport": "\(transport)", "error": "\(error)"])
                    self?.forget(key, future)
                }
            }
        }
        return future
    }

    private func forget(_ key: ConnectionKey, _ future: EventLoopFuture<any Channel>) {
        connections.withLock { table in
            if table[key] === future { table.removeValue(forKey: key) }
        }
    }

    /// Open outbound connections (for tests).
    public var openConnections: Int { connections.withLock { $0.count } }
}
