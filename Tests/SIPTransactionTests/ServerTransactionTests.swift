import Synchronization
import Testing
@testable import SIPMessage
@testable import SIPTransaction

@Suite struct ServerTransactionTests {
    let final486 = Array("SIP/2.0 486 Busy Here\r\n\r\n".utf8)
    let ok200 = Array("SIP/2.0 200 OK\r\n\r\n".utf8)

    @Test func nonInviteOverUDPAbsorbsRetransmissionsUntilTimerJ() {
        var tx = ServerTransaction(kind: .nonInvite, reliable: false)
        #expect(tx.handle(.requestRetransmission) == ServerTransaction.Actions(absorbed: true))
        let sent = tx.handle(.respond(status: 200, bytes: ok200))
        #expect(sent.send == ok200)
        #expect(sent.start == [.j: .seconds(32)])
        #expect(tx.state == .completed)
        #expect(tx.handle(.requestRetransmission).send == ok200)
        #expect(tx.handle(.respond(status: 500, bytes: final486)) == .none)
        #expect(tx.handle(.timerFired(.j)).terminated)
        #expect(tx.state == .terminated)
        #expect(tx.handle(.requestRetransmission) == .none)
    }

    @Test func nonInviteOverTCPEndsAtOnce() {
        var tx = ServerTransaction(kind: .nonInvite, reliable: true)
        let a = tx.handle(.respond(status: 401, bytes: final486))
        #expect(a.terminated && a.start.isEmpty && a.send == final486)
    }

    @Test func inviteErrorResponseRetransmitsWithBackoffUntilACK() {
        var tx = ServerTransaction(kind: .invite, reliable: false)
        #expect(tx.state == .proceeding)
        #expect(tx.handle(.respond(status: 100, bytes: [1])).send == [1])
        #expect(tx.handle(.requestRetransmission).send == [1])  // resend the 100
        let a = tx.handle(.respond(status: 407, bytes: final486))
        #expect(a.start == [.g: .milliseconds(500), .h: .seconds(32)])
        var intervals: [Duration] = []
        for _ in 0..<5 {
            let g = tx.handle(.timerFired(.g))
            #expect(g.send == final486)
            intervals.append(g.start[.g]!)
        }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        let ack = tx.handle(.ack)
        #expect(tx.state == .confirmed && ack.start == [.i: .seconds(5)])
        #expect(tx.handle(.timerFired(.g)) == .none)  // stale timer G after ACK
        #expect(tx.handle(.ack).absorbed)
        #expect(tx.handle(.timerFired(.i)).terminated)
    }

    @Test func inviteWithoutACKTimesOutWithTimerH() {
        var tx = ServerTransaction(kind: .invite, reliable: false)
        _ = tx.handle(.respond(status: 407, bytes: final486))
        #expect(tx.handle(.timerFired(.h)).terminated)
    }

    /// RFC 6026: after a 2xx the INVITE transaction absorbs retransmissions of the INVITE for
    /// Timer L (a retransmitted INVITE must not be authenticated again as a new request).
    @Test func invite2xxIsAcceptedAbsorbsRetransmissionsUntilTimerL() {
        var tx = ServerTransaction(kind: .invite, reliable: false)
        let a = tx.handle(.respond(status: 200, bytes: ok200))
        #expect(!a.terminated && a.send == ok200 && a.start[.l] == TransactionTimers.default.timeout)
        #expect(tx.state == .accepted)
        let retransmission = tx.handle(.requestRetransmission)
        #expect(retransmission.absorbed && retransmission.send == nil, "the TU retransmits the 2xx, not the transaction")
        #expect(tx.handle(.respond(status: 200, bytes: ok200)).send == ok200, "the TU's 2xx retransmission goes out")
        #expect(tx.handle(.respond(status: 486, bytes: final486)).send == nil, "no other final response after a 2xx")
        #expect(tx.handle(.timerFired(.l)).terminated)
        #expect(tx.state == .terminated)
    }
}

/// Timers that fire only when the test says so.
final class ManualScheduler: TransactionTimerScheduler {
    private let pending = Mutex<[(Duration, @Sendable () -> Void)]>([])

    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append((delay, body)) }
    }

    /// Fires every timer due within `elapsed` (timers scheduled while firing wait for the next call).
    func advance(by elapsed: Duration) {
        let due = pending.withLock { list -> [@Sendable () -> Void] in
            let fire = list.filter { $0.0 <= elapsed }.map(\.1)
            list = list.filter { $0.0 > elapsed }.map { ($0.0 - elapsed, $0.1) }
            return fire
        }
        for f in due { f() }
    }

    var count: Int { pending.withLock { $0.count } }
}

@Suite struct ServerTransactionTableTests {
    static func request(_ method: String, branch: String = "z9hG4bK-abc") throws -> SIPMessage {
        try SIPMessage.build(startLine: "\(method) sip:trunk.example.com SIP/2.0", headers: [
            ("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=\(branch)"), ("From", "<sip:a@example.com>;tag=1"),
            ("To", "<sip:trunk.example.com>"), ("Call-ID", "c1"), ("CSeq", "1 \(method == "ACK" ? "INVITE" : method)"),
        ])
    }

