public import Logging
public import NIOCore
public import NIOPosix
public import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of the SIP listeners.
public struct SIPTransportConfiguration: Sendable {
    public var addresses: [SIPListenAddress]
    /// Largest message accepted on any transport (SPEC §3: 64 KiB).
    public var maxMessageSize: Int = SIPStreamFrameDecoder.defaultMaxMessageSize
    /// SO_RCVBUF of every UDP socket; the kernel caps it at `net.core.rmem_max`.
    public var udpReceiveBufferSize: Int = 4 * 1024 * 1024
    /// A TCP connection with no traffic in either direction for this long is closed.
    public var tcpIdleTimeout: TimeAmount = .minutes(10)
    /// UDP sockets per UDP listener, all bound to the same address with SO_REUSEPORT so the
    /// kernel spreads datagrams over them; nil means one per event loop (one per core).
    public var udpSocketsPerListener: Int?
    /// Deal the messages of a read burst (UDP datagrams, or messages read together from one TCP
    /// or TLS connection) out over every event loop, not only the loop that read them (see
    /// ``SIPDatagramHandler`` and ``SIPStreamHandler``).
    public var spreadBurstsOverLoops = true
    /// Reads (datagrams, or TCP reads) a socket is given per wake-up.
    public var messagesPerRead = 16
    /// The smallest read burst that is dealt out over the loops (over UDP at most
    /// `messagesPerRead`, since a read never brings more datagrams). A burst smaller than a full
    /// read budget means the socket was emptied, so the loop that read it keeps up, and handling
    /// the burst there saves the hand-offs: at 6,000 REGISTER flows/s over UDP the latency
    /// probe's median fell from 3-6 ms to 1.2-2.3 ms, CPU per flow from the same to 5 % less. A
    /// full read means a backlog, and then every core helps.
    public var dealBurstsFrom = 16
    /// The server certificate and key for `tls:` listeners (RFC 3261 §26.3.1).
    public var tls: NIOSSLContext?

    public init(addresses: [SIPListenAddress]) {
        self.addresses = addresses
    }
}

/// Why the listeners could not start.
public enum SIPTransportError: Error, Sendable, CustomStringConvertible {
    case tlsNotSupported(SIPListenAddress)
    case noAddresses
    case bindFailed(SIPListenAddress, underlying: String)

    public var description: String {
        switch self {
        case .tlsNotSupported(let address):
            "\(address): a TLS listener needs a certificate and key (--tls-cert, --tls-key)"
        case .noAddresses:
            "no SIP listening address given"
        case .bindFailed(let address, let underlying):
            "cannot listen on \(address): \(underlying)"
        }
    }
}

/// A bound listener: what was asked for and the address the socket actually has.
public struct SIPBoundListener: Sendable, CustomStringConvertible {
    public let configured: SIPListenAddress
    /// The socket's address; its port is the real one when `configured.port` was 0.
    public let localAddress: SocketAddress
    /// Sockets serving this address (several for UDP with SO_REUSEPORT, one for TCP).
    public let sockets: Int

    public var description: String {
        let host = localAddress.ipAddress ?? configured.host
        let port = localAddress.port ?? configured.port
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return sockets > 1 ? "\(configured.transport):\(address) (x\(sockets))" : "\(configured.transport):\(address)"
    }
}

/// The SIP listeners of one edge: UDP and TCP sockets bound as configured, feeding every
/// received message to one ``SIPMessageHandler``.
///
/// Pipelines, one handler per concern:
/// - UDP: ``SIPDatagramHandler`` (parse, dispatch).
/// - TCP (TLS: `NIOSSLServerHandler` first): `IdleStateHandler` (idle timeout) → ``SIPStreamFrameDecoder`` (framing, keepalive,
///   limits) → ``SIPStreamHandler`` (parse, dispatch, pong, 400 and close on framing errors).
public final class SIPListeners: Sendable {
    public let listeners: [SIPBoundListener]
    private let channels: [any Channel]
    private let connections: SIPConnectionRegistry
    private let outbound: SIPOutboundSockets?

    private init(listeners: [SIPBoundListener], channels: [any Channel], connections: SIPConnectionRegistry, outbound: SIPOutboundSockets?) {
        self.listeners = listeners
        self.channels = channels
        self.connections = connections
        self.outbound = outbound
    }

