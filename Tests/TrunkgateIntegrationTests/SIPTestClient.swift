import Foundation
import NIOCore
import NIOPosix
import SIPDigest
import SIPMessage
import Synchronization

/// Collects what a client socket receives.
final class Inbox: Sendable {
    private let items = Mutex<[[UInt8]]>([])
    func put(_ bytes: [UInt8]) { items.withLock { $0.append(bytes) } }
    /// The next item, waiting at most `timeout`.
    func take(timeout: Duration) async -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let first = items.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return first }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
    func drain() { items.withLock { $0.removeAll() } }
}

/// Puts every datagram a test socket receives into an ``Inbox``.
final class DatagramCollector: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let inbox: Inbox
    init(_ inbox: Inbox) { self.inbox = inbox }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.put(Array(buffer: unwrapInboundIn(data).data))
    }
}

private final class StreamCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let inbox: Inbox
    init(_ inbox: Inbox) { self.inbox = inbox }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.put(Array(buffer: unwrapInboundIn(data)))
    }
}

/// A SIP user agent over UDP bound to one loopback address (127.0.0.2, ::1 …), so that tests
/// can present different source IPs to the edge's ACLs and lockouts.
final class SIPTestClient: Sendable {
    let channel: any Channel
    let inbox = Inbox()
    let localIP: String
    let localPort: Int
    let server: SocketAddress
    let domain: String

    init(from localIP: String, to node: EdgeNode, domain: String) async throws {
        let inbox = self.inbox
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DatagramCollector(inbox)) }
            }
            .bind(host: localIP, port: 0).get()
        self.localIP = localIP
        localPort = channel.localAddress?.port ?? 0
        server = try SocketAddress(ipAddress: localIP.contains(":") ? "::1" : "127.0.0.1", port: localIP.contains(":") ? node.udp6Port : node.udpPort)
        self.domain = domain
    }

    func close() async { try? await channel.close() }

    var hostPort: String { localIP.contains(":") ? "[\(localIP)]:\(localPort)" : "\(localIP):\(localPort)" }

    func request(_ method: String, uri: String? = nil, user: String = "pbx01", to: String? = nil, callID: String = UUID().uuidString,
                 cseq: Int = 1, extra: [(String, String)] = [], expires: Int? = nil) -> SIPMessage {
        let target = uri ?? "sip:\(domain)"
        var headers: [(String, String)] = [
            ("Via", "SIP/2.0/UDP \(hostPort);branch=z9hG4bK\(UUID().uuidString.prefix(12));rport"),
            ("Max-Forwards", "70"),
            ("From", "<sip:\(user)@\(domain)>;tag=\(UInt32.random(in: 1...UInt32.max))"),
            ("To", to ?? "<sip:\(user)@\(domain)>"),
            ("Call-ID", callID), ("CSeq", "\(cseq) \(method)"),
            ("Contact", "<sip:\(user)@\(hostPort)>"),
        ]
        if let expires { headers.append(("Expires", "\(expires)")) }
        headers += extra
        return try! SIPMessage.build(startLine: "\(method) \(target) SIP/2.0", headers: headers)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: bytes)))
    }

    /// Sends and returns the final response (skipping 100 Trying), or nil after `timeout`. Every
    /// caller expects an answer, so the bound only limits a wait that should succeed: 2 s was
    /// too short on a loaded machine, where a challenge that came late made a call never reach
    /// the carrier.
    func exchange(_ message: SIPMessage, timeout: Duration = .seconds(10)) async throws -> SIPMessage? {
        inbox.drain()
        try await send(message.serialized())
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let bytes = await inbox.take(timeout: deadline - ContinuousClock.now) else { return nil }
            let response = try SIPMessage.parse(bytes, framing: .datagram)
            // Retransmissions of an earlier call's final response (this client does not ACK
            // final INVITE responses) belong to another Call-ID: not the answer to this request.
            guard response.callID == message.callID, response.cseq?.number == message.cseq?.number else { continue }
            if let code = response.statusCode, code >= 200 { return response }
        }
        return nil
    }

    /// Challenge → answer: sends `method`, expects 401/407, answers it with `password`, and returns
    /// (challenge, final response).
    func authenticate(_ method: String, uri: String? = nil, user: String = "pbx01", password: String, to: String? = nil,
                      expires: Int? = nil, finalTimeout: Duration = .seconds(10)) async throws -> (SIPMessage?, SIPMessage?) {
        let callID = UUID().uuidString
        let first = request(method, uri: uri, user: user, to: to, callID: callID, cseq: 1, expires: expires)
        guard let challenge = try await exchange(first), let code = challenge.statusCode, code == 401 || code == 407 else {
            return (nil, nil)
        }
        if method == "INVITE" {
            var ack = request("ACK", uri: uri, user: user, to: to, callID: callID, cseq: 1)
            ack.removeAll(.via)
            for via in first.headers(.via) { try ack.append(SIPHeader(.via, String(via))) }
            try await send(ack.serialized())
        }
        let name = code == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
        let offers = try challenge.headers(named: name).map { try SIPAuthHeader(parsing: $0, headerName: name) }
        let target = uri ?? "sip:\(domain)"
        let answer = try DigestClient().authorization(answering: offers, username: user, password: password, method: method, uri: target)
        let second = request(method, uri: uri, user: user, to: to, callID: callID, cseq: 2,
                             extra: [(code == 401 ? "Authorization" : "Proxy-Authorization", answer.serialized)], expires: expires)
        return (challenge, try await exchange(second, timeout: finalTimeout))
    }
}

/// A raw TCP connection to the edge.
final class TCPTestConnection: Sendable {
    let channel: any Channel
    let inbox = Inbox()

    init(port: Int) async throws {
        let inbox = self.inbox
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(StreamCollector(inbox)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func close() async { try? await channel.close() }
}
