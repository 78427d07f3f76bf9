public import Foundation
public import Logging
public import NIOCore
public import SIPMessage
import SIPDigest
import NIOPosix
public import SIPTransaction
public import SIPTransport
public import TrunkgateModel
import Synchronization

/// Outbound calls (customer → PSTN carrier) through the signaling B2BUA (SPEC §3 "Calls").
///
/// Each call has two legs: A, the customer's INVITE, for which the edge is the UAS, and B, a
/// new dialog from the edge to the carrier (own Call-ID, tags, Via, CSeq). Provisional and final
/// responses are relayed from B to A with their SDP; the ACK for a 2xx is relayed end to end
/// (B is ACKed when A ACKs, with A's ACK body); BYE from either side ends both legs; CANCEL
/// from A cancels B and the carrier's 487 goes back to A; no final answer from the carrier within
/// Timer B ends the A leg with 408. Per-trunk `max_concurrent_calls` and `max_cps` are enforced
/// (503 + Retry-After).
///
/// Call state is in memory, on this node; the whole table sits behind one lock, held only to
/// update it (sends and timers run outside it). Requests toward the carrier leave from the UDP
/// listener of the carrier's address family (``SIPOutboundSockets``); requests toward the
/// customer go back over the flow its INVITE came in on (NAT-friendly, and the only way to reach
/// a TCP/TLS customer).
public final class CallManager: Sendable {
    public struct Configuration: Sendable {
        /// The carrier gateway (`--carrier`): its URI names the Request-URI host.
        public var carrier: SIPURI
        /// Where the carrier's requests go (resolved once at start-up).
        public var carrierAddress: SocketAddress
        /// How: UDP unless the carrier URI says `;transport=tcp|tls` (or is `sips:`).
        public var carrierTransport: SIPTransportProtocol = .udp
        /// The carrier's TLS certificate name (its URI host when that is a name).
        public var carrierServerName: String?
        var carrierHop: Hop { Hop(address: carrierAddress, transport: carrierTransport, serverName: carrierServerName) }
        /// The host part of the From URI on the B leg.
        public var fromDomain: String
        public var timers: TransactionTimers
        /// Live calls on this node, all trunks together; beyond it, 503.
        public var capacity: Int
        /// Inbound calls: how long a destination may stay silent (not even 100 Trying) before
        /// the call fails over to the next one.
        public var failoverTimeout: Duration = .seconds(3)
        /// Opens destinations' sealed outbound passwords (the server key); without it, a
        /// destination that challenges is a failed attempt.
        public var sealer: SecretSealer?
        /// Finds destinations' addresses and transports (RFC 3263).
        public var locator = SIPLocator(nameservers: SIPLocator.systemNameservers())

        public init(carrier: SIPURI, carrierAddress: SocketAddress, fromDomain: String,
                    timers: TransactionTimers = .default, capacity: Int = 50_000) {
            self.carrier = carrier
            self.carrierAddress = carrierAddress
            self.fromDomain = fromDomain
            self.timers = timers
            self.capacity = capacity
        }
    }

    /// Where a B leg's requests go: an address, over a transport; for TLS, the host name the
    /// far end's certificate must carry (nil: its IP address).
    public struct Hop: Sendable, Hashable {
        public var address: SocketAddress
        public var transport: SIPTransportProtocol
        public var serverName: String?

        public init(address: SocketAddress, transport: SIPTransportProtocol = .udp, serverName: String? = nil) {
            self.address = address
            self.transport = transport
            self.serverName = serverName
        }
    }

    enum Purpose: Sendable { case invite, cancel, bye, relay }

    /// A mid-call request (re-INVITE, UPDATE, INFO …) relayed to the other leg: where its
    /// answer goes back to.
    struct MidCallRelay: Sendable {
        var original: SIPMessage
        var serverKey: ServerTransactionKey
        var serverContext: SIPRequestContext
        /// The side the request came from (the answer goes there; its ACK comes from there).
        var from: Side
        var cseq: UInt32
    }

    enum Side: Sendable { case a, b }
    enum Phase: Sendable, Comparable { case calling, early, answered, confirmed }

    /// Where a leg's requests go: to an address over the UDP listener (B), or back over the
    /// customer's or carrier's own flow (A).
    enum Route: Sendable {
        case b(Hop)
        case a(SIPRequestContext)
    }

    /// A client transaction the edge runs on one of the legs.
    struct Pending: Sendable {
        var call: UInt64
        var route: Route
        var purpose: Purpose
        var tx: ClientTransaction
        /// The INVITE itself (its ACK for a non-2xx is built from it).
        var invite: SIPMessage? = nil
        var relay: MidCallRelay? = nil
    }

    struct Call: Sendable {
        let id: UInt64
        let trunkSid: String
        let accountSid: String
        let caller: CallerAuthentication
        /// The credential the call was authenticated with (revoking it ends the call).
        let credentialSid: String?
        var phase: Phase = .calling
        let startedAt: Date
        var answeredAt: Date?
        // A leg: the customer's dialog, where the edge is the UAS.
        let aInvite: SIPMessage
        let aKey: ServerTransactionKey
        let aContext: SIPRequestContext
        let aTag: String
        let aCallID: String
        let aFromTag: String
        var aNextCSeq: UInt32 = 1
        /// Our 2xx to the INVITE, retransmitted over UDP until A's ACK (RFC 3261 §13.3.1.4).
        var a2xx: [UInt8]?
        var a2xxInterval: Duration
        var a2xxWaited: Duration = .zero
        // B leg: the edge's dialog with the carrier, where the edge is the UAC.
        var bLeg: CallLegIdentity
        var bInvite: SIPMessage
        var bAddress: Hop
        let direction: CallRecord.Direction
        /// Inbound calls: the targets not tried yet, in order.
        var targets: [InboundTarget] = []
        /// Inbound calls: which attempt is current, and whether its far end has answered anything.
        var attempt = 0
        var attemptResponded = false
        var currentTarget: InboundTarget?
        /// The attempt that answered a destination's challenge, if one did.
        var authAttempt: Int?
        var lastFailure: (status: Int, reason: String)?
        var bRemoteTag: String?
        var bRemoteTarget: String?
        var bRouteSet: [String] = []
        /// Where requests inside the B dialog go (RFC 3261 §12.2.1.1): the first route, else the
        /// remote target; nil until the far end has answered (then the initial hop).
        var bDialogHop: Hop?
        /// The B dialog's next hop, or the INVITE's when there is no dialog yet.
        var bInDialog: Hop { bDialogHop ?? bAddress }
        var bNextCSeq: UInt32 = 2
        var bACK: [UInt8]?
        var cancelled = false
        /// A relayed re-INVITE answered 2xx: the ACK its sender will send goes to the other side
        /// with this CSeq.
        var reinviteACK: (toward: Side, cseq: UInt32, body: Bool)?
    }