    /// Binds every configured address. If any fails, the ones already bound are closed again.
    public static func bind(
        configuration: SIPTransportConfiguration,
        handler: any SIPMessageHandler,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        outbound: SIPOutboundSockets? = nil
    ) async throws -> SIPListeners {
        guard !configuration.addresses.isEmpty else { throw SIPTransportError.noAddresses }
        if configuration.tls == nil, let tls = configuration.addresses.first(where: { $0.transport == .tls }) {
            throw SIPTransportError.tlsNotSupported(tls)
        }
        let connections = SIPConnectionRegistry()
        outbound?.configure(handler: handler, logger: logger, group: group, maxMessageSize: configuration.maxMessageSize,
                            idleTimeout: configuration.tcpIdleTimeout, accepted: connections)
        var channels: [any Channel] = []
        var listeners: [SIPBoundListener] = []
        do {
            for address in configuration.addresses {
                let bound: [any Channel]
                switch address.transport {
                case .udp:
                    bound = try await bindUDP(address, configuration, handler, group, logger)
                case .tcp, .tls:
                    bound = [try await bindTCP(address, configuration, handler, group, logger, connections)]
                }
                outbound?.register(bound, transport: address.transport)
                channels += bound
                listeners.append(
                    SIPBoundListener(configured: address, localAddress: bound[0].localAddress!, sockets: bound.count))
            }
        } catch {
            outbound?.clear()
            for channel in channels { try? await channel.close() }
            throw error
        }
        return SIPListeners(listeners: listeners, channels: channels, connections: connections, outbound: outbound)
    }

    /// Stops listening, then closes the open TCP connections, accepted and outbound.
    public func close() async {
        for channel in channels {
            try? await channel.close()
        }
        await connections.closeAll()
        outbound?.closeConnections()
    }

    /// Open TCP connections (for tests and metrics).
    public var openConnections: Int { connections.count }

    private static func socketAddress(_ address: SIPListenAddress, port: Int? = nil) throws -> SocketAddress {
        do {
            return try SocketAddress(ipAddress: address.host, port: port ?? address.port)
        } catch {
            throw SIPTransportError.bindFailed(address, underlying: "not an IP address")
        }
    }

    private static func bindUDP(
        _ address: SIPListenAddress,
        _ configuration: SIPTransportConfiguration,
        _ handler: any SIPMessageHandler,
        _ group: any EventLoopGroup,
        _ logger: Logger
    ) async throws -> [any Channel] {
        let loops = Array(group.makeIterator())
        let count = max(1, configuration.udpSocketsPerListener ?? loops.count)
        var socket = try socketAddress(address)
        var channels: [any Channel] = []
        let siblings = SIPDatagramSiblings()
        do {
            for index in 0..<count {
                var bootstrap = DatagramBootstrap(group: loops[index % loops.count])
                    .channelOption(.socketOption(.so_rcvbuf), value: .init(configuration.udpReceiveBufferSize))
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                    .channelOption(.maxMessagesPerRead, value: UInt(configuration.messagesPerRead))
                    .channelOption(.receivePacketInfo, value: true)
                if socket.protocol == .inet6 {
                    bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption.ipv6Only, value: 1)
                }
                // The first socket binds without SO_REUSEPORT, so the bind fails if any other
                // socket holds the port, and port 0 gets a port nobody holds (with the option
                // the kernel admits any same-user SO_REUSEPORT socket: a second server would
                // silently take a share of the datagrams, and port 0 could be handed a port
                // another such socket already has). Only then is the option set on it, so that
                // the others can join.
                if index > 0 { bootstrap = bootstrap.channelOption(.reusePort, value: 1) }
                let channel = try await bootstrap.channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            SIPDatagramHandler(handler: handler, logger: logger,
                                               workers: configuration.spreadBurstsOverLoops ? loops : [],
                                               dealFrom: min(configuration.dealBurstsFrom, configuration.messagesPerRead),
                                               siblings: siblings))
                    }
                }.bind(to: socket).get()
                channels.append(channel)
                if index == 0 {
                    if count > 1 { try await channel.setOption(.reusePort, value: 1) }
                    if let port = channel.localAddress?.port { socket.port = port }
                }
            }
        } catch let error as SIPTransportError {
            for channel in channels { try? await channel.close() }
            throw error
        } catch {
            for channel in channels { try? await channel.close() }
            throw SIPTransportError.bindFailed(address, underlying: "\(error)")
        }
        return channels
    }

    private static func bindTCP(
        _ address: SIPListenAddress,
        _ configuration: SIPTransportConfiguration,
        _ handler: any SIPMessageHandler,
        _ group: any EventLoopGroup,
        _ logger: Logger,
        _ connections: SIPConnectionRegistry
    ) async throws -> any Channel {
        let socket = try socketAddress(address)
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: UInt(configuration.messagesPerRead))
        if socket.protocol == .inet6 {
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption.ipv6Only, value: 1)
        }
        let maxMessageSize = configuration.maxMessageSize
        let idleTimeout = configuration.tcpIdleTimeout
        let transport = address.transport
        let tls = transport == .tls ? configuration.tls : nil
        let workers = configuration.spreadBurstsOverLoops ? Array(group.makeIterator()) : []
        let dealFrom = configuration.dealBurstsFrom
        do {
            return try await bootstrap.childChannelInitializer { channel in
                connections.add(channel, transport: transport)
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    try pipeline.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                    try pipeline.addHandler(
                        ByteToMessageHandler(SIPStreamFrameDecoder(maxMessageSize: maxMessageSize)))
                    try pipeline.addHandler(SIPStreamHandler(transport: transport, handler: handler, logger: logger, workers: workers,
                                                          dealFrom: dealFrom))
                }
            }.bind(to: socket).get()
        } catch {
            throw SIPTransportError.bindFailed(address, underlying: "\(error)")
        }
    }
}

