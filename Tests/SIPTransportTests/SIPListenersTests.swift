import Foundation
import Logging
import NIOCore
import NIOPosix
import SIPMessage
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import SIPTransport

/// Answers every request but ACK with 200, unparseable bytes with SIPBadRequest, and records
/// what it saw.
final class RecordingHandler: SIPMessageHandler {
    struct Seen: Sendable {
        var method: String?
        var transport: SIPTransportProtocol
        var source: SocketAddress
        var local: SocketAddress?
        /// The event loop that handled it.
        var loop: ObjectIdentifier?
        var callID: String?
        var cseq: UInt32?
        /// Whether the answer goes out through a socket of the handling loop (no hop back).
        var answeredOnHandlingLoop: Bool
        var bodyCount = 0
    }

    let seen = Mutex<[Seen]>([])
    let parseErrors = Mutex<[SIPParseError]>([])

    func handle(_ message: SIPMessage, context: SIPRequestContext) {
        seen.withLock {
            $0.append(Seen(method: message.method.map(String.init), transport: context.transport,
                           source: context.source, local: context.local,
                           loop: MultiThreadedEventLoopGroup.currentEventLoop.map { ObjectIdentifier($0) },
                           callID: message.callID.map(String.init), cseq: message.cseq?.number,
                           answeredOnHandlingLoop: context.channel.eventLoop.inEventLoop, bodyCount: message.body.count))
        }
        if message.isRequest, message.method != "ACK" {
            context.send(message.makeResponse(status: 200))
        }
    }

    func handleUnparseable(_ bytes: [UInt8], error: SIPParseError, context: SIPRequestContext) {
        parseErrors.withLock { $0.append(error) }
        if let response = SIPBadRequest.response(to: bytes, error: error) { context.send(bytes: response) }
    }
}

enum TestClient {
    static func options(branch: String, transport: String = "UDP", via host: String = "192.0.2.99:5999",
                        rport: Bool = true) -> String {
        """
        OPTIONS sip:edge.example.com SIP/2.0\r
        Via: SIP/2.0/\(transport) \(host);branch=z9hG4bK\(branch)\(rport ? ";rport" : "")\r
        Max-Forwards: 70\r
        From: <sip:probe@example.com>;tag=\(branch)\r
        To: <sip:edge.example.com>\r
        Call-ID: \(branch)@test\r
        CSeq: 1 OPTIONS\r
        Content-Length: 0\r
        \r

        """
    }

    /// Sends one datagram from a fresh UDP socket and returns the first datagram that comes
    /// back (nil after `timeout`).
    static func udpExchange(
        _ payload: String, to server: SocketAddress, group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)
    ) async throws -> (reply: String?, clientPort: Int) {
        let client = try await DatagramBootstrap(group: group)
            .bind(to: try SocketAddress(ipAddress: server.protocol == .inet6 ? "::1" : "127.0.0.1", port: 0)) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let port = client.channel.localAddress!.port!
        let channel = client.channel
        channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        let reply = try await client.executeThenClose { inbound, outbound -> String? in
            try await outbound.write(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(string: payload)))
            for try await envelope in inbound { return String(buffer: envelope.data) }
            return nil
        }
        return (reply, port)
    }

    /// Opens a TCP connection, writes each chunk, and collects everything received until the
    /// server closes, `until` says enough, or `timeout`. Returns the bytes and whether the
    /// server closed the connection.
    static func tcpExchange(
        _ chunks: [String], to server: SocketAddress, group: any EventLoopGroup, timeout: TimeAmount = .seconds(5),
        until done: @escaping @Sendable (String) -> Bool = { _ in false }
    ) async throws -> (received: String, closedByServer: Bool) {
        let client = try await ClientBootstrap(group: group).connect(to: server) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        let channel = client.channel
        let timedOut = ManagedAtomic(false)
        channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.store(true)
            channel.close(promise: nil)
        }
        let received = try await client.executeThenClose { inbound, outbound in
            for (index, chunk) in chunks.enumerated() {
                do {
                    try await outbound.write(ByteBuffer(string: chunk))
                } catch where index > 0 {
                    // The server may close after an earlier chunk (a framing error): what it sent
                    // before closing is still read below.
                    break
                }
            }
            var text = ""
            do {
                for try await buffer in inbound {
                    text += String(buffer: buffer)
                    if done(text) { break }
                }
            } catch {}
            return text
        }
        return (received, !timedOut.load() && !done(received))
    }
}

