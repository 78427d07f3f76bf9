import NIOCore
import SIPTransport
import Testing
@testable import TrunkgateEdge

/// Where requests inside a B-leg dialog go (RFC 3261 §12.2.1.1).
@Suite struct DialogHopTests {
    let initial = CallManager.Hop(address: try! SocketAddress(ipAddress: "192.0.2.10", port: 5060), transport: .tcp, serverName: "gw.example.com")

    @Test func firstRouteWinsOverTheContact() throws {
        let hop = CallManager.dialogHop(routeSet: ["<sip:198.51.100.7:5070;lr>", "<sip:198.51.100.8;lr>"],
                                        remoteTarget: "sip:ua@203.0.113.9:5062", initial: initial)
        #expect(hop.address == (try SocketAddress(ipAddress: "198.51.100.7", port: 5070)) && hop.transport == .udp)
    }

    @Test func withoutRoutesTheContactWithItsTransport() throws {
        let hop = CallManager.dialogHop(routeSet: [], remoteTarget: "sip:ua@203.0.113.9;transport=tls", initial: initial)
        #expect(hop.address == (try SocketAddress(ipAddress: "203.0.113.9", port: 5061)) && hop.transport == .tls)
        let v6 = CallManager.dialogHop(routeSet: [], remoteTarget: "sip:ua@[2001:db8::5]:5080", initial: initial)
        #expect(v6.address == (try SocketAddress(ipAddress: "2001:db8::5", port: 5080)) && v6.transport == .udp)
    }

    @Test func sameAddressOrAHostNameKeepsTheInitialHop() {
        // The same address: keep its transport and connection (a TCP Contact written without ;transport).
        #expect(CallManager.dialogHop(routeSet: [], remoteTarget: "sip:gw@192.0.2.10:5060", initial: initial) == initial)
        // A name would need a DNS lookup on the call path: the initial hop is used.
        #expect(CallManager.dialogHop(routeSet: [], remoteTarget: "sip:gw@gw2.example.com", initial: initial) == initial)
        #expect(CallManager.dialogHop(routeSet: [], remoteTarget: nil, initial: initial) == initial)
        #expect(CallManager.dialogHop(routeSet: ["not a uri"], remoteTarget: nil, initial: initial) == initial)
    }
}
