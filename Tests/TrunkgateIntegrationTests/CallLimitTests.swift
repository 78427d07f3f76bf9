import Foundation
import NIOCore
import NIOPosix
import SIPMessage
import Testing
import TrunkgateEdge

/// A far end on loopback that records the requests the edge sends it and answers when told.
final class UDPPeer: Sendable {
    let channel: any Channel
    let inbox = Inbox()
    let address: SocketAddress

    init(ip: String) async throws {
        let inbox = self.inbox
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DatagramCollector(inbox)) }
            }
            .bind(host: ip, port: 0).get()
        address = channel.localAddress!
    }

    /// The next request received that `matches` (skipping anything else, such as the edge's
    /// retransmissions of an INVITE the test has not answered yet), or nil after `timeout`.
    /// The default bound only limits a wait that should succeed (a loaded machine can be slow);
    /// checks that nothing arrives pass a short timeout of their own.
    func nextRequest(timeout: Duration = .seconds(10), where matches: (SIPMessage) -> Bool = { _ in true }) async throws -> SIPMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let bytes = await inbox.take(timeout: deadline - ContinuousClock.now) else { return nil }
            let message = try SIPMessage.parse(bytes, framing: .datagram)
            if message.isRequest, matches(message) { return message }
        }
        return nil
    }

    /// Answers a request at the address its top Via names.
    func answer(_ request: SIPMessage, status: Int) async throws {
        let via = try #require(request.topVia)
        let to = try SocketAddress(ipAddress: String(via.host), port: via.port ?? 5060)
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: to, data: ByteBuffer(bytes: request.makeResponse(status: status).serialized())))
    }

    func close() async { try? await channel.close() }
}

/// Per-trunk call limits (SPEC §3 "Calls"): over `max_concurrent_calls` or `max_cps`, an
/// authenticated INVITE gets 503 with Retry-After and never reaches the carrier.
@Suite(.serialized) struct CallLimitTests {
    static let password = "Secretpass123"

    @Test func concurrentCallLimitRefusesTheSecondCallUntilTheFirstEnds() async throws {
        let carrier = try await UDPPeer(ip: "127.0.0.6")
        defer { Task { await carrier.close() } }
        let node = try await EdgeNode(carrier: carrier.address)
        defer { Task { await node.stop() } }
        let trunk = try await node.createTrunk(["trunk_name": "limited", "domain_name": "limited.it.test", "max_concurrent_calls": 1])
        _ = try await node.createCredential(trunk: trunk, user: "pbx01", password: Self.password)
        try await node.settle()
        let first = try await SIPTestClient(from: "127.0.0.2", to: node, domain: "limited.it.test")
        let second = try await SIPTestClient(from: "127.0.0.3", to: node, domain: "limited.it.test")
        defer { Task { await first.close(); await second.close() } }

        // The first call is admitted and rings at the carrier (no final answer yet).
        // Its final answer comes only when the carrier answers below: the exchange waits long enough.
        async let held = first.authenticate("INVITE", uri: "sip:+15550100@limited.it.test", password: Self.password, finalTimeout: .seconds(15))
        let invite = try #require(try await carrier.nextRequest())
        #expect(invite.method == "INVITE" && invite.requestURI?.user == "+15550100")

        let (_, refused) = try await second.authenticate("INVITE", uri: "sip:+15550101@limited.it.test", password: Self.password)
        #expect(refused?.statusCode == 503)
        #expect(refused?.header(.retryAfter) == "5")
        #expect(refused.map { String($0.statusLine?.reason ?? "") } == "Concurrent Call Limit Reached")
        #expect(try await carrier.nextRequest(timeout: .milliseconds(300), where: { $0.requestURI?.user != "+15550100" }) == nil,
                "a refused call reached the carrier")

        // The carrier rejects the first call: it ends, and the next call is admitted.
        try await carrier.answer(invite, status: 486)
        let (_, firstFinal) = try await held
        #expect(firstFinal?.statusCode == 486, "the carrier's 486 did not reach the first caller")
        #expect(try await carrier.nextRequest(timeout: .seconds(2), where: { $0.method == "ACK" }) != nil, "the edge did not ACK the 486")
        for _ in 0..<100 where node.handler.calls?.activeCalls != 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(node.handler.calls?.activeCalls == 0)
        async let third = second.authenticate("INVITE", uri: "sip:+15550102@limited.it.test", password: Self.password)
        let admitted = try #require(try await carrier.nextRequest(where: { $0.method == "INVITE" && $0.requestURI?.user == "+15550102" }))
        #expect(admitted.requestURI?.user == "+15550102")
        try await carrier.answer(admitted, status: 480)
        _ = try await third
    }

    @Test func callRateLimitRefusesCallsBeyondMaxCPS() async throws {
        let carrier = try await UDPPeer(ip: "127.0.0.6")
        defer { Task { await carrier.close() } }
        let node = try await EdgeNode(carrier: carrier.address)
        defer { Task { await node.stop() } }
        let trunk = try await node.createTrunk(["trunk_name": "paced", "domain_name": "paced.it.test", "max_cps": 1])
        _ = try await node.createCredential(trunk: trunk, user: "pbx01", password: Self.password)
        try await node.settle()
        let c2 = try await SIPTestClient(from: "127.0.0.2", to: node, domain: "paced.it.test")
        let c3 = try await SIPTestClient(from: "127.0.0.3", to: node, domain: "paced.it.test")
        let c4 = try await SIPTestClient(from: "127.0.0.4", to: node, domain: "paced.it.test")
        defer { Task { await c2.close(); await c3.close(); await c4.close() } }

        // Three calls within well under a second: at most two seconds' worth (2) are admitted.
        async let a = c2.authenticate("INVITE", uri: "sip:+15550100@paced.it.test", password: Self.password)
        async let b = c3.authenticate("INVITE", uri: "sip:+15550101@paced.it.test", password: Self.password)
        async let c = c4.authenticate("INVITE", uri: "sip:+15550102@paced.it.test", password: Self.password)
        var reached: [SIPMessage] = []
        while let request = try await carrier.nextRequest(timeout: .milliseconds(1500)) {
            // The ACKs for our 486s, and retransmissions of INVITEs already counted, are skipped.
            guard request.method == "INVITE", !reached.contains(where: { $0.callID == request.callID }) else { continue }
            reached.append(request)
            try await carrier.answer(request, status: 486)
        }
        let finals = [try await a.1, try await b.1, try await c.1].map { $0?.statusCode }
        let limited = [try await a.1, try await b.1, try await c.1].compactMap { $0 }.filter { $0.statusCode == 503 }
        #expect(!limited.isEmpty, "no call refused at max_cps 1: \(finals)")
        #expect(limited.allSatisfy { $0.header(.retryAfter) == "1" && $0.statusLine?.reason == "Call Rate Limit Reached" })
        #expect(reached.count + limited.count == 3 && reached.count <= 2, "carrier got \(reached.count), refused \(limited.count)")
    }
}