    struct State {
        var calls: [UInt64: Call] = [:]
        var byACallID: [String: UInt64] = [:]
        var byBCallID: [String: UInt64] = [:]
        /// Client transactions by `branch|method` (a CANCEL shares its INVITE's branch).
        var pending: [String: Pending] = [:]
        var nextID: UInt64 = 1
        var perTrunk: [String: Int] = [:]
        /// Calls started per trunk in the current second, for `max_cps`.
        var cps: [String: (second: Int64, count: Int)] = [:]
    }

    /// What to do once the lock is released.
    enum Effect: Sendable {
        /// A message to the B side; a transport error fails the client transaction `txKey`.
        case toB(Hop, [UInt8], txKey: String? = nil)
        case toCustomer(SIPRequestContext, [UInt8])
        case respond(ServerTransactionKey, SIPRequestContext, status: Int, SIPMessage)
        case txTimer(key: String, ClientTransactionTimer, Duration)
        case a2xxTimer(call: UInt64, Duration)
        case failoverTimer(call: UInt64, attempt: Int, Duration)
        /// A call's end and its CDR (nil when it had already ended).
        case ended(CallRecord?)
    }

    public let configuration: Configuration
    private let sockets: SIPOutboundSockets
    private let transactions: ServerTransactionTable
    private let scheduler: any TransactionTimerScheduler
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let state = Mutex(State())
    private let serverHeader: String
    /// Answers destinations' digest challenges (keeps nonce counts per nonce).
    private let digest = DigestClient()
    /// CDRs of ended calls, drained into the store by ``EdgeBackgroundService``.
    public let records = BatchQueue<CallRecord>(capacity: 100_000)

    public init(
        configuration: Configuration, sockets: SIPOutboundSockets, transactions: ServerTransactionTable,
        scheduler: any TransactionTimerScheduler, serverHeader: String = "trunkgate", logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.sockets = sockets
        self.transactions = transactions
        self.scheduler = scheduler
        self.serverHeader = serverHeader
        self.logger = logger
        self.now = now
    }

    /// Live calls on this node.
    public var activeCalls: Int { state.withLock { $0.calls.count } }

    // MARK: New calls

    /// An authenticated, out-of-dialog INVITE to a trunk domain: start the B leg to the carrier.
    public func startOutbound(_ invite: SIPMessage, key: ServerTransactionKey, context: SIPRequestContext,
                              trunk: Trunk, caller: CallerAuthentication, credentialSid: String? = nil) {
        let time = now()
        let carrier = configuration.carrierHop
        guard sockets.canSend(to: carrier.address, transport: carrier.transport),
              let sentBy = sockets.localAddress(toward: carrier.address, transport: carrier.transport).flatMap(Self.hostPort) else {
            respond(invite, key: key, context: context, status: 503, reason: "No Route to Carrier", headers: [SIPHeader(.retryAfter, "30")])
            return
        }
        let leg = CallLegIdentity.fresh(sentBy: sentBy, transport: carrier.transport.viaToken)
        let bInvite: SIPMessage
        do {
            bInvite = try CallLegRewriter.forwardInvite(invite, to: configuration.carrier, calledUser: nil, leg: leg,
                                                         caller: caller, fromDomain: configuration.fromDomain)
        } catch {
            respond(invite, key: key, context: context, status: error.status, reason: error.reason)
            return
        }
        let aCallID = String(invite.callID ?? "")
        if let (status, reason) = admit(trunk: trunk, aCallID: aCallID, time: time) {
            respond(invite, key: key, context: context, status: status, reason: reason,
                    headers: status == 503 ? [SIPHeader(.retryAfter, reason.hasPrefix("Call Rate") ? "1" : "5")] : [])
            return
        }
        respond(invite, key: key, context: context, status: 100, reason: "Trying")

        let effects = state.withLock { state -> [Effect] in
            let id = state.nextID
            state.nextID += 1
            state.calls[id] = Call(
                id: id, trunkSid: trunk.sid, accountSid: trunk.accountSid, caller: caller, credentialSid: credentialSid, startedAt: time, aInvite: invite, aKey: key, aContext: context,
                aTag: SIPMessage.randomTag(), aCallID: aCallID, aFromTag: String(invite.from?.tag ?? ""),
                a2xxInterval: configuration.timers.t1, bLeg: leg, bInvite: bInvite, bAddress: carrier,
                direction: .outbound)
            state.byACallID[aCallID] = id
            state.byBCallID[leg.callID] = id
            return startTransaction(.invite, request: bInvite, branch: leg.branch, call: id, route: .b(carrier), state: &state)
        }
        perform(effects)
    }

    /// The per-node and per-trunk limits; nil when the call may start.
    private func admit(trunk: Trunk, aCallID: String, time: Date) -> (Int, String)? {
        let second = Int64(time.timeIntervalSince1970.rounded(.down))
        return state.withLock { state -> (Int, String)? in
            if state.calls.count >= configuration.capacity { return (503, "Call Capacity Reached") }
            if let max = trunk.maxConcurrentCalls, state.perTrunk[trunk.sid, default: 0] >= max {
                return (503, "Concurrent Call Limit Reached")
            }
            if let max = trunk.maxCPS {
                var window = state.cps[trunk.sid] ?? (second, 0)
                if window.second != second { window = (second, 0) }
                if window.count >= max { return (503, "Call Rate Limit Reached") }
                window.count += 1
                state.cps[trunk.sid] = window
            }
            if state.byACallID[aCallID] != nil { return (482, "Loop Detected") }
            // Reserved now, in the same critical section as the check, so that concurrent
            // INVITEs cannot both take the last slot; the call's end releases it.
            state.perTrunk[trunk.sid, default: 0] += 1
            return nil
        }
    }

    // MARK: Inbound calls

    /// Whether a request comes from the carrier, which is trusted by its IP address.
    public func isFromCarrier(_ context: SIPRequestContext) -> Bool {
        context.sourceIP == configuration.carrierAddress.ipAddress
    }

