import Testing
import SIPMessage
@testable import TrunkgateEdge

@Suite struct CallLegRewriterTests {
    static let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

    func customerInvite(maxForwards: Int = 70, extra: String = "") throws -> SIPMessage {
        let text = "INVITE sip:+15550100@pbx.trunks.test SIP/2.0\r\n" +
            "Via: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bKpbx1;rport\r\n" +
            "Max-Forwards: \(maxForwards)\r\n" +
            "From: \"Front Desk\" <sip:+15550199@pbx.trunks.test>;tag=pbx-tag\r\n" +
            "To: <sip:+15550100@pbx.trunks.test>\r\n" +
            "Call-ID: a-leg@10.0.0.9\r\nCSeq: 2 INVITE\r\n" +
            "Contact: <sip:pbx@10.0.0.9:5062>\r\n" +
            "Route: <sip:edge.trunks.test;lr>\r\n" +
            "Proxy-Authorization: Digest username=\"alice\", realm=\"pbx.trunks.test\", nonce=\"n\", uri=\"sip:+15550100@pbx.trunks.test\", response=\"00\"\r\n" +
            "X-Auth-User: admin\r\n" +
            "Allow: INVITE, ACK, BYE, CANCEL\r\nSupported: timer\r\nUser-Agent: PBX 1.0\r\n" + extra +
            "Content-Type: application/sdp\r\nContent-Length: \(Self.sdp.utf8.count)\r\n\r\n" + Self.sdp
        return try SIPMessage.parse(Array(text.utf8), framing: .stream)
    }

    let leg = CallLegIdentity(callID: "b-leg@trunkgate", localTag: "tg-tag", branch: "z9hG4bKtg1", sentBy: "127.0.0.1:5060", transport: "UDP")
    let caller = CallerAuthentication(authType: "credential", user: "alice", sourceIP: "10.0.0.9")

    @Test func outboundInviteStartsANewDialogAndCarriesTheAuthenticationHeaders() throws {
        let carrier = try SIPURI(parsing: "sip:127.0.0.5:5080")
        let b = try CallLegRewriter.forwardInvite(try customerInvite(), to: carrier, calledUser: nil, leg: leg, caller: caller, fromDomain: "edge.test")
        #expect(b.requestURI?.raw == "sip:+15550100@127.0.0.5:5080;user=phone")
        #expect(b.callID == "b-leg@trunkgate")
        #expect(b.from?.tag == "tg-tag" && b.from?.uri.user == "+15550199" && b.from?.displayName == "Front Desk")
        #expect(b.to?.tag == nil && b.to?.uri.user == "+15550100")
        #expect(b.vias.count == 1 && b.topVia?.branch == "z9hG4bKtg1")
        #expect(b.cseq?.number == 1 && b.cseq?.method == "INVITE")
        #expect(b.maxForwards == 69)
        #expect(b.header(.proxyAuthorization) == nil && b.header(.authorization) == nil)
        #expect(b.routes.isEmpty)
        #expect(b.headers(named: "X-Auth-Type") == ["credential"])
        #expect(b.headers(named: "X-Auth-User") == ["alice"])  // the caller's own X-Auth-User is gone
        #expect(b.headers(named: "X-Source-IP") == ["10.0.0.9"])
        #expect(b.header(.userAgent) == "PBX 1.0" && b.header(.supported) == "timer")
        #expect(b.contacts.first?.address?.uri.host == "127.0.0.1")
        #expect(String(decoding: b.body, as: UTF8.self) == Self.sdp)
        // Valid on the wire: it parses back with the same body length.
        let wire = try SIPMessage.parse(b.serialized(), framing: .stream)
        #expect(wire.declaredContentLength == Self.sdp.utf8.count)
    }

    @Test func ipACLCallerHasNoUserHeaderAndIPv6TargetsAreBracketed() throws {
        let target = try SIPURI(parsing: "sip:[::1]:5090;transport=tcp")
        let acl = CallerAuthentication(authType: "ip_acl", user: nil, sourceIP: "::1")
        let b = try CallLegRewriter.forwardInvite(try customerInvite(), to: target, calledUser: "agent7", leg: leg, caller: acl, fromDomain: "edge.test")
        #expect(b.requestURI?.raw == "sip:agent7@[::1]:5090;transport=tcp")
        #expect(b.headers(named: "X-Auth-User").isEmpty)
        #expect(b.headers(named: "X-Auth-Type") == ["ip_acl"])
    }

    @Test func maxForwardsZeroIsALoop() throws {
        let carrier = try SIPURI(parsing: "sip:127.0.0.5")
        #expect(throws: CallRoutingRefusal(status: 483, reason: "Too Many Hops")) {
            try CallLegRewriter.forwardInvite(try customerInvite(maxForwards: 0), to: carrier, calledUser: nil, leg: leg, caller: caller, fromDomain: "e")
        }
        let one = try CallLegRewriter.forwardInvite(try customerInvite(maxForwards: 1), to: carrier, calledUser: nil, leg: leg, caller: caller, fromDomain: "e")
        #expect(one.maxForwards == 0)
    }

    @Test func responsesGoBackWithTheALegIdentityAndTheFarEndsSession() throws {
        let invite = try customerInvite()
        let answer = "v=0\r\no=- 2 2 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
        let farEnd = try SIPMessage.parse(Array((
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtg1;rport=5060\r\n" +
            "From: <sip:+15550199@edge.test>;tag=tg-tag\r\nTo: <sip:+15550100@127.0.0.5>;tag=carrier-tag\r\n" +
            "Call-ID: b-leg@trunkgate\r\nCSeq: 1 INVITE\r\nContact: <sip:gw@127.0.0.5:5080>\r\n" +
            "Record-Route: <sip:127.0.0.5;lr>\r\nServer: Carrier GW\r\nAllow: INVITE, ACK, BYE\r\n" +
            "Content-Type: application/sdp\r\nContent-Length: \(answer.utf8.count)\r\n\r\n" + answer).utf8), framing: .stream)
        let a = CallLegRewriter.relayResponse(farEnd, toRequest: invite, aLegTag: "edge-a-tag", contact: "<sip:trunkgate@127.0.0.1:5060>")
        #expect(a.statusCode == 200)
        #expect(a.callID == "a-leg@10.0.0.9")
        #expect(a.to?.tag == "edge-a-tag")
        #expect(a.from?.tag == "pbx-tag")
        #expect(a.topVia?.branch == "z9hG4bKpbx1" && a.cseq?.number == 2)
        #expect(a.contacts.first?.address?.uri.host == "127.0.0.1")
        #expect(a.recordRoutes.isEmpty && a.header(.server) == nil)
        #expect(a.header(.allow) == "INVITE, ACK, BYE")
        #expect(String(decoding: a.body, as: UTF8.self) == answer)
        let wire = try SIPMessage.parse(a.serialized(), framing: .stream)
        #expect(wire.declaredContentLength == answer.utf8.count)
    }
}
