public import NIOCore
public import SIPMessage

/// What the transport layer hands to the layer above: every message received on any listener,
/// already parsed, with a way to answer it.
///
/// Both methods are called on an event loop: the one that read the message, or, when a busy
/// socket's or connection's read burst is dealt out, the loop its Call-ID was dealt to (each
/// call's messages in the order read; a dealt UDP message's context answers through that loop's
/// own socket of the listener). They must not block: work that waits (a database, another
/// server) belongs in a task of its own, which answers later through the context; the context
/// may be used from any thread.
public protocol SIPMessageHandler: Sendable {
    /// A message that parsed. For a request the transport has already stamped the top Via with
    /// `received`/`rport` (RFC 3261 §18.2.1, RFC 3581), so a response built from it is right.
    func handle(_ message: SIPMessage, context: SIPRequestContext)

    /// Bytes that did not parse (or, on a stream, could not be framed; the transport closes the
    /// connection afterwards). ``SIPBadRequest`` builds the `400` when one is possible.
    func handleUnparseable(_ bytes: [UInt8], error: SIPParseError, context: SIPRequestContext)
}

/// Where a message came from and how to answer it.
///
/// Responses go back the way RFC 3261 §18.2.2 and RFC 3581 say: on a stream, over the
/// connection the request arrived on; on UDP, to the source IP address (which the `received`
/// parameter names whenever it differs from the sent-by host), at the source port when the
/// client asked for `rport`, otherwise at the sent-by port (default 5060). No DNS lookup is ever
/// needed. `maddr` is not honoured.
public struct SIPRequestContext: Sendable {
    public let transport: SIPTransportProtocol
    /// The peer's address and port as seen on the socket.
    public let source: SocketAddress
    /// The source's IP address as text (``SocketAddress/ipText``), made once per message.
    public let sourceIP: String?
    /// The local address the message arrived on (for UDP on a wildcard listener, the actual
    /// destination address of the datagram when the kernel reports it).
    public let local: SocketAddress?
    /// Where ``send(_:)`` delivers on UDP; on a stream, the connection's peer.
    public let responseDestination: SocketAddress

    let channel: any Channel

    private init(copying other: SIPRequestContext, responseDestination: SocketAddress) {
        self.transport = other.transport
        self.source = other.source
        self.sourceIP = other.sourceIP
        self.local = other.local
        self.responseDestination = responseDestination
        self.channel = other.channel
    }

    /// The same context with another response destination (keeps the source's text).
    func with(responseDestination: SocketAddress) -> SIPRequestContext {
        SIPRequestContext(copying: self, responseDestination: responseDestination)
    }

    init(
        transport: SIPTransportProtocol,
        source: SocketAddress,
        local: SocketAddress?,
        responseDestination: SocketAddress,
        channel: any Channel
    ) {
        self.transport = transport
        self.source = source
        self.sourceIP = source.ipText
        self.local = local
        self.responseDestination = responseDestination
        self.channel = channel
    }

    /// Sends a response (or any message) back: over the same connection on a stream, to
    /// ``responseDestination`` on UDP. If the connection is gone the bytes are dropped (a
    /// transport-level retry on a new connection is not implemented).
    public func send(_ message: SIPMessage) {
        send(bytes: message.serialized())
    }

    /// Sends raw bytes the same way as ``send(_:)``.
    public func send<Bytes: Sequence<UInt8>>(bytes: Bytes) {
        var buffer = channel.allocator.buffer(capacity: bytes.underestimatedCount)
        buffer.writeBytes(bytes)
        if transport.isStream {
            channel.writeAndFlush(buffer, promise: nil)
        } else {
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: responseDestination, data: buffer), promise: nil)
        }
    }
}

extension SIPRequestContext {
    /// The context for a message received from `source` on `channel`: computes where a response
    /// goes and, for a request, stamps `received`/`rport` on its top Via.
    static func inbound(
        _ message: inout SIPMessage,
        transport: SIPTransportProtocol,
        source: SocketAddress,
        local: SocketAddress?,
        channel: any Channel
    ) -> SIPRequestContext {
        let context = SIPRequestContext(
            transport: transport, source: source, local: local, responseDestination: source, channel: channel)
        if message.isRequest, let via = message.topVia, let sourceIP = context.sourceIP {
            let rportRequested: Bool
            switch via.rport {
            case .absent: rportRequested = false
            case .requested, .value: rportRequested = true
            }
            if rportRequested || !SIPAddressMatch.host(via.host, isIP: sourceIP) {
                message.setReceived(sourceIP, rport: rportRequested ? source.port : nil)
            }
            if !transport.isStream, !rportRequested {
                var destination = source
                destination.port = via.port ?? 5060
                return context.with(responseDestination: destination)
            }
        }
        return context
    }
}

/// Comparing a host as written in a header with an address from the socket.
enum SIPAddressMatch {
    /// True when `host` (a name, an IPv4 address, or an IPv6 reference with or without
    /// brackets) is the IP address `ip` (as `SocketAddress.ipAddress` prints it).
    static func host(_ host: Substring, isIP ip: String) -> Bool {
        var literal = host
        if literal.hasPrefix("["), literal.hasSuffix("]") {
            literal = literal.dropFirst().dropLast()
        }
        if literal == ip { return true }
        // Another spelling of the same IPv6 address (leading zeros, upper case, no "::").
        guard literal.contains(":"), let parsed = try? SocketAddress(ipAddress: String(literal), port: 0) else {
            return false
        }
        return parsed.ipAddress == ip
    }
}