    /// An out-of-dialog INVITE from the carrier: the called number (Request-URI user) picks the
    /// trunk by its DIDs; the call goes to the trunk's destination URIs (priority, then weight)
    /// with failover on silence, 408 and 5xx — or, without destinations, to its registered
    /// contacts (at the address each registered from).
    public func startInbound(_ invite: SIPMessage, key: ServerTransactionKey, context: SIPRequestContext,
                             configuration edge: EdgeConfiguration, bindings: @escaping @Sendable (String) -> [RegistrationBinding]) {
        let time = now()
        let dialed = invite.requestURI?.unescapedUser ?? ""
        let number = dialed.hasPrefix("+") ? dialed : "+" + dialed
        guard let trunk = edge.trunk(forNumber: number) ?? edge.trunk(forNumber: dialed) else {
            respond(invite, key: key, context: context, status: 404, reason: "Number Not Found")
            return
        }
        guard (invite.maxForwards ?? 70) > 0 else {
            respond(invite, key: key, context: context, status: 483, reason: "Too Many Hops")
            return
        }
        let aCallID = String(invite.callID ?? "")
        if let (status, reason) = admit(trunk: trunk.trunk, aCallID: aCallID, time: time) {
            respond(invite, key: key, context: context, status: status, reason: reason,
                    headers: status == 503 ? [SIPHeader(.retryAfter, reason.hasPrefix("Call Rate") ? "1" : "5")] : [])
            return
        }
        respond(invite, key: key, context: context, status: 100, reason: "Trying")
        let destinations = InboundTarget.order(trunk.destinations)
        let caller = CallerAuthentication(authType: "ip_acl", user: nil, sourceIP: context.sourceIP ?? "")
        let trunkValue = trunk.trunk
        // Name resolution (RFC 3263) blocks, for seconds when a DNS server is slow: on NIO's
        // thread pool, off the event loops and off the Swift concurrency pool.
        NIOThreadPool.singleton.submit { [self] _ in
            var targets = destinations.flatMap { InboundTarget.resolve($0, calledNumber: number, locator: self.configuration.locator) }
            if destinations.isEmpty {
                for b in bindings(trunkValue.sid) {
                    // At the address it registered from, over the same transport: a TCP/TLS client
                    // is reached over its own connection (the transport reuses it).
                    guard let uri = try? SIPURI(parsing: b.contact), let address = try? SocketAddress(ipAddress: b.sourceIP, port: b.sourcePort),
                          let transport = SIPTransportProtocol(rawValue: b.transport.lowercased()) else { continue }
                    targets.append(InboundTarget(uri: uri, user: uri.user.map(String.init), hop: Hop(address: address, transport: transport),
                                                 label: b.contact))
                }
            }
            self.beginInbound(invite, key: key, context: context, trunk: trunkValue, caller: caller, targets: targets, time: time)
        }
    }

    private func beginInbound(_ invite: SIPMessage, key: ServerTransactionKey, context: SIPRequestContext, trunk: Trunk,
                              caller: CallerAuthentication, targets: [InboundTarget], time: Date) {
        let aCallID = String(invite.callID ?? "")
        let effects = state.withLock { state -> [Effect] in
            let id = state.nextID
            state.nextID += 1
            // The B leg fields are filled in by the first attempt.
            let placeholder = CallLegIdentity(callID: "", localTag: "", branch: "", sentBy: "", transport: "UDP")
            state.calls[id] = Call(
                id: id, trunkSid: trunk.sid, accountSid: trunk.accountSid, caller: caller, credentialSid: nil, startedAt: time,
                aInvite: invite, aKey: key, aContext: context, aTag: SIPMessage.randomTag(), aCallID: aCallID,
                aFromTag: String(invite.from?.tag ?? ""), a2xxInterval: configuration.timers.t1, bLeg: placeholder, bInvite: invite,
                bAddress: configuration.carrierHop, direction: .inbound, targets: targets)
            state.byACallID[aCallID] = id
            return tryNextTarget(id, state: &state)
        }
        perform(effects)
    }

    /// Starts the next attempt of an inbound call, or ends it when no target is left.
    private func tryNextTarget(_ id: UInt64, state: inout State) -> [Effect] {
        guard var call = state.calls[id] else { return [] }
        while !call.targets.isEmpty {
            let target = call.targets.removeFirst()
            guard sockets.canSend(to: target.hop.address, transport: target.hop.transport),
                  let sentBy = sockets.localAddress(toward: target.hop.address, transport: target.hop.transport).flatMap(Self.hostPort) else {
                logger.info("inbound call: no listener for the destination's transport", metadata: ["target": "\(target.label)"])
                continue
            }
            let leg = CallLegIdentity.fresh(sentBy: sentBy, transport: target.hop.transport.viaToken)
            guard let bInvite = try? CallLegRewriter.forwardInvite(call.aInvite, to: target.uri, calledUser: target.user, leg: leg,
                                                                   caller: call.caller, fromDomain: configuration.fromDomain) else { continue }
            if !call.bLeg.callID.isEmpty { state.byBCallID.removeValue(forKey: call.bLeg.callID) }
            state.byBCallID[leg.callID] = id
            call.bLeg = leg
            call.bInvite = bInvite
            call.bAddress = target.hop
            call.attempt += 1
            call.attemptResponded = false
            call.currentTarget = target
            call.authAttempt = nil
            state.calls[id] = call
            logger.debug("inbound call attempt", metadata: ["target": "\(target.label)", "attempt": "\(call.attempt)"])
            return startTransaction(.invite, request: bInvite, branch: leg.branch, call: id, route: .b(target.hop), state: &state)
                + [.failoverTimer(call: id, attempt: call.attempt, configuration.failoverTimeout)]
        }
        var (status, reason) = call.lastFailure ?? (480, "Temporarily Unavailable")
        if status == 401 || status == 407 { (status, reason) = (403, "Destination Requires Authentication") }  // not the caller's to answer
        return [.respond(call.aKey, call.aContext, status: status, makeResponse(call.aInvite, status, reason, toTag: call.aTag)),
                .ended(end(id, state: &state, cause: call.attempt == 0 ? "no_route" : "destinations_failed", status: status))]
    }

    /// Retries the INVITE once with the destination's credentials: same dialog, new branch,
    /// CSeq + 1, `Authorization`/`Proxy-Authorization` for the strongest algorithm offered.
    private func authenticatedRetry(_ call: Call, challenge: SIPMessage, status: Int, state: inout State) -> [Effect]? {
        guard let target = call.currentTarget, let user = target.authUsername, let sealed = target.authPasswordSealed,
              let password = try? configuration.sealer?.open(sealed), let uri = call.bInvite.requestURI,
              let cseq = call.bInvite.cseq else { return nil }
        let name = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
        let offers = challenge.headers(named: name).compactMap { try? SIPAuthHeader(parsing: $0, headerName: name) }
        guard let answer = try? digest.authorization(answering: offers, username: user, password: password, method: "INVITE",
                                                     uri: String(uri.raw), body: Array(call.bInvite.body)) else { return nil }
        var call = call
        let branch = CallLegIdentity.freshBranch()
        var retry = call.bInvite
        do {
            try retry.set(.via, "SIP/2.0/\(call.bLeg.transport) \(call.bLeg.sentBy);branch=\(branch);rport")
            try retry.set(.cseq, "\(cseq.number + 1) INVITE")
            try retry.append(SIPHeader(status == 401 ? .authorization : .proxyAuthorization, answer.serialized))
        } catch {
            return nil
        }
        call.bLeg.branch = branch
        call.bLeg.cseq = cseq.number + 1
        call.bNextCSeq = cseq.number + 2
        call.bInvite = retry
        call.attempt += 1
        call.attemptResponded = false
        call.authAttempt = call.attempt
        state.calls[call.id] = call
        return startTransaction(.invite, request: retry, branch: branch, call: call.id, route: .b(call.bAddress), state: &state)
            + [.failoverTimer(call: call.id, attempt: call.attempt, configuration.failoverTimeout)]
    }