extension TestClient {
    /// How a plain socket's connection ended.
    enum StreamEnd: Equatable { case closed, reset, timedOut }

    /// Writes `chunks` to 127.0.0.1:`port` over a plain blocking socket (on a thread of its own)
    /// and reads until the server closes (FIN or RST) or `timeout`: what the server does, with
    /// no client framework in between.
    static func plainTCPExchange(_ chunks: [String], port: Int, timeout: Int = 10) async throws -> (received: String, end: StreamEnd) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try plainTCPExchangeBlocking(chunks, port: port, timeout: timeout) })
            }
        }
    }

    struct SocketCallFailed: Error {
        var call: String
        var errno: Int32
    }

    private static func plainTCPExchangeBlocking(_ chunks: [String], port: Int, timeout: Int) throws -> (received: String, end: StreamEnd) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketCallFailed(call: "socket", errno: errno) }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SocketCallFailed(call: "connect", errno: errno) }
        // A later chunk may meet a connection the server already closed: that is not an error here.
        for chunk in chunks { _ = Array(chunk.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += buffer[..<n]; continue }
            let end: StreamEnd = n == 0 ? .closed : (errno == ECONNRESET ? .reset : .timedOut)
            return (String(decoding: received, as: UTF8.self), end)
        }
    }
}

/// A tiny Sendable flag (Synchronization.Atomic is not copyable into closures).
final class ManagedAtomic: Sendable {
    private let value: Mutex<Bool>
    init(_ initial: Bool) { value = Mutex(initial) }
    func store(_ newValue: Bool) { value.withLock { $0 = newValue } }
    func load() -> Bool { value.withLock { $0 } }
}

func statusLines(_ text: String) -> [String] {
    text.split(separator: "\r\n").filter { $0.hasPrefix("SIP/2.0 ") }.map(String.init)
}

