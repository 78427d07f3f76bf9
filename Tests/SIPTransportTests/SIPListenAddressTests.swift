import Testing

@testable import SIPTransport

@Suite struct SIPListenAddressTests {
    @Test(arguments: [
        ("udp:0.0.0.0:5060", SIPTransportProtocol.udp, "0.0.0.0", 5060),
        ("tcp:[::]:5060", .tcp, "::", 5060),
        ("tls:127.0.0.1:5061", .tls, "127.0.0.1", 5061),
        ("TCP:[2001:db8::1]:0", .tcp, "2001:db8::1", 0),
        ("udp:[::ffff:192.0.2.1]:65535", .udp, "::ffff:192.0.2.1", 65535),
    ])
    func parses(text: String, transport: SIPTransportProtocol, host: String, port: Int) throws {
        let address = try SIPListenAddress(parsing: text)
        #expect(address == SIPListenAddress(transport: transport, host: host, port: port))
        #expect(try SIPListenAddress(parsing: address.description) == address)
    }

    @Test(arguments: [
        ("5060", "expected TRANSPORT:HOST:PORT"),
        ("sctp:0.0.0.0:5060", "transport must be udp, tcp or tls"),
        ("udp:0.0.0.0", "missing ':PORT'"),
        ("udp:0.0.0.0:", "port must be a number"),
        ("udp:0.0.0.0:70000", "port must be a number"),
        ("udp:0.0.0.0:-1", "port must be a number"),
        ("udp::::5060", "must be written in brackets"),
        ("tcp:[::1:5060", "missing ']'"),
        ("tcp:[::1]5060", "expected ':PORT'"),
        ("tcp:[127.0.0.1]:5060", "brackets are for IPv6"),
        ("udp:edge.example.com:5060", "not a name"),
        ("udp::5060", "missing host"),
    ])
    func rejects(text: String, reason: String) {
        #expect {
            try SIPListenAddress(parsing: text)
        } throws: { error in
            guard let error = error as? SIPListenAddressError else { return false }
            return error.input == text && error.reason.contains(reason)
        }
    }

    @Test func defaultsAreUDPAndTCPOnBothFamilies() {
        #expect(SIPListenAddress.defaults.map(\.description) == [
            "udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "udp:[::]:5060", "tcp:[::]:5060",
        ])
    }
}