    private func fireFailover(call id: UInt64, attempt: Int) {
        let effects = state.withLock { state -> [Effect] in
            guard var call = state.calls[id], call.attempt == attempt, !call.attemptResponded, call.phase < .answered, !call.cancelled else { return [] }
            if call.authAttempt == attempt {
                // No answer to our authenticated retry (SPEC: sip_auth_timeout 4250).
                state.pending.removeValue(forKey: "\(call.bLeg.branch)|INVITE")
                return [.respond(call.aKey, call.aContext, status: 408, makeResponse(call.aInvite, 408, "Destination Did Not Answer Authentication", toTag: call.aTag)),
                        .ended(end(id, state: &state, cause: "sip_auth_timeout", status: 4250))]
            }
            // A silent destination: stop retransmitting to it and move on.
            state.pending.removeValue(forKey: "\(call.bLeg.branch)|INVITE")
            call.lastFailure = (408, "Request Timeout")
            state.calls[id] = call
            return tryNextTarget(id, state: &state)
        }
        perform(effects)
    }

    // MARK: Responses

    /// A response that arrived on a listener: true when it belonged to one of our transactions.
    @discardableResult
    public func handleResponse(_ response: SIPMessage) -> Bool {
        guard let branch = response.topVia?.branch, let cseq = response.cseq, let status = response.statusCode else { return false }
        let txKey = "\(branch)|\(cseq.method)"
        let effects = state.withLock { state -> [Effect]? in
            guard var pending = state.pending[txKey] else { return nil }
            var ack: [UInt8]?
            if status >= 300, let invite = pending.invite {
                ack = invite.makeACK(for: response)?.serialized()
            }
            let actions = pending.tx.handle(.response(status: status, ack: ack))
            state.pending[txKey] = pending
            var effects = Self.effects(of: actions, key: txKey, route: pending.route)
            if actions.terminated { state.pending.removeValue(forKey: txKey) }
            if actions.passToUser, pending.purpose == .relay, let relay = pending.relay {
                effects += self.midCallResponse(response, status: status, relay: relay, call: pending.call, state: &state)
            } else if actions.passToUser, pending.purpose == .invite {
                effects += self.inviteResponse(response, status: status, call: pending.call, state: &state)
            } else if pending.purpose == .invite, (200..<300).contains(status), let call = state.calls[pending.call], let bACK = call.bACK {
                effects.append(.toB(call.bInDialog, bACK))  // a retransmitted 2xx after our ACK: ACK again
            }
            return effects
        }
        guard let effects else { return false }
        perform(effects)
        return true
    }

    /// The B leg's INVITE got a response the TU must act on.
    private func inviteResponse(_ response: SIPMessage, status: Int, call id: UInt64, state: inout State) -> [Effect] {
        guard var call = state.calls[id] else { return [] }
        call.attemptResponded = true
        state.calls[id] = call
        switch status {
        case ..<101:
            return []
        case ..<200:
            guard call.phase < .answered else { return [] }
            call.phase = .early
            if let tag = response.to?.tag {
                // An early dialog (RFC 3261 §12.1.2): PRACK and UPDATE (RFC 3262, 3311) go in it.
                // With forking, the latest early dialog is the one requests go to.
                call.bRemoteTag = String(tag)
                if let target = response.contacts.first?.address { call.bRemoteTarget = String(target.uri.raw) }
                call.bRouteSet = response.recordRoutes.reversed().map { String($0.raw) }
                call.bDialogHop = Self.dialogHop(routeSet: call.bRouteSet, remoteTarget: call.bRemoteTarget, initial: call.bAddress)
            }
            state.calls[id] = call
            return [.respond(call.aKey, call.aContext, status: status, relay(response, call))]
        case ..<300:
            if call.phase >= .answered {
                // A 2xx retransmission: once A has ACKed, B gets the same ACK again.
                return call.bACK.map { [.toB(call.bInDialog, $0)] } ?? []
            }
            call.phase = .answered
            call.answeredAt = now()
            call.bRemoteTag = response.to?.tag.map(String.init)
            call.bRemoteTarget = response.contacts.first?.address.map { String($0.uri.raw) }
            call.bRouteSet = response.recordRoutes.reversed().map { String($0.raw) }
            call.bDialogHop = Self.dialogHop(routeSet: call.bRouteSet, remoteTarget: call.bRemoteTarget, initial: call.bAddress)
            let relayed = relay(response, call)
            let reliable = call.aContext.transport.isStream
            call.a2xx = reliable ? nil : relayed.serialized()
            state.calls[id] = call
            var effects: [Effect] = [.respond(call.aKey, call.aContext, status: status, relayed)]
            if !reliable { effects.append(.a2xxTimer(call: id, call.a2xxInterval)) }
            return effects
        default:
            guard call.phase < .answered else { return [] }
            if call.direction == .inbound, !call.cancelled, status == 401 || status == 407 {
                if call.authAttempt != nil {
                    // The destination rejected our credentials (SPEC: sip_auth_failed 4240).
                    return [.respond(call.aKey, call.aContext, status: 403, makeResponse(call.aInvite, 403, "Destination Rejected Credentials", toTag: call.aTag)),
                            .ended(end(id, state: &state, cause: "sip_auth_failed", status: 4240))]
                }
                if let retry = authenticatedRetry(call, challenge: response, status: status, state: &state) { return retry }
                // No credentials for it: a failed attempt like any other.
            }
            if call.direction == .inbound, !call.cancelled, status == 408 || status == 401 || status == 407 || status >= 500 {
                // Fail over to the next destination (SPEC: timeout, 5xx, 503).
                call.lastFailure = (status, response.statusLine.map { String($0.reason) } ?? "")
                state.calls[id] = call
                return tryNextTarget(id, state: &state)
            }
            var effects: [Effect] = [.respond(call.aKey, call.aContext, status: status, relay(response, call))]
            effects.append(.ended(end(id, state: &state, cause: call.cancelled ? "originator_cancel" : Self.cause(forFinal: status), status: status)))
            return effects
        }
    }

