import Logging
import NIOCore
import SIPMessage

/// Receives UDP datagrams: one datagram is one message (RFC 3261 §18.3); parses it and hands it
/// to the ``SIPMessageHandler``.
///
/// Also on the outbound side: a flush asked for while a read burst is being handled (the answers
/// the handler sends synchronously) is held until the burst ends (`channelReadComplete`), so the
/// answers to every datagram of one read go out in one `sendmmsg` instead of one `sendmsg` each.
/// Flushes at any other time (timers, other threads) pass straight through.
final class SIPDatagramHandler: ChannelDuplexHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    struct Datagram: Sendable {
        var bytes: [UInt8]
        var source: SocketAddress
        var local: SocketAddress?
    }

    private let handler: any SIPMessageHandler
    private let logger: Logger
    private var localAddress: SocketAddress?
    /// Deals read bursts out over every loop. One busy peer (a trunk's SBC, a load generator)
    /// sends from one address and port, so SO_REUSEPORT puts all of its traffic on one socket
    /// and one loop. When a read fills its whole budget (`dealFrom` datagrams), that loop is
    /// falling behind: the burst is dealt out, one hand-off per loop and burst. A smaller burst
    /// is handled where it arrived (a hand-off costs a cross-thread wake-up, more than it saves
    /// while the loop keeps up), except a datagram whose call may still have an earlier one
    /// waiting on another loop, which follows it there.
    private let dispatcher: CallOrderedDispatcher
    /// The datagrams of the current read burst, handled at its end.
    private var burst: [Datagram] = []
    /// Between the first `channelRead` of a read burst and its `channelReadComplete`, or while
    /// a share dealt to this loop by a sibling socket is handled.
    private var inReadBurst = false
    private var flushHeld = false
    /// The listener's sockets on the other loops, which answer the shares dealt to them.
    private let siblings: SIPDatagramSiblings?
    private var context: ChannelHandlerContext?

    init(handler: any SIPMessageHandler, logger: Logger, workers: [any EventLoop] = [], dealFrom: Int = 2,
         siblings: SIPDatagramSiblings? = nil) {
        self.handler = handler
        self.logger = logger
        self.dispatcher = CallOrderedDispatcher(workers: workers, dealFrom: dealFrom)
        self.siblings = siblings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        siblings?.register(self, on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        siblings?.unregister(self, on: context.eventLoop)
        self.context = nil
    }

    /// Handles a share of a sibling socket's read burst, on this handler's loop, as a burst of
    /// its own: answered through this socket, in one flush. False when this handler has left
    /// its channel (the caller then answers through the socket that read the share).
    func handleDealtShare(_ share: [Datagram]) -> Bool {
        guard let context, context.channel.isActive else { return false }
        let (handler, logger, channel) = (self.handler, self.logger, context.channel)
        let nested = inReadBurst
        inReadBurst = true
        for d in share {
            Self.process(d.bytes, source: d.source, local: d.local, channel: channel, handler: handler, logger: logger)
        }
        inReadBurst = nested
        if !nested, flushHeld {
            flushHeld = false
            context.flush()
        }
        return true
    }

    func channelActive(context: ChannelHandlerContext) {
        localAddress = context.channel.localAddress
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inReadBurst = true
        let envelope = Self.unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        // NAT keepalives (CRLF, CRLF CRLF, NUL bytes) carry no message and get no answer.
        if bytes.allSatisfy({ $0 == 13 || $0 == 10 || $0 == 0 || $0 == 32 }) { return }

        var local = localAddress
        if let destination = envelope.metadata?.packetInfo?.destinationAddress {
            local = destination
            local?.port = localAddress?.port
        }
        burst.append(Datagram(bytes: bytes, source: envelope.remoteAddress, local: local))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let datagrams = burst
        burst.removeAll(keepingCapacity: true)
        let (handler, logger, channel, siblings) = (self.handler, self.logger, context.channel, self.siblings)
        // Dealt by Call-ID, so that one call's messages (an INVITE and its CANCEL) are handled
        // in the order they came.
        dispatcher.dispatch(
            datagrams, on: context.eventLoop, hash: { Self.callIDHash($0.bytes) },
            handle: { d in
                Self.process(d.bytes, source: d.source, local: d.local, channel: channel, handler: handler, logger: logger)
            },
            handleShare: siblings.map { siblings in
                { share, loop in
                    if siblings.handler(on: loop)?.handleDealtShare(share) == true { return }
                    for d in share {
                        Self.process(d.bytes, source: d.source, local: d.local, channel: channel, handler: handler, logger: logger)
                    }
                }
            })
        inReadBurst = false
        if flushHeld {
            flushHeld = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// A hash of the Call-ID value (`Call-ID:` or compact `i:`, any case) read straight from the
    /// bytes, before parsing (which is part of the work being dealt out); 0 when there is none.
    static func callIDHash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBufferPointer { u -> UInt64 in
            var lineStart = 0
            while lineStart < u.count {
                var lineEnd = lineStart
                while lineEnd < u.count, u[lineEnd] != 0x0A { lineEnd += 1 }
                if lineEnd == lineStart || (lineEnd == lineStart + 1 && u[lineStart] == 0x0D) { return 0 }  // end of headers
                var colon = lineStart
                while colon < lineEnd, u[colon] != UInt8(ascii: ":") { colon += 1 }
                var nameEnd = colon
                while nameEnd > lineStart, u[nameEnd - 1] == 0x20 || u[nameEnd - 1] == 0x09 { nameEnd -= 1 }
                let count = nameEnd - lineStart
                let lower = { (i: Int) in u[i] | 0x20 }
                let isCallID = (count == 1 && lower(lineStart) == UInt8(ascii: "i"))
                    || (count == 7 && lower(lineStart) == UInt8(ascii: "c") && lower(lineStart + 4) == UInt8(ascii: "-")
                        && lower(lineStart + 5) == UInt8(ascii: "i") && lower(lineStart + 6) == UInt8(ascii: "d")
                        && lower(lineStart + 1) == UInt8(ascii: "a") && lower(lineStart + 2) == UInt8(ascii: "l") && lower(lineStart + 3) == UInt8(ascii: "l"))
                if isCallID, colon < lineEnd {
                    // FNV-1a over the value without white space or CR.
                    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                    for i in (colon + 1)..<lineEnd where u[i] > 0x20 {
                        hash = (hash ^ UInt64(u[i])) &* 0x100_0000_01b3
                    }
                    return hash
                }
                lineStart = lineEnd + 1
            }
            return 0
        }
    }

    func flush(context: ChannelHandlerContext) {
        if inReadBurst {
            flushHeld = true
        } else {
            context.flush()
        }
    }

    private static func process(
        _ bytes: [UInt8], source: SocketAddress, local: SocketAddress?, channel: any Channel,
        handler: any SIPMessageHandler, logger: Logger
    ) {
        do {
            var message = try SIPMessage.parse(bytes, framing: .datagram)
            let requestContext = SIPRequestContext.inbound(
                &message, transport: .udp, source: source, local: local, channel: channel)
            handler.handle(message, context: requestContext)
        } catch {
            logger.debug(
                "unparseable datagram",
                metadata: ["source": "\(source)", "error": "\(error)", "bytes": "\(bytes.count)"])
            let requestContext = SIPRequestContext(
                transport: .udp, source: source, local: local,
                responseDestination: source, channel: channel)
            handler.handleUnparseable(bytes, error: error, context: requestContext)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket error (e.g. ICMP feedback) concerns one datagram, not the listener.
        logger.debug("UDP error", metadata: ["error": "\(error)"])
        if flushHeld {
            flushHeld = false
            context.flush()
        }
    }
}

/// Receives framed messages of one TCP connection (after ``SIPStreamFrameDecoder``): parses
/// them, answers keepalive pings, sends `400` and closes on a framing error, and closes the
/// connection when ``IdleStateHandler`` reports it idle.
///
/// One connection is read by one event loop. When a read burst brings at least `dealFrom`
/// messages (a busy SBC or load generator with one connection, falling behind), they are handed
/// to every loop by Call-ID, so each call's messages keep their order while different calls use
/// every core; a smaller burst is handled where it was read.
///
/// Answers written while a read is handled here are flushed once, at its end: one `write`
/// system call and one TCP segment for a burst's answers instead of one per answer.
final class SIPStreamHandler: ChannelDuplexHandler {
    typealias InboundIn = SIPStreamFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Parsed: Sendable {
        var message: SIPMessage
        var context: SIPRequestContext
    }

    private let transport: SIPTransportProtocol
    private let handler: any SIPMessageHandler
    private let logger: Logger
    private let dispatcher: CallOrderedDispatcher
    private var remoteAddress: SocketAddress?
    private var localAddress: SocketAddress?
    /// Messages of the current read burst, handled at its end.
    private var burst: [Parsed] = []
    /// Between the first `channelRead` of a read burst and the end of its `channelReadComplete`.
    private var inReadBurst = false
    private var flushHeld = false

    init(transport: SIPTransportProtocol, handler: any SIPMessageHandler, logger: Logger, workers: [any EventLoop] = [],
         dealFrom: Int = 2) {
        self.transport = transport
        self.handler = handler
        self.logger = logger
        self.dispatcher = CallOrderedDispatcher(workers: workers, dealFrom: dealFrom)
    }

    func channelActive(context: ChannelHandlerContext) {
        remoteAddress = context.channel.remoteAddress
        localAddress = context.channel.localAddress
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let remote = remoteAddress else { return }
        inReadBurst = true
        switch Self.unwrapInboundIn(data) {
        case .message(let buffer):
            let bytes = Array(buffer.readableBytesView)
            do {
                var message = try SIPMessage.parse(bytes, framing: .stream)
                let requestContext = SIPRequestContext.inbound(
                    &message, transport: transport, source: remote, local: localAddress, channel: context.channel)
                burst.append(Parsed(message: message, context: requestContext))
            } catch {
                // Framing is intact, so the connection stays usable after the 400.
                logger.debug("unparseable message", metadata: ["source": "\(remote)", "error": "\(error)"])
                handler.handleUnparseable(bytes, error: error, context: makeContext(context, remote))
            }

        case .keepalivePing:
            // RFC 5626 §4.4.1: answer a CRLF CRLF ping with a single CRLF pong.
            var pong = context.channel.allocator.buffer(capacity: 2)
            pong.writeStaticString("\r\n")
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)

        case .framingError(let error, let head):
            // What came before the error is handled first, here, so that its answers are
            // written before the connection closes.
            handleBurst(context, spread: false)
            logger.debug("closing connection: framing error", metadata: ["source": "\(remote)", "error": "\(error)"])
            handler.handleUnparseable(Array(head.readableBytesView), error: error, context: makeContext(context, remote))
            // No read-complete need follow: the answers go out now.
            endReadBurst(context)
            closeAfterPendingWrites(context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        handleBurst(context, spread: true)
        endReadBurst(context)
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Messages decoded as the connection closed come without a read-complete.
        handleBurst(context, spread: false)
        endReadBurst(context)
        context.fireChannelInactive()
    }

    func flush(context: ChannelHandlerContext) {
        if inReadBurst {
            flushHeld = true
        } else {
            context.flush()
        }
    }

    private func endReadBurst(_ context: ChannelHandlerContext) {
        inReadBurst = false
        if flushHeld {
            flushHeld = false
            context.flush()
        }
    }

    private func handleBurst(_ context: ChannelHandlerContext, spread: Bool) {
        guard !burst.isEmpty else { return }
        let messages = burst
        burst.removeAll(keepingCapacity: true)
        let handler = self.handler
        // On a framing error or close, what was read is handled here, so its answers are
        // written before the connection closes.
        guard spread else {
            for parsed in messages { handler.handle(parsed.message, context: parsed.context) }
            return
        }
        dispatcher.dispatch(messages, on: context.eventLoop, hash: { parsed in
            var hasher = Hasher()
            hasher.combine(parsed.message.callID)
            return UInt64(UInt(bitPattern: hasher.finalize()))
        }) { parsed in
            handler.handle(parsed.message, context: parsed.context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            logger.debug("closing idle connection", metadata: ["source": "\(remoteAddress.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("closing connection", metadata: ["error": "\(error)"])
        endReadBurst(context)
        context.close(promise: nil)
    }

    private func makeContext(_ context: ChannelHandlerContext, _ remote: SocketAddress) -> SIPRequestContext {
        SIPRequestContext(
            transport: transport, source: remote, local: localAddress, responseDestination: remote,
            channel: context.channel)
    }

    /// Writes complete in order: once an empty write that follows the response has completed,
    /// the response has been handed to the kernel and the connection can be closed.
    private func closeAfterPendingWrites(_ context: ChannelHandlerContext) {
        let channel = context.channel
        channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
