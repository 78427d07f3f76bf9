import Testing
import TrunkgateModel
import SIPTransport
@testable import TrunkgateEdge

@Suite struct InboundTargetTests {
    func destination(_ name: String, priority: Int, weight: Int) -> DestinationURI {
        DestinationURI(sid: name, accountSid: "AC", trunkSid: "TK", destination: "\(name).example.com", priority: priority, weight: weight)
    }

    @Test func lowerPriorityFirstWhateverTheWeights() {
        let list = [destination("c", priority: 20, weight: 100), destination("a", priority: 5, weight: 1), destination("b", priority: 10, weight: 50)]
        #expect(InboundTarget.order(list).map(\.sid) == ["a", "b", "c"])
    }

    @Test func weightsSetHowOftenADestinationComesFirstInItsPriority() {
        let list = [destination("heavy", priority: 10, weight: 30), destination("light", priority: 10, weight: 10), destination("off", priority: 10, weight: 0)]
        var generator = SystemRandomNumberGenerator()
        var first: [String: Int] = [:]
        for _ in 0..<4000 {
            let order = InboundTarget.order(list, random: { Int.random(in: 0..<$0, using: &generator) })
            first[order[0].sid, default: 0] += 1
            #expect(order.last?.sid == "off")  // weight 0: only after the others
            #expect(Set(order.map(\.sid)).count == 3)
        }
        // 3:1 expected; bounds far outside sampling noise for 4000 draws.
        let ratio = Double(first["heavy", default: 0]) / Double(max(1, first["light", default: 0]))
        #expect(ratio > 2.4 && ratio < 3.8, "heavy/light = \(ratio)")
        #expect(first["off"] == nil)
    }

    @Test func deterministicWithAFixedDraw() {
        let list = [destination("x", priority: 1, weight: 10), destination("y", priority: 1, weight: 10)]
        // Draw 15 of 20 lands in y's share (x covers 0..<10 after sorting by sid).
        #expect(InboundTarget.order(list, random: { _ in 15 }).map(\.sid) == ["y", "x"])
        #expect(InboundTarget.order(list, random: { _ in 3 }).map(\.sid) == ["x", "y"])
    }

    @Test func destinationsResolveToHopsWithTheirTransport() {
        #expect(InboundTarget.uri(of: "agent.example.com:5061;transport=tls")?.port == 5061)
        #expect(InboundTarget.uri(of: "sips:agent.example.com")?.scheme == .sips)
        let locator = SIPLocator(nameservers: [])
        let tls = DestinationURI(accountSid: "AC", trunkSid: "TK", destination: "127.0.0.1:5061;transport=tls")
        let tlsHop = InboundTarget.resolve(tls, calledNumber: "+15550100", locator: locator).first?.hop
        #expect(tlsHop?.transport == .tls && tlsHop?.address.port == 5061 && tlsHop?.serverName == nil, "an IP literal is verified by address")
        let sips = DestinationURI(accountSid: "AC", trunkSid: "TK", destination: "sips:127.0.0.1")
        #expect(InboundTarget.resolve(sips, calledNumber: "+1", locator: locator).first?.hop.address.port == 5061, "sips: defaults to TLS on 5061")
        let tcp = DestinationURI(accountSid: "AC", trunkSid: "TK", destination: "sip:localhost:5080;transport=TCP")
        let tcpHop = InboundTarget.resolve(tcp, calledNumber: "+1", locator: locator).first?.hop
        #expect(tcpHop?.transport == .tcp && tcpHop?.serverName == "localhost")
        let unknown = DestinationURI(accountSid: "AC", trunkSid: "TK", destination: "127.0.0.1:5061;transport=sctp")
        #expect(InboundTarget.resolve(unknown, calledNumber: "+1", locator: locator).isEmpty)
        let udpOnly = SIPLocator(nameservers: [], supported: [.udp])
        #expect(InboundTarget.resolve(tls, calledNumber: "+1", locator: udpOnly).isEmpty, "no TLS listener: not a target")
        let udp = DestinationURI(accountSid: "AC", trunkSid: "TK", destination: "[::1]:5070")
        let target = InboundTarget.resolve(udp, calledNumber: "+15550100", locator: locator).first
        #expect(target?.address.port == 5070 && target?.address.ipAddress == "::1" && target?.user == "+15550100" && target?.hop.transport == .udp)
    }
}