    private func relay(_ response: SIPMessage, _ call: Call) -> SIPMessage {
        var out = CallLegRewriter.relayResponse(response, toRequest: call.aInvite, aLegTag: call.aTag, contact: aContact(call))
        try? out.append(SIPHeader(.server, serverHeader))
        return out
    }

    // MARK: Requests inside a call

    /// An ACK that matched no server transaction: the ACK for a 2xx, relayed end to end.
    @discardableResult
    public func handleACK(_ ack: SIPMessage) -> Bool {
        guard let callID = ack.callID.map(String.init) else { return false }
        let effects = state.withLock { state -> [Effect]? in
            let fromB = state.byACallID[callID] == nil
            guard let id = state.byACallID[callID] ?? state.byBCallID[callID], var call = state.calls[id] else { return nil }
            if call.phase == .confirmed, let pending = call.reinviteACK, pending.toward == (fromB ? .a : .b) {
                // The ACK for a relayed re-INVITE's 2xx: on to the side that answered it.
                call.reinviteACK = nil
                state.calls[id] = call
                guard let forwarded = midCallACK(ack, call: call, toward: pending.toward, cseq: pending.cseq) else { return [] }
                return [pending.toward == .b ? .toB(call.bInDialog, forwarded) : .toCustomer(call.aContext, forwarded)]
            }
            guard !fromB, call.phase == .answered else { return [] }  // a retransmitted ACK: absorbed
            // Only the ACK for our 2xx confirms the call: its To tag is ours and its CSeq the
            // INVITE's. The ACK for a stateless 407 on the same Call-ID (a challenge the caller
            // answered with this INVITE) carries the 407's tag and the earlier CSeq.
            guard ack.to?.tag.map(String.init) == call.aTag, ack.cseq?.number == call.aInvite.cseq?.number else { return [] }
            call.phase = .confirmed
            call.a2xx = nil
            guard let bACK = midCallACK(ack, call: call, toward: .b, cseq: call.bInvite.cseq?.number ?? 1) else { return [] }
            call.bACK = bACK
            state.calls[id] = call
            return [.toB(call.bInDialog, bACK)]
        }
        guard let effects else { return false }
        perform(effects)
        return true
    }

    /// A request with a To tag, or a CANCEL, that may belong to a call: BYE from either side,
    /// CANCEL from the customer. True when handled (answered) here.
    public func handleInDialog(_ request: SIPMessage, key: ServerTransactionKey, context: SIPRequestContext) -> Bool {
        guard let method = request.method, let callID = request.callID.map(String.init) else { return false }
        let effects = state.withLock { state -> [Effect]? in
            if let id = state.byACallID[callID], let call = state.calls[id], request.from?.tag.map(String.init) == call.aFromTag {
                return customerRequest(request, method: method, key: key, context: context, call: call, state: &state)
            }
            // The B leg's Call-ID is ours and random; its requests must also come from the address
            // the leg was set up with.
            if let id = state.byBCallID[callID], let call = state.calls[id], method != "CANCEL",
               context.sourceIP == call.bAddress.address.ipAddress || context.sourceIP == call.bDialogHop?.address.ipAddress {
                return carrierRequest(request, method: method, key: key, context: context, call: call, state: &state)
            }
            return nil
        }
        guard let effects else { return false }
        perform(effects)
        return true
    }

    private func customerRequest(_ request: SIPMessage, method: Substring, key: ServerTransactionKey, context: SIPRequestContext,
                                 call: Call, state: inout State) -> [Effect] {
        switch method {
        case "CANCEL":
            // The same To tag as the INVITE's final response will carry (RFC 3261 §9.2).
            let ok: Effect = .respond(key, context, status: 200, makeResponse(request, 200, toTag: call.aTag))
            guard call.phase < .answered else { return [ok] }
            return [ok] + cancelBLeg(call, state: &state)
        case "BYE":
            guard call.phase >= .answered else {
                return [.respond(key, context, status: 481, makeResponse(request, 481))]
            }
            var effects: [Effect] = [.respond(key, context, status: 200, makeResponse(request, 200))]
            effects += byeToCarrier(call, state: &state)
            effects.append(.ended(end(call.id, state: &state, cause: "caller_bye", status: nil)))
            return effects
        default:
            guard call.phase == .confirmed || Self.allowedInEarlyDialog(method, call) else {
                return [.respond(key, context, status: 491, makeResponse(request, 491, "Request Pending"))]
            }
            return relayMidCall(request, method: method, from: .a, key: key, context: context, call: call, state: &state)
        }
    }

    /// PRACK and UPDATE may cross while the call rings (RFC 3262, RFC 3311), once the far end
    /// has set up an early dialog (a provisional response with a To tag).
    static func allowedInEarlyDialog(_ method: Substring, _ call: Call) -> Bool {
        (method == "PRACK" || method == "UPDATE") && call.phase == .early && call.bRemoteTag != nil && !call.cancelled
    }

    private func carrierRequest(_ request: SIPMessage, method: Substring, key: ServerTransactionKey, context: SIPRequestContext,
                                call: Call, state: inout State) -> [Effect] {
        switch method {
        case "BYE" where call.phase >= .answered:
            var effects: [Effect] = [.respond(key, context, status: 200, makeResponse(request, 200))]
            effects += byeToCustomer(call, state: &state)
            effects.append(.ended(end(call.id, state: &state, cause: "callee_bye", status: nil)))
            return effects
        case "BYE":
            return [.respond(key, context, status: 481, makeResponse(request, 481))]
        default:
            guard call.phase == .confirmed || Self.allowedInEarlyDialog(method, call) else {
                return [.respond(key, context, status: 491, makeResponse(request, 491, "Request Pending"))]
            }
            return relayMidCall(request, method: method, from: .b, key: key, context: context, call: call, state: &state)
        }
    }

    // MARK: Mid-call requests

