import Testing
@testable import SIPMessage
@testable import SIPTransaction

@Suite struct ClientTransactionTests {
    let invite = Array("INVITE sip:+15550100@carrier.test SIP/2.0\r\n\r\n".utf8)
    let ack = Array("ACK sip:+15550100@carrier.test SIP/2.0\r\n\r\n".utf8)

    @Test func inviteOverUDPRetransmitsWithUncappedBackoffThenTimesOut() {
        var tx = ClientTransaction(kind: .invite, request: invite, reliable: false)
        let started = tx.start()
        #expect(started.send == invite)
        #expect(started.start == [.a: .milliseconds(500), .b: .seconds(32)])
        var intervals: [Duration] = []
        for _ in 0..<6 {
            let a = tx.handle(.timerFired(.a))
            #expect(a.send == invite)
            intervals.append(a.start[.a]!)
        }
        // Timer A doubles without the T2 cap that non-INVITE requests have.
        #expect(intervals == [1, 2, 4, 8, 16, 32].map { Duration.seconds($0) })
        let b = tx.handle(.timerFired(.b))
        #expect(b == ClientTransaction.Actions(failure: .timeout, terminated: true))
        #expect(tx.state == .terminated)
        #expect(tx.handle(.response(status: 200)) == .none)
    }

    @Test func provisionalStopsRetransmissionsAndPassesToTheUser() {
        var tx = ClientTransaction(kind: .invite, request: invite, reliable: false)
        _ = tx.start()
        #expect(tx.handle(.response(status: 100)) == ClientTransaction.Actions(passToUser: true))
        #expect(tx.state == .proceeding)
        #expect(tx.handle(.timerFired(.a)) == .none)  // no retransmission once proceeding
        #expect(tx.handle(.response(status: 183)).passToUser)
        // Timer B only guards the calling state (RFC 3261 §17.1.1.2): a ringing leg may ring on.
        #expect(tx.handle(.timerFired(.b)) == .none)
        #expect(tx.state == .proceeding)
    }

    @Test func inviteSuccessEntersAcceptedAndPassesRetransmitted2xx() {
        var tx = ClientTransaction(kind: .invite, request: invite, reliable: false)
        _ = tx.start()
        _ = tx.handle(.response(status: 180))
        let ok = tx.handle(.response(status: 200))
        #expect(ok == ClientTransaction.Actions(start: [.m: .seconds(32)], passToUser: true))
        #expect(tx.state == .accepted)
        #expect(tx.handle(.response(status: 200)).passToUser)  // the TU re-ACKs it end to end
        #expect(tx.handle(.response(status: 486)) == .none)
        #expect(tx.handle(.timerFired(.m)).terminated)
    }

    @Test func inviteErrorIsACKedOnceAndRetransmissionsReACKed() {
        var tx = ClientTransaction(kind: .invite, request: invite, reliable: false)
        _ = tx.start()
        let busy = tx.handle(.response(status: 486, ack: ack))
        #expect(busy == ClientTransaction.Actions(send: ack, start: [.d: .seconds(32)], passToUser: true))
        #expect(tx.state == .completed)
        let again = tx.handle(.response(status: 486, ack: nil))
        #expect(again == ClientTransaction.Actions(send: ack))  // absorbed, ACK repeated
        #expect(tx.handle(.timerFired(.d)).terminated)
    }

    @Test func inviteErrorOverTCPEndsAtOnce() {
        var tx = ClientTransaction(kind: .invite, request: invite, reliable: true)
        #expect(tx.start().start == [.b: .seconds(32)])
        let a = tx.handle(.response(status: 503, ack: ack))
        #expect(a.send == ack && a.passToUser && a.terminated && a.start.isEmpty)
    }

    @Test func nonInviteRetransmissionIsCappedAtT2AndT2WhileProceeding() {
        let bye = Array("BYE sip:a@b SIP/2.0\r\n\r\n".utf8)
        var tx = ClientTransaction(kind: .nonInvite, request: bye, reliable: false)
        #expect(tx.start().start == [.e: .milliseconds(500), .f: .seconds(32)])
        var intervals: [Duration] = []
        for _ in 0..<5 { intervals.append(tx.handle(.timerFired(.e)).start[.e]!) }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        #expect(tx.handle(.response(status: 100)).passToUser)
        let e = tx.handle(.timerFired(.e))
        #expect(e.send == bye && e.start == [.e: .seconds(4)])
        let ok = tx.handle(.response(status: 200))
        #expect(ok == ClientTransaction.Actions(start: [.k: .seconds(5)], passToUser: true))
        #expect(tx.handle(.response(status: 200)) == .none)  // absorbed
        #expect(tx.handle(.timerFired(.e)) == .none)
        #expect(tx.handle(.timerFired(.k)).terminated)
    }

    @Test func nonInviteTimeoutAndTransportError() {
        var tx = ClientTransaction(kind: .nonInvite, request: [1], reliable: true)
        #expect(tx.start().start == [.f: .seconds(32)])
        #expect(tx.handle(.timerFired(.f)) == ClientTransaction.Actions(failure: .timeout, terminated: true))
        var other = ClientTransaction(kind: .invite, request: [1], reliable: false)
        _ = other.start()
        #expect(other.handle(.transportError) == ClientTransaction.Actions(failure: .transportError, terminated: true))
    }

    @Test func ackAndCancelCarryTheFieldsTheFarEndMatchesOn() throws {
        let request = try SIPMessage.parse(Array((
            "INVITE sip:+15550100@carrier.test;user=phone SIP/2.0\r\n" +
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKleg2;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKpbx\r\n" +
            "Route: <sip:proxy.carrier.test;lr>\r\n" +
            "Max-Forwards: 69\r\nFrom: \"Alice\" <sip:+15550199@edge.test>;tag=e1\r\nTo: <sip:+15550100@carrier.test>\r\n" +
            "Call-ID: leg2@edge\r\nCSeq: 7 INVITE\r\nContact: <sip:edge@127.0.0.1>\r\n" +
            "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n").utf8), framing: .stream)
        let response = try SIPMessage.parse(Array((
            "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKleg2;rport=5060\r\n" +
            "From: \"Alice\" <sip:+15550199@edge.test>;tag=e1\r\nTo: <sip:+15550100@carrier.test>;tag=far\r\n" +
            "Call-ID: leg2@edge\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n").utf8), framing: .stream)
        let ack = try #require(request.makeACK(for: response))
        #expect(ack.method == "ACK")
        #expect(ack.requestURI == request.requestURI)
        #expect(ack.vias.count == 1 && ack.topVia?.branch == "z9hG4bKleg2")
        #expect(ack.to?.tag == "far")
        #expect(ack.from?.tag == "e1")
        #expect(ack.cseq?.number == 7 && ack.cseq?.method == "ACK")
        #expect(ack.routes.count == 1)
        #expect(ack.body.isEmpty && ack.header(.contentType) == nil)
        let reparsed = try SIPMessage.parse(ack.serialized(), framing: .stream)
        #expect(reparsed.callID == "leg2@edge")

        let cancel = try #require(request.makeCANCEL())
        #expect(cancel.method == "CANCEL")
        #expect(cancel.to?.tag == nil)
        #expect(cancel.cseq?.number == 7 && cancel.cseq?.method == "CANCEL")
        #expect(cancel.topVia?.branch == "z9hG4bKleg2" && cancel.vias.count == 1)
    }
}