    @Test func absorbsAndRetransmitsThroughTheTable() throws {
        let scheduler = ManualScheduler()
        let table = ServerTransactionTable(scheduler: scheduler)
        let invite = try Self.request("INVITE")
        let key = try #require(ServerTransactionKey(invite))
        #expect(table.receive(invite, key: key, reliable: false) == .new)
        #expect(table.count == 1)
        #expect(table.receive(invite, key: key, reliable: false) == .retransmission(resend: nil))
        let sent = Mutex<[[UInt8]]>([])
        table.respond(key, status: 407, bytes: [4, 0, 7]) { bytes in sent.withLock { $0.append(bytes) } }
        #expect(sent.withLock { $0.count } == 1)
        #expect(table.receive(invite, key: key, reliable: false) == .retransmission(resend: [4, 0, 7]))
        scheduler.advance(by: .milliseconds(500))  // Timer G
        #expect(sent.withLock { $0.count } == 2)
        // The ACK matches the INVITE transaction (same branch) and stops retransmissions.
        let ack = try Self.request("ACK")
        #expect(ServerTransactionKey(ack) == key)
        #expect(table.receive(ack, key: key, reliable: false) == .ackAbsorbed)
        scheduler.advance(by: .seconds(5))  // Timer I (and a stale G)
        #expect(sent.withLock { $0.count } == 2)
        #expect(table.count == 0)
    }