    /// Relays a mid-call request (re-INVITE, UPDATE, INFO, OPTIONS …) to the other leg as a new
    /// transaction in that leg's dialog; its answer comes back through ``midCallResponse``.
    private func relayMidCall(_ request: SIPMessage, method: Substring, from side: Side, key: ServerTransactionKey,
                              context: SIPRequestContext, call: Call, state: inout State) -> [Effect] {
        var call = call
        let branch = CallLegIdentity.freshBranch()
        var headers: [(String, String)]
        let target: String
        let cseq: UInt32
        let route: Route
        switch side {
        case .a:
            cseq = call.bNextCSeq
            call.bNextCSeq += 1
            headers = bDialogHeaders(call, method: String(method), cseq: cseq, branch: branch)
            headers.append(("Contact", bContact(call)))
            target = call.bRemoteTarget ?? String(call.bInvite.requestURI?.raw ?? "")
            route = .b(call.bInDialog)
        case .b:
            cseq = call.aNextCSeq
            call.aNextCSeq += 1
            headers = aDialogHeaders(call, method: String(method), cseq: cseq, branch: branch)
            headers.append(("Contact", aContact(call)))
            target = aRemoteTarget(call)
            route = .a(call.aContext)
        }
        // RAck names the INVITE's CSeq, which differs per leg (RFC 3262 §7.2); RSeq values are
        // relayed unchanged, so only that number is rewritten.
        let targetInviteCSeq = (side == .a ? call.bInvite.cseq?.number : call.aInvite.cseq?.number) ?? 1
        for h in request.headers where !CallLegRewriter.isLegLocal(h) {
            if method == "PRACK", h.name.name.lowercased() == "rack" {
                let parts = h.value.split(separator: " ", omittingEmptySubsequences: true)
                guard parts.count == 3 else { return [.respond(key, context, status: 400, makeResponse(request, 400, "Bad RAck"))] }
                headers.append(("RAck", "\(parts[0]) \(targetInviteCSeq) \(parts[2])"))
                continue
            }
            headers.append((h.name.name, String(h.value)))
        }
        guard let relayed = try? SIPMessage.build(startLine: "\(method) \(target) SIP/2.0", headers: headers, body: Array(request.body)) else {
            return [.respond(key, context, status: 500, makeResponse(request, 500))]
        }
        state.calls[call.id] = call
        let relay = MidCallRelay(original: request, serverKey: key, serverContext: context, from: side, cseq: cseq)
        return startTransaction(.relay, request: relayed, branch: branch, call: call.id, route: route, relay: relay, state: &state)
    }

    /// The other leg answered a relayed mid-call request: the answer goes back to its sender.
    private func midCallResponse(_ response: SIPMessage, status: Int, relay: MidCallRelay, call id: UInt64, state: inout State) -> [Effect] {
        guard status > 100, var call = state.calls[id] else { return [] }
        var out = relay.original.makeResponse(status: status, reason: response.statusLine.map { String($0.reason) })
        if status < 300 {
            try? out.append(SIPHeader(.contact, relay.from == .a ? aContact(call) : bContact(call)))
        }
        for h in response.headers where !CallLegRewriter.isLegLocal(h) && !CallLegRewriter.isHopByHopResponseHeader(h) { try? out.append(h) }
        try? out.append(SIPHeader(.server, serverHeader))
        out.body = response.body
        if relay.original.method == "INVITE", (200..<300).contains(status) {
            // Its sender will ACK the 2xx; that ACK goes to the side that answered.
            call.reinviteACK = (toward: relay.from == .a ? .b : .a, cseq: relay.cseq, body: false)
            state.calls[id] = call
        }
        return [.respond(relay.serverKey, relay.serverContext, status: status, out)]
    }

    /// The ACK for a 2xx, rebuilt in the dialog of the leg it goes to (its sender's body kept).
    private func midCallACK(_ ack: SIPMessage, call: Call, toward: Side, cseq: UInt32) -> [UInt8]? {
        let branch = CallLegIdentity.freshBranch()
        var headers: [(String, String)]
        let target: String
        switch toward {
        case .b:
            headers = bDialogHeaders(call, method: "ACK", cseq: cseq, branch: branch)
            target = call.bRemoteTarget ?? String(call.bInvite.requestURI?.raw ?? "")
        case .a:
            headers = aDialogHeaders(call, method: "ACK", cseq: cseq, branch: branch)
            target = aRemoteTarget(call)
        }
        if let type = ack.contentType { headers.append(("Content-Type", String(type))) }
        return (try? SIPMessage.build(startLine: "ACK \(target) SIP/2.0", headers: headers, body: Array(ack.body)))?.serialized()
    }

    // MARK: Revocation

    /// Ends every call whose credential (or trunk) is gone from `configuration`: BYE to both
    /// legs of answered calls, CANCEL toward the carrier and 403 to the customer for ringing ones.
    /// Called by the background service after each configuration change it applies.
    public func endRevokedCalls(in configuration: EdgeConfiguration) {
        let effects = state.withLock { state -> [Effect] in
            var effects: [Effect] = []
            for call in state.calls.values {
                let trunk = configuration.trunksBySid[call.trunkSid]
                let revoked: Bool
                if let credentialSid = call.credentialSid {
                    // By the call's user name: one lookup, not a walk of the trunk's credentials.
                    revoked = trunk.map { t in call.caller.user.flatMap { t.credentials[$0]?.sid } != credentialSid } ?? true
                } else {
                    revoked = trunk == nil
                }
                guard revoked else { continue }
                effects += revoke(call, state: &state)
            }
            return effects
        }
        if !effects.isEmpty { logger.info("calls ended by credential revocation", metadata: ["calls": "\(effects.filter { if case .ended = $0 { true } else { false } }.count)"]) }
        perform(effects)
    }

    /// Ends every call (graceful shutdown: call state lives only in this process). Answered
    /// calls get BYE on both legs, ringing ones CANCEL toward the far end and 503 to the caller;
    /// every CDR is closed with `cause`.
    public func endAllCalls(cause: String = "edge_shutdown") {
        let effects = state.withLock { state -> [Effect] in
            var effects: [Effect] = []
            for call in state.calls.values { effects += revoke(call, state: &state, cause: cause, refusal: (503, "Service Shutting Down")) }
            return effects
        }
        perform(effects)
    }

    private func revoke(_ call: Call, state: inout State, cause: String = "credential_revoked",
                        refusal: (Int, String) = (403, "Credential Revoked")) -> [Effect] {
        var effects: [Effect] = []
        if call.phase >= .answered {
            effects += byeToCarrier(call, state: &state)
            effects += byeToCustomer(call, state: &state)
        } else {
            effects += cancelBLeg(call, state: &state)
            effects.append(.respond(call.aKey, call.aContext, status: refusal.0, makeResponse(call.aInvite, refusal.0, refusal.1, toTag: call.aTag)))
        }
        effects.append(.ended(end(call.id, state: &state, cause: cause, status: nil)))
        return effects
    }

    // MARK: Timers

    private func fire(_ timer: ClientTransactionTimer, key txKey: String) {
        failOrFire(.timerFired(timer), key: txKey)
    }

    /// A message of a client transaction could not be sent (connection refused, TLS handshake
    /// failed): the transaction fails at once, like a timeout (RFC 3261 §8.1.3.1).
    private func transportFailed(key txKey: String) {
        logger.info("transport error toward the far end", metadata: ["transaction": "\(txKey)"])
        failOrFire(.transportError, key: txKey)
    }