@Suite(.serialized) struct SIPListenersTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let logger = Logger(label: "test")

    func bind(_ addresses: [String], idle: TimeAmount = .minutes(1), handler: RecordingHandler = RecordingHandler())
        async throws -> SIPListeners
    {
        var configuration = SIPTransportConfiguration(addresses: try addresses.map { try SIPListenAddress(parsing: $0) })
        configuration.tcpIdleTimeout = idle
        return try await SIPListeners.bind(configuration: configuration, handler: handler, group: group, logger: logger)
    }

    static let ipv6Available: Bool = {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        guard let channel = try? DatagramBootstrap(group: group).bind(host: "::1", port: 0).wait() else { return false }
        try? channel.close().wait()
        return true
    }()

    @Test func udpOptionsIsAnsweredAtTheSourcePortWithReceivedAndRport() async throws {
        let handler = RecordingHandler()
        let listeners = try await bind(["udp:127.0.0.1:0"], handler: handler)
        #expect(listeners.listeners[0].sockets == 2)  // one per event loop, SO_REUSEPORT
        let server = listeners.listeners[0].localAddress
        let (reply, clientPort) = try await TestClient.udpExchange(
            TestClient.options(branch: "u1"), to: server, group: group)
        await listeners.close()

        let text = try #require(reply)
        #expect(text.hasPrefix("SIP/2.0 200 OK\r\n"))
        #expect(text.contains("received=127.0.0.1"))
        #expect(text.contains("rport=\(clientPort)"))
        let seen = handler.seen.withLock { $0 }
        #expect(seen.count == 1)
        #expect(seen.first?.transport == .udp)
        #expect(seen.first?.source.port == clientPort)
        #expect(seen.first?.local?.ipAddress == "127.0.0.1")
        #expect(seen.first?.local?.port == server.port)
    }

    /// A datagram near the largest UDP carries arrives whole, between two small ones that the
    /// same read takes (each datagram must get a whole 64 KiB of the read buffer).
    @Test func aLargeDatagramArrivesWholeAmongSmallOnes() async throws {
        let handler = RecordingHandler()
        let listeners = try await bind(["udp:127.0.0.1:0"], handler: handler)
        let body = String(repeating: "x", count: 60_000)
        let large = TestClient.options(branch: "big1").replacingOccurrences(
            of: "Content-Length: 0\r\n\r\n", with: "Content-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let replies = try await sendWhileTheLoopsAreBusy([TestClient.options(branch: "small1"), large, TestClient.options(branch: "small2")],
                                                         to: listeners.listeners[0].localAddress)
        await listeners.close()
        #expect(replies.count == 3)
        #expect(handler.parseErrors.withLock { $0 }.isEmpty)
        let seen = handler.seen.withLock { $0 }
        #expect(Set(seen.compactMap(\.callID)) == ["small1@test", "big1@test", "small2@test"])
        #expect(seen.first { $0.callID == "big1@test" }?.bodyCount == 60_000)
    }

    @Test func udpOverIPv6() async throws {
        try #require(Self.ipv6Available, "no IPv6 loopback here")
        let listeners = try await bind(["udp:[::1]:0"])
        let (reply, clientPort) = try await TestClient.udpExchange(
            TestClient.options(branch: "u6", via: "[2001:db8::9]:5070"), to: listeners.listeners[0].localAddress,
            group: group)
        await listeners.close()
        let text = try #require(reply)
        #expect(text.hasPrefix("SIP/2.0 200 OK\r\n"))
        #expect(text.contains("received=::1"))
        #expect(text.contains("rport=\(clientPort)"))
    }

    @Test func udpGarbageIsDroppedAndMalformedRequestsGet400() async throws {
        let handler = RecordingHandler()
        let listeners = try await bind(["udp:127.0.0.1:0"], handler: handler)
        let server = listeners.listeners[0].localAddress
        let junk = try await TestClient.udpExchange("\u{1}\u{2}junk\u{0}", to: server, group: group,
                                                    timeout: .milliseconds(300))
        #expect(junk.reply == nil)
        let keepalive = try await TestClient.udpExchange("\r\n\r\n", to: server, group: group,
                                                         timeout: .milliseconds(300))
        #expect(keepalive.reply == nil)
        let ncl = String(decoding: try ConformanceFile.bytes("rfc4475/ncl.dat"), as: UTF8.self)
        let bad = try await TestClient.udpExchange(ncl, to: server, group: group)
        let ok = try await TestClient.udpExchange(TestClient.options(branch: "u2"), to: server, group: group)
        await listeners.close()
        #expect(bad.reply?.hasPrefix("SIP/2.0 400 Bad Request (") == true)
        #expect(ok.reply?.hasPrefix("SIP/2.0 200 OK") == true)
        #expect(handler.parseErrors.withLock { $0.count } == 2)  // junk and ncl; the keepalive is not a message
    }

    /// Pipelined requests of one call are answered in order (requests of different calls read
    /// together may be handled on different loops, see aBurstOnOneConnectionIsSharedByCallID).
    @Test func tcpAnswersPingAndPipelinedMessagesInOrder() async throws {
        let listeners = try await bind(["tcp:127.0.0.1:0"])
        let server = listeners.listeners[0].localAddress
        let sameCall = TestClient.options(branch: "t2", transport: "TCP").replacing("Call-ID: t2@test", with: "Call-ID: t1@test")
            .replacing("CSeq: 1 OPTIONS", with: "CSeq: 2 OPTIONS")
        let (received, _) = try await TestClient.tcpExchange(
            ["\r\n\r\n" + TestClient.options(branch: "t1", transport: "TCP") + sameCall],
            to: server, group: group, until: { statusLines($0).count == 2 })
        await listeners.close()
        #expect(received.hasPrefix("\r\nSIP/2.0 200 OK\r\n"))
        #expect(statusLines(received) == ["SIP/2.0 200 OK", "SIP/2.0 200 OK"])
        #expect(received.contains("branch=z9hG4bKt1"))
        let first = try #require(received.range(of: "z9hG4bKt1"))
        let second = try #require(received.range(of: "z9hG4bKt2"))
        #expect(first.lowerBound < second.lowerBound)
    }

    @Test func tcpMessageSplitAcrossWritesIsReassembled() async throws {
        let listeners = try await bind(["tcp:127.0.0.1:0"])
        let message = TestClient.options(branch: "t3", transport: "TCP")
        let cut = message.index(message.startIndex, offsetBy: 50)
        let (received, _) = try await TestClient.tcpExchange(
            [String(message[..<cut]), String(message[cut...])], to: listeners.listeners[0].localAddress,
            group: group, until: { statusLines($0).count == 1 })
        await listeners.close()
        #expect(statusLines(received) == ["SIP/2.0 200 OK"])
    }

    @Test func tcpFramingErrorGets400AndTheConnectionIsClosed() async throws {
        let handler = RecordingHandler()
        let listeners = try await bind(["tcp:127.0.0.1:0"], handler: handler)
        let ncl = String(decoding: try ConformanceFile.bytes("rfc4475/ncl.dat"), as: UTF8.self)
        // A plain socket: CI once saw the NIO test client sit 5 s on a connection after the 400.
        let port = try #require(listeners.listeners[0].localAddress.port)
        let (received, end) = try await TestClient.plainTCPExchange([ncl, TestClient.options(branch: "t4", transport: "TCP")], port: port)
        await listeners.close()
        #expect(statusLines(received).count == 1)
        #expect(received.hasPrefix("SIP/2.0 400 Bad Request (Content-Length"))
        // FIN, or RST when the OPTIONS was still unread in the server's socket as it closed.
        #expect(end != .timedOut, "the server did not close the connection within 10 s")
        #expect(handler.seen.withLock { $0.isEmpty })  // the OPTIONS after the bad message is never read
    }

    @Test func tcpUnparseableButFramedMessageGets400AndTheConnectionStays() async throws {
        let listeners = try await bind(["tcp:127.0.0.1:0"])
        let bad = TestClient.options(branch: "t5", transport: "TCP").replacingCSeq(with: "CSeq: x OPTIONS")
        let (received, _) = try await TestClient.tcpExchange(
            [bad, TestClient.options(branch: "t6", transport: "TCP")], to: listeners.listeners[0].localAddress,
            group: group, until: { statusLines($0).count == 2 })
        await listeners.close()
        let lines = statusLines(received)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("SIP/2.0 400 Bad Request (CSeq") == true)
        #expect(lines.last == "SIP/2.0 200 OK")
    }

    @Test func tcpOverIPv6() async throws {
        try #require(Self.ipv6Available, "no IPv6 loopback here")
        let listeners = try await bind(["tcp:[::1]:0"])
        let (received, _) = try await TestClient.tcpExchange(
            [TestClient.options(branch: "t7", transport: "TCP", via: "[::1]:5060", rport: false)],
            to: listeners.listeners[0].localAddress, group: group, until: { statusLines($0).count == 1 })
        await listeners.close()
        #expect(statusLines(received) == ["SIP/2.0 200 OK"])
    }

    @Test func idleConnectionIsClosed() async throws {
        let listeners = try await bind(["tcp:127.0.0.1:0"], idle: .milliseconds(200))
        let clock = ContinuousClock()
        // A second connection only if the first was not closed: once in a full `swift test` run
        // (265 tests in parallel on 2 cores) the close did not reach the client within 5 s and
        // it did not happen again in isolation or under a CPU hog. A listener that never closes
        // idle connections still fails both.
        var outcomes: [(received: String, closed: Bool, elapsed: Duration)] = []
        for _ in 0..<2 {
            let start = clock.now
            let (received, closed) = try await TestClient.tcpExchange(
                [], to: listeners.listeners[0].localAddress, group: group, timeout: .seconds(5))
            outcomes.append((received, closed, clock.now - start))
            if closed { break }
        }
        await listeners.close()
        let last = try #require(outcomes.last)
        #expect(last.received.isEmpty)
        #expect(last.closed, "no idle connection was closed within 5 s, in \(outcomes.count) attempts")
        #expect(last.elapsed < .seconds(4))
    }

    @Test func closeStopsListeningAndClosesConnections() async throws {
        let listeners = try await bind(["tcp:127.0.0.1:0", "udp:127.0.0.1:0"])
        let server = listeners.listeners[0].localAddress
        let client = try await ClientBootstrap(group: group).connect(to: server).get()
        for _ in 0..<50 where listeners.openConnections == 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(listeners.openConnections == 1)
        await listeners.close()
        try await client.closeFuture.get()  // the server closed it
        #expect(listeners.openConnections == 0)
        await #expect(throws: (any Error).self) {
            _ = try await ClientBootstrap(group: group).connect(to: server).get()
        }
    }

    @Test func tlsWithoutACertificateIsRefused() async throws {
        await #expect {
            _ = try await bind(["udp:127.0.0.1:0", "tls:127.0.0.1:0"])
        } throws: { error in
            "\(error)".contains("a TLS listener needs a certificate and key")
        }
    }

    /// A port below the kernel's ephemeral range (32768–60999 here) that nothing holds now, so
    /// that no connect() or port-0 bind of a test running alongside can take it in between.
    static func fixedPort() throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<32_000)
            let free = [SOCK_STREAM, SOCK_DGRAM].allSatisfy { kind in
                let fd = socket(AF_INET, Int32(kind.rawValue), 0)
                defer { close(fd) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                return withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                    }
                }
            }
            if free { return port }
        }
        throw SIPTransportError.noAddresses
    }

    @Test func aFailedBindReleasesWhatWasAlreadyBound() async throws {
        let port = try Self.fixedPort()
        let first = try await bind(["tcp:127.0.0.1:\(port)"])
        await #expect(throws: SIPTransportError.self) {
            _ = try await bind(["udp:127.0.0.1:\(port)", "tcp:127.0.0.1:\(port)"])
        }
        await first.close()
        // The UDP socket of the failed attempt was closed again: the same pair binds now.
        let again = try await bind(["udp:127.0.0.1:\(port)", "tcp:127.0.0.1:\(port)"])
        #expect(again.listeners.map { $0.localAddress.port } == [port, port])
        await again.close()
    }

    @Test func callIDIsFoundInRawDatagrams() {
        let full = Array(TestClient.options(branch: "h1").utf8)
        let compact = Array(TestClient.options(branch: "h1").replacing("Call-ID: h1@test", with: "i:h1@test").utf8)
        let upper = Array(TestClient.options(branch: "h1").replacing("Call-ID: h1@test", with: "CALL-ID :  h1@test").utf8)
        let other = Array(TestClient.options(branch: "h2").utf8)
        let hash = SIPDatagramHandler.callIDHash(full)
        #expect(hash != 0)
        #expect(SIPDatagramHandler.callIDHash(compact) == hash)
        #expect(SIPDatagramHandler.callIDHash(upper) == hash)
        #expect(SIPDatagramHandler.callIDHash(other) != hash)
        #expect(SIPDatagramHandler.callIDHash(Array("OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\nCall-ID: body\r\n".utf8)) == 0)
    }

    /// Sends `texts` from one client socket (on a group of its own) while both server loops are
    /// held busy, so that the datagrams queue up in the server's socket and a read takes them
    /// together; returns the replies, each checked to come from the listener's address.
    func sendWhileTheLoopsAreBusy(_ texts: [String], to server: SocketAddress) async throws -> [String] {
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await DatagramBootstrap(group: clientGroup)
            .bind(to: try SocketAddress(ipAddress: "127.0.0.1", port: 0)) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                }
            }
        let channel = client.channel
        channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        for loop in group.makeIterator() { loop.execute { usleep(300_000) } }
        let replies = try await client.executeThenClose { inbound, outbound -> [String] in
            for text in texts {
                try await outbound.write(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(string: text)))
            }
            var replies: [String] = []
            for try await envelope in inbound {
                #expect(envelope.remoteAddress == server, "answered from the listener's address")
                replies.append(String(buffer: envelope.data))
                if replies.count == texts.count { break }
            }
            return replies
        }
        try await clientGroup.shutdownGracefully()
        return replies
    }

    /// One peer's datagrams all arrive on one socket (SO_REUSEPORT hashes by source): when they
    /// pile up, a read burst is dealt out over both loops, and each is still answered once,
    /// from the listener's address, through the listener's socket on the loop that handled it.
    @Test func aBurstFromOnePeerIsSharedByEveryLoop() async throws {
        let handler = RecordingHandler()
        let listeners = try await bind(["udp:127.0.0.1:0"], handler: handler)
        let count = 100
        // 50 calls of two requests each (CSeq 1, then 2).
        let texts = (0..<count).map { index in
            TestClient.options(branch: "burst\(index)")
                .replacing("Call-ID: burst\(index)@test", with: "Call-ID: burst\(index / 2)@test")
                .replacing("CSeq: 1 OPTIONS", with: "CSeq: \(index % 2 + 1) OPTIONS")
        }
        let replies = try await sendWhileTheLoopsAreBusy(texts, to: listeners.listeners[0].localAddress)
        await listeners.close()
        #expect(replies.count == count)
        let answered = Set(replies.compactMap { reply in reply.split(separator: "\r\n").first { $0.hasPrefix("Via: ") } })
        #expect(answered.count == count, "every request answered exactly once")
        let seen = handler.seen.withLock { $0 }
        #expect(seen.count == count)
        #expect(Set(seen.compactMap(\.loop)).count == 2, "the burst was handled on both loops")
        #expect(seen.allSatisfy { $0.answeredOnHandlingLoop }, "each share answered through its own loop's socket")
        let order = Dictionary(grouping: seen, by: { $0.callID ?? "" }).mapValues { $0.compactMap(\.cseq) }
        #expect(order.count == count / 2)
        #expect(order.values.allSatisfy { $0 == [1, 2] }, "each call's requests in the order sent")
    }

    /// A burst smaller than a full read (the socket was emptied, so the reading loop keeps up)
    /// is handled where it was read: no hand-off to the other loop. The same burst is dealt out
    /// once `dealBurstsFrom` is at most its size.
    @Test(arguments: [(dealFrom: 16, loops: 1), (dealFrom: 2, loops: 2)])
    func aBurstSmallerThanAFullReadStaysOnItsLoop(dealFrom: Int, loops: Int) async throws {
        let handler = RecordingHandler()
        var configuration = SIPTransportConfiguration(addresses: [try SIPListenAddress(parsing: "udp:127.0.0.1:0")])
        configuration.dealBurstsFrom = dealFrom
        let listeners = try await SIPListeners.bind(configuration: configuration, handler: handler, group: group, logger: logger)
        // 8 calls, one datagram each: one read takes all of them.
        let count = 8
        let replies = try await sendWhileTheLoopsAreBusy((0..<count).map { TestClient.options(branch: "small\($0)") },
                                                         to: listeners.listeners[0].localAddress)
        await listeners.close()
        #expect(replies.count == count)
        let seen = handler.seen.withLock { $0 }
        #expect(seen.count == count)
        #expect(Set(seen.compactMap(\.loop)).count == loops)
    }

    /// Many messages read together from one TCP connection are handed to both loops by Call-ID:
    /// every one is answered once, and each call's messages are handled in the order sent.
    @Test func aBurstOnOneConnectionIsSharedByCallID() async throws {
        let handler = RecordingHandler()
        let listeners = try await bind(["tcp:127.0.0.1:0"], handler: handler)
        let calls = 60
        var text = ""
        for call in 0..<calls {
            for cseq in 1...2 {
                text += TestClient.options(branch: "t\(call)x\(cseq)", transport: "TCP")
                    .replacing("Call-ID: t\(call)x\(cseq)@test", with: "Call-ID: t\(call)@test")
                    .replacing("CSeq: 1 OPTIONS", with: "CSeq: \(cseq) OPTIONS")
            }
        }
        let expected = calls * 2
        let (received, _) = try await TestClient.tcpExchange(
            [text], to: listeners.listeners[0].localAddress, group: group, timeout: .seconds(10),
            until: { $0.components(separatedBy: "SIP/2.0 200 OK").count - 1 >= expected })
        await listeners.close()
        #expect(received.components(separatedBy: "SIP/2.0 200 OK").count - 1 == expected)
        let seen = handler.seen.withLock { $0 }
        #expect(seen.count == expected)
        #expect(Set(seen.compactMap(\.loop)).count == 2, "the burst was handled on both loops")
        let order = Dictionary(grouping: seen, by: { $0.callID ?? "" }).mapValues { $0.compactMap(\.cseq) }
        #expect(order.count == calls)
        #expect(order.values.allSatisfy { $0 == [1, 2] }, "each call's messages in the order sent")
    }

    /// Every UDP socket of a listener shares its port through SO_REUSEPORT, which the kernel
    /// grants any socket of the same user that asks: a second server started on a port in use
    /// must fail as it would without that option, not silently take a share of the datagrams.
    @Test func aSecondServerOnAUDPPortInUseIsRefused() async throws {
        let first = try await bind(["udp:127.0.0.1:0"])
        let port = first.listeners[0].localAddress.port!
        #expect(first.listeners[0].sockets == 2)
        await #expect {
            _ = try await bind(["udp:127.0.0.1:\(port)"])
        } throws: { error in
            "\(error)".contains("cannot listen on udp:127.0.0.1:\(port)") && "\(error)".contains("in use")
        }
        // The first server still gets every datagram.
        let (reply, _) = try await TestClient.udpExchange(TestClient.options(branch: "r1"), to: first.listeners[0].localAddress, group: group)
        #expect(reply?.hasPrefix("SIP/2.0 200 OK\r\n") == true)
        await first.close()
        let again = try await bind(["udp:127.0.0.1:\(port)"])
        #expect(again.listeners[0].localAddress.port == port)
        await again.close()
    }

    @Test func serviceRunsUntilGracefulShutdown() async throws {
        let bound = Mutex<SocketAddress?>(nil)
        let service = SIPTransportService(
            configuration: SIPTransportConfiguration(addresses: [try SIPListenAddress(parsing: "udp:127.0.0.1:0")]),
            handler: RecordingHandler(), group: group, logger: logger,
            onListening: { listeners in bound.withLock { $0 = listeners[0].localAddress } })
        let serviceGroup = ServiceGroup(services: [service], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serviceGroup.run() }
            var server: SocketAddress?
            for _ in 0..<250 where server == nil {
                try await Task.sleep(for: .milliseconds(20))
                server = bound.withLock { $0 }
            }
            let address = try #require(server)
            let (reply, _) = try await TestClient.udpExchange(TestClient.options(branch: "s1"), to: address, group: group)
            #expect(reply?.hasPrefix("SIP/2.0 200 OK") == true)
            await serviceGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
            // Stopped: nothing answers any more.
            let (after, _) = try await TestClient.udpExchange(
                TestClient.options(branch: "s2"), to: address, group: group, timeout: .milliseconds(300))
            #expect(after == nil)
        }
    }
}

extension String {
    func replacingCSeq(with line: String) -> String {
        split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("CSeq:") ? Substring(line) : $0 }
            .joined(separator: "\r\n")
    }
}
