public import Foundation
public import Logging
import SIPDigest
public import SIPMessage
public import SIPTransaction
public import SIPTransport
public import TrunkgateModel

/// The SIP edge's request pipeline (SPEC §3), called by the transport for every message:
/// message checks → server transaction (retransmissions) → lockout → trunk by Request-URI →
/// `auth_type` and digest → registrar / OPTIONS / the methods not served yet.
///
/// Runs on the transport's event loops and never waits: the configuration is an in-memory
/// snapshot, and everything destined for the store (auth events, lockouts, bindings,
/// credential use) goes through bounded queues that ``EdgeBackgroundService`` drains.
public final class EdgeRequestHandler: SIPMessageHandler {
    public struct Options: Sendable {
        public var serverHeader = "trunkgate"
        /// Methods the edge answers itself or will route (used for `Allow`).
        public var allowedMethods = ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER"]
        public init() {}
    }

    public let configuration: EdgeConfigurationCell
    public let authorizer: EdgeAuthorizer
    public let registrar: Registrar
    public let transactions: ServerTransactionTable
    public let authEvents: BatchQueue<AuthEvent>
    public let lockoutWrites: BatchQueue<Lockout>
    public let credentialUses: CredentialUseRecorder
    public let options: Options
    /// The B2BUA for calls; nil when no carrier is configured (INVITEs then get 501).
    public let calls: CallManager?
    /// CDRs waiting for the store: ended calls, and INVITEs refused by authentication (4210).
    public let callRecords: BatchQueue<CallRecord>
    private let validator = SIPRequestValidator()
    private let logger: Logger
    private let now: @Sendable () -> Date
    public let counters = EdgeCounters()

    public init(
        configuration: EdgeConfigurationCell, authorizer: EdgeAuthorizer, registrar: Registrar,
        transactions: ServerTransactionTable, authEvents: BatchQueue<AuthEvent> = BatchQueue(capacity: 100_000, mergedBy: { $0.time.timeIntervalSinceReferenceDate }),
        lockoutWrites: BatchQueue<Lockout> = BatchQueue(capacity: 10_000),
        credentialUses: CredentialUseRecorder = CredentialUseRecorder(),
        options: Options = Options(), calls: CallManager? = nil, callRecords: BatchQueue<CallRecord>? = nil,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.calls = calls
        self.callRecords = callRecords ?? calls?.records ?? BatchQueue(capacity: 100_000)
        self.configuration = configuration
        self.authorizer = authorizer
        self.registrar = registrar
        self.transactions = transactions
        self.authEvents = authEvents
        self.lockoutWrites = lockoutWrites
        self.credentialUses = credentialUses
        self.options = options
        self.logger = logger
        self.now = now
    }

    public func handleUnparseable(_ bytes: [UInt8], error: SIPParseError, context: SIPRequestContext) {
        counters.parseErrors.add(1, ordering: .relaxed)
        if let response = SIPBadRequest.response(to: bytes, error: error) { context.send(bytes: response) }
    }