    private func failOrFire(_ event: ClientTransaction.Event, key txKey: String) {
        let effects = state.withLock { state -> [Effect] in
            guard var pending = state.pending[txKey] else { return [] }
            let actions = pending.tx.handle(event)
            state.pending[txKey] = pending
            var effects = Self.effects(of: actions, key: txKey, route: pending.route)
            if actions.terminated { state.pending.removeValue(forKey: txKey) }
            if actions.failure != nil, pending.purpose == .invite, var call = state.calls[pending.call], call.phase < .answered,
               call.direction == .inbound, !call.cancelled {
                call.lastFailure = (408, "Request Timeout")
                state.calls[call.id] = call
                effects += tryNextTarget(call.id, state: &state)
            } else if actions.failure != nil, pending.purpose == .invite, let call = state.calls[pending.call], call.phase < .answered {
                // No final answer from the carrier: the customer gets 408 and the call ends.
                effects.append(.respond(call.aKey, call.aContext, status: 408, makeResponse(call.aInvite, 408, nil, toTag: call.aTag)))
                effects.append(.ended(end(call.id, state: &state, cause: "carrier_timeout", status: 408)))
            }
            return effects
        }
        perform(effects)
    }

    private func fireA2xx(call id: UInt64) {
        let effects = state.withLock { state -> [Effect] in
            guard var call = state.calls[id], call.phase == .answered, let bytes = call.a2xx else { return [] }
            call.a2xxWaited += call.a2xxInterval
            if call.a2xxWaited >= configuration.timers.timeout {
                // The customer never ACKed our 2xx: end both legs (RFC 3261 §13.3.1.4).
                var effects = byeToCarrier(call, state: &state)
                effects += byeToCustomer(call, state: &state)
                effects.append(.ended(end(id, state: &state, cause: "no_ack", status: nil)))
                return effects
            }
            call.a2xxInterval = min(call.a2xxInterval * 2, configuration.timers.t2)
            state.calls[id] = call
            return [.toCustomer(call.aContext, bytes), .a2xxTimer(call: id, call.a2xxInterval)]
        }
        perform(effects)
    }

    // MARK: Building requests