extension ChannelOption where Self == ChannelOptions.Types.SocketOption {
    /// SO_REUSEPORT: several sockets bound to one address, the kernel spreading datagrams over
    /// them by source address and port (so one peer's messages stay in order on one socket).
    fileprivate static var reusePort: Self { .init(level: .socket, name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT)) }

    /// IPV6_V6ONLY: an IPv6 listener does not also take IPv4 traffic, so `0.0.0.0:5060` and
    /// `[::]:5060` can be bound side by side.
    fileprivate static var ipv6Only: Self { .init(level: .ipv6, name: .ipv6_v6only) }
}

/// The open TCP connections, so that shutdown can close them, and so that a request to a
/// client that connected to us (a registered contact behind NAT) goes back over its own
/// connection (RFC 3261 §18.1.1 connection reuse; it usually cannot accept a new one).
final class SIPConnectionRegistry: Sendable {
    struct Peer: Hashable {
        var transport: SIPTransportProtocol
        var address: SocketAddress
    }

    private struct Table {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var byPeer: [Peer: any Channel] = [:]
    }

    private let table = Mutex(Table())

    func add(_ channel: any Channel, transport: SIPTransportProtocol) {
        let id = ObjectIdentifier(channel)
        let peer = channel.remoteAddress.map { Peer(transport: transport, address: $0) }
        table.withLock {
            $0.channels[id] = channel
            if let peer { $0.byPeer[peer] = channel }
        }
        channel.closeFuture.whenComplete { [self] _ in
            table.withLock {
                $0.channels.removeValue(forKey: id)
                if let peer, let current = $0.byPeer[peer], current === channel { $0.byPeer.removeValue(forKey: peer) }
            }
        }
    }

    /// The open connection a client made from `address` over `transport`, if any.
    func connection(from address: SocketAddress, transport: SIPTransportProtocol) -> (any Channel)? {
        table.withLock { $0.byPeer[Peer(transport: transport, address: address)] }.flatMap { $0.isActive ? $0 : nil }
    }

    var count: Int { table.withLock { $0.channels.count } }

    func closeAll() async {
        let open = table.withLock { Array($0.channels.values) }
        for channel in open {
            try? await channel.close()
        }
        // The closeFuture callbacks remove them too, but on the channels' event loops, possibly
        // after `close()` has returned to us: forget them here so the count is right at once.
        table.withLock { table in
            for channel in open { table.channels.removeValue(forKey: ObjectIdentifier(channel)) }
            table.byPeer = table.byPeer.filter { entry in !open.contains { $0 === entry.value } }
        }
    }
}