    public func handle(_ message: SIPMessage, context: SIPRequestContext) {
        guard let method = message.method else {
            calls?.handleResponse(message)  // anything else is a stray response: dropped
            return
        }
        counters.countRequest(method: method, transport: context.transport)
        // Message-level refusals are answered statelessly.
        if let rejection = validator.check(message), method != "ACK" {
            var extra: [SIPHeader] = []
            if let header = rejection.header { extra.append(header) }
            context.send(bytes: response(to: message, status: rejection.status, reason: rejection.reason, headers: extra))
            return
        }
        guard let key = ServerTransactionKey(message) else { return }
        let reliable = context.transport.isStream
        switch transactions.receive(message, key: key, reliable: reliable) {
        case .new:
            break
        case .retransmission(let resend):
            counters.retransmissionsAbsorbed.add(1, ordering: .relaxed)
            if let resend { context.send(bytes: resend) }
            return
        case .ackAbsorbed:
            return
        case .strayACK:
            calls?.handleACK(message)  // the ACK for a 2xx of a call, relayed end to end
            return
        case .overloaded:
            counters.overloaded.add(1, ordering: .relaxed)
            context.send(bytes: response(to: message, status: 503, reason: "Service Unavailable", headers: [SIPHeader(.retryAfter, "5")]))
            return
        }
        // Requests inside a call (BYE from either side, CANCEL) belong to the B2BUA; the dialog
        // was authenticated when it was set up, and the carrier's BYE has no trunk to resolve.
        if let calls, method == "CANCEL" || message.to?.tag != nil, calls.handleInDialog(message, key: key, context: context) {
            return
        }
        // The carrier is trusted by its address: its INVITEs are inbound calls to DIDs.
        if let calls, method == "INVITE", message.to?.tag == nil, calls.isFromCarrier(context) {
            let registrar = self.registrar, now = self.now
            calls.startInbound(message, key: key, context: context, configuration: configuration.current,
                               bindings: { registrar.bindings(trunk: $0, now: now()) })
            return
        }

        let source = RequestSource(ip: context.sourceIP ?? "?", port: context.source.port ?? 0, transport: context.transport.rawValue)
        let time = now()
        let outcome = authorizer.authorize(message, source: source, configuration: configuration.current, now: time)
        if !authEvents.offer(outcome.event) { counters.eventsDropped.add(1, ordering: .relaxed) }
        if let lockout = outcome.lockout {
            lockoutWrites.offer(lockout)
            counters.lockouts.add(1, ordering: .relaxed)
            logger.warning("source locked out", metadata: ["ip": "\(lockout.ip)", "trunk": "\(outcome.event.trunkSid ?? "-")"])
        }
        func reply(_ status: Int, _ reason: String? = nil, _ headers: [SIPHeader] = [], stateless: Bool = false) {
            let bytes = response(to: message, status: status, reason: reason, headers: headers)
            if stateless {
                transactions.respondStatelessly(key, bytes: bytes) { context.send(bytes: $0) }
            } else {
                transactions.respond(key, status: status, bytes: bytes) { context.send(bytes: $0) }
            }
        }

        switch outcome.decision {
        case .reject(let status, let reason):
            reply(status, reason)
            if method == "INVITE", message.to?.tag == nil, let account = outcome.event.accountSid {
                // A call attempt on a trunk that failed the ACL or credential check (SPEC: 4210).
                let trunk = outcome.event.trunkSid.flatMap { configuration.current.trunksBySid[$0]?.trunk }
                recordRefusedCall(message, account: account, trunkSid: outcome.event.trunkSid, authType: trunk?.authType,
                                  user: outcome.event.userName, source: source, at: time, cause: "sip_auth_failed", code: 4210)
            }
        case .challenge(let challenge):
            let name = SIPHeaderName(challenge.kind.challengeHeaderName)
            // The ordinary first challenge (no credentials, or a stale nonce) is answered
            // statelessly, as Kamailio's sl does: a retransmission gets a fresh challenge and
            // nothing is held for 32 s. A challenge after a failed check stays in its
            // transaction, so that a retransmission is not counted toward a lockout again.
            reply(challenge.kind.statusCode, nil, challenge.headerValues.map { SIPHeader(name: name, value: Substring($0)) },
                  stateless: outcome.event.result == .challenged)
        case .allow(let trunk, let credential, _):
            if let credential { credentialUses.record(credentialSid: credential.sid, at: time, ip: source.ip) }
            switch method {
            case "REGISTER":
                switch registrar.register(message, trunk: trunk.trunk, credential: credential, source: source, now: time) {
                case .ok(let contacts):
                    reply(200, "OK", contacts.map { SIPHeader(.contact, $0) } + [SIPHeader(.date, Self.httpDate(time))])
                case .intervalTooBrief(let min):
                    reply(423, "Interval Too Brief", [SIPHeader(.minExpires, String(min))])
                case .badRequest(let why):
                    reply(400, why)
                }
            case "OPTIONS":
                reply(200, "OK", [SIPHeader(.allow, options.allowedMethods.joined(separator: ", ")), SIPHeader(.accept, "application/sdp")])
            case "ACK":
                return
            case "CANCEL":
                reply(481, "Call/Transaction Does Not Exist")
            case "INVITE" where calls != nil && message.to?.tag == nil:
                if trunk.trunk.restrictCallerID, !Self.isOwnNumber(message.from?.uri.unescapedUser, of: trunk) {
                    // Caller ID restricted to the trunk's DIDs (SPEC §3 "Calls").
                    reply(403, "Caller ID Not Allowed")
                    recordRefusedCall(message, account: trunk.trunk.accountSid, trunkSid: trunk.trunk.sid, authType: trunk.trunk.authType,
                                      user: credential?.userName, source: source, at: time, cause: "caller_id_not_allowed", code: 403)
                    return
                }
                let caller = CallerAuthentication(authType: trunk.trunk.authType.rawValue, user: credential?.userName, sourceIP: source.ip)
                calls?.startOutbound(message, key: key, context: context, trunk: trunk.trunk, caller: caller, credentialSid: credential?.sid)
            default:
                // Without a carrier (--carrier) there is nowhere to route a call: say so plainly.
                reply(501, "Not Implemented", [SIPHeader(.allow, "OPTIONS, REGISTER")])
            }
        }
    }

