import Foundation
import NIOCore
import SIPDigest
import SIPMessage
import Testing

/// A retransmission of an authenticated INVITE that crosses the 2xx (the customer did not see
/// the answer yet) is absorbed by the server transaction in RFC 6026's Accepted state. Before,
/// the transaction ended at the 2xx, so the retransmission was a new request, authenticated
/// again with the same nonce count: `replayed_nc`, and ten of them locked the caller out.
@Suite(.serialized) struct InviteRetransmissionTests {
    @Test func aRetransmittedInviteAfterThe2xxIsAbsorbedNotReauthenticated() async throws {
        let carrier = try await UDPPeer(ip: "127.0.0.6")
        defer { Task { await carrier.close() } }
        let node = try await EdgeNode(carrier: carrier.address)
        defer { Task { await node.stop() } }
        let trunk = try await node.createTrunk(["trunk_name": "retrans", "domain_name": "retrans.it.test"])
        _ = try await node.createCredential(trunk: trunk, user: "pbx01", password: CallLimitTests.password)
        try await node.settle()
        let client = try await SIPTestClient(from: "127.0.0.2", to: node, domain: "retrans.it.test")
        defer { Task { await client.close() } }

        let uri = "sip:+15550100@retrans.it.test"
        let callID = UUID().uuidString
        let first = client.request("INVITE", uri: uri, callID: callID, cseq: 1)
        let challenge = try #require(try await client.exchange(first))
        #expect(challenge.statusCode == 407)
        var ack = client.request("ACK", uri: uri, callID: callID, cseq: 1)
        ack.removeAll(.via)
        for via in first.headers(.via) { try ack.append(SIPHeader(.via, String(via))) }
        try await client.send(ack.serialized())
        let offers = try challenge.headers(named: "Proxy-Authenticate").map { try SIPAuthHeader(parsing: $0, headerName: "Proxy-Authenticate") }
        let answer = try DigestClient().authorization(answering: offers, username: "pbx01", password: CallLimitTests.password, method: "INVITE", uri: uri)
        let second = client.request("INVITE", uri: uri, callID: callID, cseq: 2, extra: [("Proxy-Authorization", answer.serialized)])
        try await client.send(second.serialized())

        let invite = try #require(try await carrier.nextRequest(where: { $0.method == "INVITE" }))
        try await carrier.answer(invite, status: 200)
        try await Task.sleep(for: .milliseconds(200))  // the 200 is relayed to the customer
        // The customer's retransmissions of the same INVITE (same branch) arrive after the 2xx.
        for _ in 0..<12 { try await client.send(second.serialized()) }

        #expect(try await carrier.nextRequest(timeout: .milliseconds(600), where: { $0.method == "INVITE" }) == nil,
                "a retransmission became a second call")
        try await Task.sleep(for: .milliseconds(600))  // auth events are written behind
        #expect(try await node.authEvents("reason=replayed_nc").isEmpty, "a retransmission was authenticated again")
        #expect(try await node.authEvents("reason=locked_out").isEmpty)
        #expect(try await node.authEvents("result=allowed").count == 1)
    }
}