    /// From, To, Call-ID, CSeq, Via, Route and Max-Forwards of a request on the B dialog.
    private func bDialogHeaders(_ call: Call, method: String, cseq: UInt32, branch: String? = nil) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("Via", "SIP/2.0/\(call.bLeg.transport) \(call.bLeg.sentBy);branch=\(branch ?? CallLegIdentity.freshBranch());rport"),
            ("Max-Forwards", "70"),
            ("From", String(call.bInvite.header(.from) ?? "")),
            ("To", String(call.bInvite.header(.to) ?? "") + (call.bRemoteTag.map { ";tag=\($0)" } ?? "")),
            ("Call-ID", call.bLeg.callID),
            ("CSeq", "\(cseq) \(method)"),
        ]
        for route in call.bRouteSet { headers.append(("Route", route)) }
        return headers
    }

    private func byeToCarrier(_ call: Call, state: inout State) -> [Effect] {
        guard call.phase >= .answered else { return [] }
        var call = call
        let branch = CallLegIdentity.freshBranch()
        let headers = bDialogHeaders(call, method: "BYE", cseq: call.bNextCSeq, branch: branch) + [("Server", serverHeader)]
        call.bNextCSeq += 1
        state.calls[call.id] = call
        guard let bye = try? SIPMessage.build(startLine: "BYE \(call.bRemoteTarget ?? String(call.bInvite.requestURI?.raw ?? "")) SIP/2.0", headers: headers) else { return [] }
        return startTransaction(.bye, request: bye, branch: branch, call: call.id, route: .b(call.bInDialog), state: &state)
    }

    /// From, To, Call-ID, CSeq, Via, Route and Max-Forwards of a request the edge sends in the A
    /// leg's dialog, where it is the UAS: our From is their To (with our tag), the route set their
    /// Record-Route in order.
    private func aDialogHeaders(_ call: Call, method: String, cseq: UInt32, branch: String) -> [(String, String)] {
        let invite = call.aInvite
        let localHost = call.aContext.local.flatMap(Self.hostPort) ?? configuration.fromDomain
        let transport = call.aContext.transport.rawValue.uppercased()
        var headers: [(String, String)] = [
            ("Via", "SIP/2.0/\(transport) \(localHost);branch=\(branch);rport"),
            ("Max-Forwards", "70"),
            ("From", String(invite.header(.to) ?? "") + ";tag=\(call.aTag)"),
            ("To", String(invite.header(.from) ?? "")),
            ("Call-ID", call.aCallID),
            ("CSeq", "\(cseq) \(method)"),
        ]
        for route in invite.recordRoutes { headers.append(("Route", String(route.raw))) }
        return headers
    }

    /// The A side's Contact (its remote target), or its From URI when it sent none.
    private func aRemoteTarget(_ call: Call) -> String {
        call.aInvite.contacts.first?.address.map { String($0.uri.raw) } ?? String(call.aInvite.from?.uri.raw ?? "")
    }

    /// A BYE in the A leg's dialog, sent back over the flow its INVITE came in on.
    private func byeToCustomer(_ call: Call, state: inout State) -> [Effect] {
        let branch = CallLegIdentity.freshBranch()
        let headers = aDialogHeaders(call, method: "BYE", cseq: call.aNextCSeq, branch: branch) + [("Server", serverHeader)]
        guard let bye = try? SIPMessage.build(startLine: "BYE \(aRemoteTarget(call)) SIP/2.0", headers: headers) else { return [] }
        var updated = call
        updated.aNextCSeq += 1
        state.calls[call.id] = updated
        return startTransaction(.bye, request: bye, branch: branch, call: call.id, route: .a(call.aContext), state: &state)
    }

    /// The hangup cause for a final error response from the far end.
    static func cause(forFinal status: Int) -> String {
        switch status {
        case 486, 600: "busy"
        case 408, 480: "no_answer"
        case 404, 484, 604: "unallocated_number"
        case 500..<600: "far_end_failure"
        default: "rejected"
        }
    }

    /// Our Contact on the A leg: the listener the A side's INVITE arrived on (not a wildcard).
    private func aContact(_ call: Call) -> String {
        guard let local = call.aContext.local, local.ipAddress != "0.0.0.0", local.ipAddress != "::",
              let hostPort = Self.hostPort(local) else {
            return "<sip:trunkgate@\(configuration.fromDomain)>"
        }
        return "<sip:trunkgate@\(hostPort);transport=\(call.aContext.transport.rawValue.lowercased())>"
    }

    /// Our Contact on the B leg (what `CallLegRewriter.forwardInvite` put in the INVITE).
    private func bContact(_ call: Call) -> String {
        "<sip:trunkgate@\(call.bLeg.sentBy);transport=\(call.bLeg.transport.lowercased())>"
    }

    private func makeResponse(_ request: SIPMessage, _ status: Int, _ reason: String? = nil, toTag: String? = nil) -> SIPMessage {
        var r = request.makeResponse(status: status, reason: reason, toTag: toTag)
        try? r.append(SIPHeader(.server, serverHeader))
        return r
    }

    /// Removes a call from the tables and returns its record. Its pending transactions (a BYE
    /// being retransmitted) run on until their own timers end them.
    private func end(_ id: UInt64, state: inout State, cause: String, status: Int?) -> CallRecord? {
        guard let call = state.calls.removeValue(forKey: id) else { return nil }
        state.byACallID.removeValue(forKey: call.aCallID)
        state.byBCallID.removeValue(forKey: call.bLeg.callID)
        let left = state.perTrunk[call.trunkSid, default: 1] - 1
        state.perTrunk[call.trunkSid] = left > 0 ? left : nil
        return CallRecord(
            accountSid: call.accountSid, trunkSid: call.trunkSid, direction: call.direction,
            from: String(call.aInvite.from?.uri.raw ?? ""), to: String(call.aInvite.to?.uri.raw ?? ""),
            startTime: call.startedAt, answerTime: call.answeredAt, endTime: now(), hangupCause: cause,
            hangupCauseCode: status ?? (call.answeredAt != nil ? 200 : nil),
            authType: call.caller.authType, authUser: call.caller.user, sourceIP: call.caller.sourceIP)
    }

    /// Starts a client transaction on one leg: registers it under `branch|method` (how its
    /// responses are found) and returns what to send and which timers to arm.
    private func startTransaction(_ purpose: Purpose, request: SIPMessage, branch: String, call id: UInt64, route: Route,
                                  relay: MidCallRelay? = nil, state: inout State) -> [Effect] {
        let method = request.method.map(String.init) ?? ""
        let reliable: Bool
        switch route {
        case .a(let context): reliable = context.transport.isStream
        case .b(let hop): reliable = hop.transport.isStream
        }
        var tx = ClientTransaction(kind: method == "INVITE" ? .invite : .nonInvite, request: request.serialized(),
                                   reliable: reliable, timers: configuration.timers)
        let started = tx.start()
        let key = "\(branch)|\(method)"
        state.pending[key] = Pending(call: id, route: route, purpose: purpose, tx: tx, invite: method == "INVITE" ? request : nil, relay: relay)
        return Self.effects(of: started, key: key, route: route)
    }

    /// CANCELs the B leg's pending INVITE (once); its 487 then ends the call.
    private func cancelBLeg(_ call: Call, state: inout State) -> [Effect] {
        guard !call.cancelled, let cancel = call.bInvite.makeCANCEL() else { return [] }
        var call = call
        call.cancelled = true
        state.calls[call.id] = call
        return startTransaction(.cancel, request: cancel, branch: call.bLeg.branch, call: call.id, route: .b(call.bAddress), state: &state)
    }

    /// The next hop of requests inside a dialog: the first entry of the route set when there is
    /// one (a loose router, normally the proxy that forwarded the INVITE), else the remote
    /// target (the far end's Contact). Only IP addresses are used as they stand: a host name, or
    /// the address the INVITE already went to, keeps the initial hop (its transport and, for
    /// TCP/TLS, its connection).
    static func dialogHop(routeSet: [String], remoteTarget: String?, initial: Hop) -> Hop {
        let next: SIPURI?
        if let first = routeSet.first {
            next = (try? SIPNameAddr(parsing: Substring(first)))?.uri
        } else {
            next = remoteTarget.flatMap { try? SIPURI(parsing: Substring($0)) }
        }
        guard let uri = next else { return initial }
        let host = uri.host.hasPrefix("[") ? String(uri.host.dropFirst().dropLast()) : String(uri.host)
        let transport = InboundTarget.transport(of: uri) ?? .udp
        guard let address = try? SocketAddress(ipAddress: host, port: uri.port ?? (transport == .tls ? 5061 : 5060)) else { return initial }
        if address == initial.address { return initial }
        return Hop(address: address, transport: transport)
    }

    /// `host:port` of an address as Via and Contact write it (IPv6 in brackets).
    static func hostPort(_ address: SocketAddress) -> String? {
        guard let ip = address.ipAddress, let port = address.port else { return nil }
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    // MARK: Effects

    private static func effects(of actions: ClientTransaction.Actions, key: String, route: Route) -> [Effect] {
        var out: [Effect] = []
        if let bytes = actions.send {
            switch route {
            case .b(let hop): out.append(.toB(hop, bytes, txKey: key))
            case .a(let context): out.append(.toCustomer(context, bytes))
            }
        }
        for (timer, delay) in actions.start { out.append(.txTimer(key: key, timer, delay)) }
        return out
    }

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .toB(let hop, let bytes, let txKey):
                sockets.send(bytes, to: hop.address, transport: hop.transport, serverName: hop.serverName) { [weak self] in
                    if let txKey { self?.transportFailed(key: txKey) }
                }
            case .toCustomer(let context, let bytes):
                context.send(bytes: bytes)
            case .respond(let key, let context, let status, let message):
                transactions.respond(key, status: status, bytes: message.serialized()) { context.send(bytes: $0) }
            case .txTimer(let key, let timer, let delay):
                scheduler.schedule(after: delay) { [weak self] in self?.fire(timer, key: key) }
            case .a2xxTimer(let call, let delay):
                scheduler.schedule(after: delay) { [weak self] in self?.fireA2xx(call: call) }
            case .failoverTimer(let call, let attempt, let delay):
                scheduler.schedule(after: delay) { [weak self] in self?.fireFailover(call: call, attempt: attempt) }
            case .ended(let record):
                guard let record else { continue }
                if !records.offer(record) { logger.warning("CDR queue full: record dropped", metadata: ["call": "\(record.sid)"]) }
                logger.info("call ended", metadata: [
                    "call": "\(record.sid)", "trunk": "\(record.trunkSid ?? "-")", "direction": "\(record.direction.rawValue)",
                    "answered": "\(record.answerTime != nil)", "duration_s": "\(record.duration)",
                    "hangup_cause": "\(record.hangupCause)", "hangup_cause_code": "\(record.hangupCauseCode.map(String.init) ?? "-")",
                ])
            }
        }
    }

    private func respond(_ request: SIPMessage, key: ServerTransactionKey, context: SIPRequestContext, status: Int, reason: String,
                         headers: [SIPHeader] = []) {
        var r = makeResponse(request, status, reason)
        for h in headers { try? r.append(h) }
        transactions.respond(key, status: status, bytes: r.serialized()) { context.send(bytes: $0) }
    }
}