    /// The CDR of an outbound call attempt the edge refused before routing it.
    private func recordRefusedCall(_ invite: SIPMessage, account: String, trunkSid: String?, authType: AuthType?, user: String?,
                                   source: RequestSource, at time: Date, cause: String, code: Int) {
        let record = CallRecord(
            accountSid: account, trunkSid: trunkSid, direction: .outbound, from: String(invite.from?.uri.raw ?? ""),
            to: String(invite.to?.uri.raw ?? ""), startTime: time, answerTime: nil, endTime: time, hangupCause: cause,
            hangupCauseCode: code, authType: authType?.rawValue, authUser: user, sourceIP: source.ip)
        if !callRecords.offer(record) { counters.eventsDropped.add(1, ordering: .relaxed) }
    }

    /// Whether a caller ID (From user) is one of the trunk's DIDs; `+` is optional, as PBXs send both.
    static func isOwnNumber(_ user: String?, of trunk: TrunkConfiguration) -> Bool {
        guard let user, !user.isEmpty else { return false }
        let e164 = user.hasPrefix("+") ? user : "+" + user
        return trunk.phoneNumbers.contains(e164)
    }

    /// Every answer of the edge's own, with its Server header: written straight from the
    /// request's header lines, no response message built.
    func response(to request: SIPMessage, status: Int, reason: String?, headers: [SIPHeader]) -> [UInt8] {
        request.serializedResponse(status: status, reason: reason, headers: headers + [SIPHeader(.server, options.serverHeader)])
    }

    /// RFC 1123 date in GMT (RFC 3261 §20.17), computed without a formatter object.
    static func httpDate(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secs = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ((days % 7) + 7) % 7
        // "Thu, 01 Jan 1970 00:00:00 GMT": 29 bytes written in place (this runs for every 200
        // to a REGISTER).
        return String(unsafeUninitializedCapacity: 29) { out in
            var i = 0
            func put(_ text: StaticString) {
                text.withUTF8Buffer { for b in $0 { out[i] = b; i += 1 } }
            }
            func put3(_ table: StaticString, _ index: Int) {
                table.withUTF8Buffer { for k in 0..<3 { out[i] = $0[index * 3 + k]; i += 1 } }
            }
            func digits(_ v: Int, _ count: Int) {
                var divisor = 1
                for _ in 1..<count { divisor *= 10 }
                for _ in 0..<count {
                    out[i] = UInt8(0x30 + (v / divisor) % 10); i += 1
                    divisor /= 10
                }
            }
            put3("ThuFriSatSunMonTueWed", weekday); put(", ")
            digits(day, 2); put(" ")
            put3("JanFebMarAprMayJunJulAugSepOctNovDec", month - 1); put(" ")
            digits(min(max(year, 0), 9999), 4); put(" ")
            digits(secs / 3600, 2); put(":"); digits(secs % 3600 / 60, 2); put(":"); digits(secs % 60, 2)
            put(" GMT")
            return i
        }
    }
}

/// Coalesces credential use (`last_used_at`, `last_used_ip`) so that a busy credential costs
/// one store write per flush, not one per request. Each thread keeps its own table (every
/// successful check records one); draining keeps the latest use of each credential.
public final class CredentialUseRecorder: Sendable {
    private let latest = ThreadShards { [String: CredentialUse]() }
    public init() {}

    public func record(credentialSid: String, at: Date, ip: String) {
        // A shard can be shared by threads (more threads than shards), and one thread may store
        // a use it timed just before another's: the later time wins, not the later store.
        let use = CredentialUse(credentialSid: credentialSid, at: at, ip: ip)
        latest.withCurrent { table in
            if let previous = table.updateValue(use, forKey: credentialSid), previous.at > at {
                table[credentialSid] = previous
            }
        }
    }

    public func drain() -> [CredentialUse] {
        var merged: [String: CredentialUse] = [:]
        latest.forEach { table in
            for (sid, use) in table where merged[sid].map({ $0.at < use.at }) ?? true { merged[sid] = use }
            table.removeAll(keepingCapacity: true)
        }
        return Array(merged.values)
    }
}