    /// A stateless answer (a challenge) is sent once and keeps nothing: no retransmission by
    /// timer, a retransmitted request is new again, the ACK matches nothing, and the table's
    /// space is free at once.
    @Test func statelessAnswerKeepsNothing() throws {
        let scheduler = ManualScheduler()
        let table = ServerTransactionTable(capacity: 16, shardCount: 1, scheduler: scheduler)
        let invite = try Self.request("INVITE")
        let key = try #require(ServerTransactionKey(invite))
        #expect(table.receive(invite, key: key, reliable: false) == .new)
        var sent: [[UInt8]] = []
        table.respondStatelessly(key, bytes: [4, 0, 7]) { sent.append($0) }
        #expect(sent == [[4, 0, 7]])
        #expect(table.count == 0)
        scheduler.advance(by: .seconds(40))  // no Timer G, H or I was started
        #expect(sent.count == 1)
        #expect(table.receive(try Self.request("ACK"), key: key, reliable: false) == .strayACK)
        #expect(table.receive(invite, key: key, reliable: false) == .new, "a retransmission is answered afresh")
        #expect(table.count == 1)
        // Without a transaction (it timed out, or never existed) the answer still goes out.
        let other = try Self.request("OPTIONS", branch: "z9hG4bK-other")
        table.respondStatelessly(try #require(ServerTransactionKey(other)), bytes: [2, 0, 0]) { sent.append($0) }
        #expect(sent.last == [2, 0, 0] && table.count == 1)
    }

    /// A non-INVITE answered over UDP keeps only its response until Timer J, and the
    /// transactions that complete within one window share one expiry timer.
    @Test func completedNonInviteAnswersRetransmissionsUntilTimerJ() throws {
        let scheduler = ManualScheduler()
        let table = ServerTransactionTable(capacity: 1000, shardCount: 1, scheduler: scheduler)
        var keys: [ServerTransactionKey] = []
        let sent = Mutex<[[UInt8]]>([])
        for i in 0..<100 {
            let r = try Self.request("REGISTER", branch: "z9hG4bK-r\(i)")
            let key = try #require(ServerTransactionKey(r))
            #expect(table.receive(r, key: key, reliable: false) == .new)
            table.respond(key, status: 200, bytes: [2, 0, UInt8(i)]) { bytes in sent.withLock { $0.append(bytes) } }
            keys.append(key)
        }
        #expect(sent.withLock { $0.count } == 100 && sent.withLock { $0.last } == [2, 0, 99])
        #expect(table.count == 100)
        #expect(scheduler.count == 2, "one window: one timer closing it, one expiring it; not one per transaction")
        let again = try Self.request("REGISTER", branch: "z9hG4bK-r7")
        #expect(table.receive(again, key: keys[7], reliable: false) == .retransmission(resend: [2, 0, 7]))
        table.respond(keys[7], status: 500, bytes: [5]) { bytes in sent.withLock { $0.append(bytes) } }
        #expect(table.receive(again, key: keys[7], reliable: false) == .retransmission(resend: [2, 0, 7]), "the final answer stays the first one")

        // A transaction completing after the window closed goes into the next window.
        scheduler.advance(by: ServerTransactionTable.completionWindow)
        let late = try Self.request("OPTIONS", branch: "z9hG4bK-late")
        let lateKey = try #require(ServerTransactionKey(late))
        #expect(table.receive(late, key: lateKey, reliable: false) == .new)
        table.respond(lateKey, status: 200, bytes: [9]) { _ in }
        #expect(table.count == 101)

        // Timer J (32 s) after the first window: its 100 are gone, the late one is still there.
        scheduler.advance(by: .seconds(32))
        #expect(table.count == 1)
        #expect(table.receive(again, key: keys[7], reliable: false) == .new, "forgotten after Timer J: a new request")
        #expect(table.receive(late, key: lateKey, reliable: false) == .retransmission(resend: [9]))
        scheduler.advance(by: ServerTransactionTable.completionWindow + .milliseconds(1))
        #expect(table.count == 1, "only the new REGISTER, still unanswered")
        #expect(table.receive(late, key: lateKey, reliable: false) == .new)

        // Over TCP nothing lingers.
        let tcp = try Self.request("OPTIONS", branch: "z9hG4bK-tcp")
        let tcpKey = try #require(ServerTransactionKey(tcp))
        let before = table.count
        #expect(table.receive(tcp, key: tcpKey, reliable: true) == .new)
        table.respond(tcpKey, status: 200, bytes: [1]) { _ in }
        #expect(table.count == before)
    }

    @Test func boundedCapacity() throws {
        let table = ServerTransactionTable(capacity: 16, shardCount: 1, scheduler: ManualScheduler())
        for i in 0..<16 {
            let r = try Self.request("OPTIONS", branch: "z9hG4bK-\(i)")
            #expect(table.receive(r, key: ServerTransactionKey(r)!, reliable: false) == .new)
        }
        let extra = try Self.request("OPTIONS", branch: "z9hG4bK-extra")
        #expect(table.receive(extra, key: ServerTransactionKey(extra)!, reliable: false) == .overloaded)
    }

    /// RFC 3261 §17.2.3: branch, sent-by (host in any case, port) and method, ACK as INVITE.
    @Test func rfc3261Key() throws {
        func key(_ method: String, via: String, cseq: String? = nil) throws -> ServerTransactionKey {
            let m = try SIPMessage.build(startLine: "\(method) sip:u@h SIP/2.0", headers: [
                ("Via", via), ("From", "<sip:a@h>;tag=9"), ("To", "<sip:u@h>"), ("Call-ID", "x"), ("CSeq", cseq ?? "5 \(method)"),
            ])
            return try #require(ServerTransactionKey(m))
        }
        let invite = try key("INVITE", via: "SIP/2.0/UDP PBX.Example.COM:5070;branch=z9hG4bKab1")
        #expect(invite.value == "z9hG4bKab1|pbx.example.com:5070|INVITE")
        #expect(try key("ACK", via: "SIP/2.0/UDP pbx.example.com:5070;branch=z9hG4bKab1", cseq: "5 ACK") == invite)
        #expect(try key("INVITE", via: "SIP/2.0/UDP pbx.example.com:5070;branch=z9hG4bKab1") == invite)
        #expect(try key("CANCEL", via: "SIP/2.0/UDP pbx.example.com:5070;branch=z9hG4bKab1") != invite)
        #expect(try key("INVITE", via: "SIP/2.0/UDP pbx.example.com;branch=z9hG4bKab1") != invite)
        #expect(try key("INVITE", via: "SIP/2.0/UDP pbx.example.com:5070;branch=z9hG4bKab2") != invite)
        // Equal keys hash alike (the hash is computed once, from the value).
        let keys: Set = [invite, try key("INVITE", via: "SIP/2.0/UDP pbx.example.com:5070;branch=z9hG4bKab1"),
                         try key("ACK", via: "SIP/2.0/UDP PBX.example.com:5070;branch=z9hG4bKab1", cseq: "5 ACK")]
        #expect(keys.count == 1)
    }

    @Test func rfc2543FallbackKey() throws {
        let a = try SIPMessage.build(startLine: "INVITE sip:u@h SIP/2.0", headers: [
            ("Via", "SIP/2.0/UDP 192.0.2.1"), ("From", "<sip:a@h>;tag=9"), ("To", "<sip:u@h>"), ("Call-ID", "x"), ("CSeq", "5 INVITE"),
        ])
        let ack = try SIPMessage.build(startLine: "ACK sip:u@h SIP/2.0", headers: [
            ("Via", "SIP/2.0/UDP 192.0.2.1"), ("From", "<sip:a@h>;tag=9"), ("To", "<sip:u@h>;tag=ours"), ("Call-ID", "x"), ("CSeq", "5 ACK"),
        ])
        #expect(ServerTransactionKey(a) == ServerTransactionKey(ack))
        let other = try SIPMessage.build(startLine: "INVITE sip:u@h SIP/2.0", headers: [
            ("Via", "SIP/2.0/UDP 192.0.2.1"), ("From", "<sip:a@h>;tag=9"), ("To", "<sip:u@h>"), ("Call-ID", "x"), ("CSeq", "6 INVITE"),
        ])
        #expect(ServerTransactionKey(a) != ServerTransactionKey(other))
    }
}
