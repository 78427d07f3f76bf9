import NIOCore
import NIOEmbedded
import SIPMessage
import Testing

@testable import SIPTransport

/// RFC 3261 §18.2.1 (received), RFC 3581 (rport) and §18.2.2 (where UDP responses go).
@Suite struct SIPRequestContextTests {
    static func request(via: String) throws -> SIPMessage {
        let text = """
            OPTIONS sip:edge.example.com SIP/2.0\r
            Via: \(via)\r
            From: <sip:a@example.com>;tag=1\r
            To: <sip:edge.example.com>\r
            Call-ID: ctx-1\r
            CSeq: 1 OPTIONS\r
            Max-Forwards: 70\r
            Content-Length: 0\r
            \r

            """
        return try SIPMessage.parse(Array(text.utf8), framing: .datagram)
    }

    static func inbound(
        via: String, from source: SocketAddress, transport: SIPTransportProtocol = .udp
    ) throws -> (SIPMessage, SIPRequestContext) {
        var message = try request(via: via)
        let context = SIPRequestContext.inbound(
            &message, transport: transport, source: source, local: nil, channel: EmbeddedChannel())
        return (message, context)
    }

    /// The source address as text is written without inet_ntop: it must print exactly as
    /// `ipAddress` does, for every octet width, and fall back to it for IPv6.
    @Test func ipTextMatchesIPAddress() throws {
        var addresses = ["0.0.0.0", "127.0.0.1", "127.0.0.2", "10.0.0.5", "198.51.100.7", "255.255.255.255", "1.22.133.9", "100.10.1.0"]
        for a in 0..<256 where a % 37 == 0 || a == 9 || a == 10 || a == 99 || a == 100 {
            addresses.append("\(a).\(255 - a).\(a / 2).\(a % 10)")
        }
        for text in addresses {
            let address = try SocketAddress(ipAddress: text, port: 5060)
            #expect(address.ipText == text)
            #expect(address.ipText == address.ipAddress)
        }
        for text in ["::1", "2001:db8::5", "fe80::1:2:3:4"] {
            let address = try SocketAddress(ipAddress: text, port: 5060)
            #expect(address.ipText == address.ipAddress)
        }
        let context = try Self.inbound(via: "SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKr1", from: SocketAddress(ipAddress: "198.51.100.7", port: 1)).1
        #expect(context.sourceIP == "198.51.100.7")
    }

    @Test func rportIsFilledAndTheResponseGoesToTheSourcePort() throws {
        let source = try SocketAddress(ipAddress: "198.51.100.7", port: 40_123)
        let (message, context) = try Self.inbound(
            via: "SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKr1;rport", from: source)
        let via = try #require(message.topVia)
        #expect(via.received == "198.51.100.7")
        #expect(via.rport == .value(40_123))
        #expect(via.branch == "z9hG4bKr1")
        #expect(context.responseDestination == source)
        // A response built from it carries both parameters back (RFC 3581 §4).
        let response = message.makeResponse(status: 200)
        #expect(response.topVia?.rport == .value(40_123))
        #expect(response.topVia?.received == "198.51.100.7")
    }

    @Test func sentByMatchingTheSourceIsLeftAloneAndItsPortUsed() throws {
        let source = try SocketAddress(ipAddress: "198.51.100.7", port: 40_123)
        let (message, context) = try Self.inbound(via: "SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bKr2", from: source)
        #expect(message.topVia?.received == nil)
        #expect(context.responseDestination == (try SocketAddress(ipAddress: "198.51.100.7", port: 5080)))
    }

    @Test func otherSentByGetsReceivedAndTheDefaultPort() throws {
        let source = try SocketAddress(ipAddress: "198.51.100.7", port: 40_123)
        let (message, context) = try Self.inbound(via: "SIP/2.0/UDP pbx.example.com;branch=z9hG4bKr3", from: source)
        #expect(message.topVia?.received == "198.51.100.7")
        #expect(message.topVia?.rport == .absent)
        #expect(context.responseDestination == (try SocketAddress(ipAddress: "198.51.100.7", port: 5060)))
    }

    @Test func ipv6SentByIsComparedAsAnAddress() throws {
        let source = try SocketAddress(ipAddress: "2001:db8::1", port: 5062)
        let (message, context) = try Self.inbound(
            via: "SIP/2.0/UDP [2001:DB8:0:0::1]:5062;branch=z9hG4bKr4", from: source)
        #expect(message.topVia?.received == nil)
        #expect(context.responseDestination == source)

        let (other, _) = try Self.inbound(via: "SIP/2.0/UDP [2001:db8::2]:5062;branch=z9hG4bKr5", from: source)
        #expect(other.topVia?.received == "2001:db8::1")
    }

    @Test func streamResponsesUseTheConnectionWhateverTheVia() throws {
        let source = try SocketAddress(ipAddress: "203.0.113.9", port: 50_000)
        let (message, context) = try Self.inbound(
            via: "SIP/2.0/TCP 10.1.1.1:5060;branch=z9hG4bKr6", from: source, transport: .tcp)
        #expect(message.topVia?.received == "203.0.113.9")
        #expect(context.responseDestination == source)
    }

    @Test func responsesAreNotStamped() throws {
        let text = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKr7;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        var message = try SIPMessage.parse(Array(text.utf8), framing: .datagram)
        let source = try SocketAddress(ipAddress: "198.51.100.7", port: 40_123)
        _ = SIPRequestContext.inbound(&message, transport: .udp, source: source, local: nil, channel: EmbeddedChannel())
        #expect(message.topVia?.received == nil)
        #expect(message.topVia?.rport == .requested)
    }
}
