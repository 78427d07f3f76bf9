/// One RFC 3261 §17.2 server transaction as a value: it takes events and returns what to do.
/// It owns no timers and no socket, so tests drive it (and time) directly.
public struct ServerTransaction: Sendable {
    public enum Kind: Sendable, Hashable { case invite, nonInvite }

    public enum State: Sendable, Hashable {
        /// Non-INVITE: request received, nothing sent yet.
        case trying
        /// A provisional response was sent (INVITE starts here: it sends 100 Trying).
        case proceeding
        /// A final response was sent; retransmissions of the request are answered with it.
        case completed
        /// INVITE: the ACK for a non-2xx response arrived.
        case confirmed
        /// INVITE: a 2xx was sent (RFC 6026 §7.1). Retransmissions of the INVITE are absorbed,
        /// not seen as new requests (they would be authenticated again: a replayed nonce count);
        /// the ACK for the 2xx goes to the transaction user (dialog layer) until Timer L.
        case accepted
        case terminated
    }

    public enum Event: Sendable, Hashable {
        /// The same request arrived again.
        case requestRetransmission
        /// An ACK matching this INVITE transaction arrived.
        case ack
        /// The transaction user sends a response.
        case respond(status: Int, bytes: [UInt8])
        case timerFired(ServerTransactionTimer)
        /// The transport reported it cannot deliver.
        case transportError
    }

    /// What the owner must do after an event.
    public struct Actions: Sendable, Hashable {
        /// Bytes to send to the client (a response, or a retransmission of one).
        public var send: [UInt8]?
        /// Timers to start (each fires once).
        public var start: [ServerTransactionTimer: Duration] = [:]
        /// The transaction is over: forget it.
        public var terminated = false
        /// The event was a retransmission the transaction absorbed (counted by metrics).
        public var absorbed = false

        public static let none = Actions()
    }

    public let kind: Kind
    /// Reliable (TCP/TLS) transports need no retransmission and no lingering.
    public let reliable: Bool
    public let timers: TransactionTimers
    public private(set) var state: State
    public private(set) var lastResponse: [UInt8]?
    public private(set) var lastStatus: Int?
    private var timerGInterval: Duration

    public init(kind: Kind, reliable: Bool, timers: TransactionTimers = .default) {
        self.kind = kind
        self.reliable = reliable
        self.timers = timers
        self.state = kind == .invite ? .proceeding : .trying
        self.timerGInterval = timers.t1
    }

    public mutating func handle(_ event: Event) -> Actions {
        switch (state, event) {
        case (.terminated, _):
            return .none

        case (_, .transportError):
            state = .terminated
            return Actions(terminated: true)

        // Retransmitted requests: answer with the last response, if any.
        case (.trying, .requestRetransmission):
            return Actions(absorbed: true)
        case (.proceeding, .requestRetransmission), (.completed, .requestRetransmission):
            return Actions(send: lastResponse, absorbed: true)
        case (.confirmed, .requestRetransmission), (.accepted, .requestRetransmission):
            // In Accepted, the TU retransmits the 2xx itself until the ACK (RFC 6026 §8.5).
            return Actions(absorbed: true)

        case (.trying, .respond(let status, let bytes)), (.proceeding, .respond(let status, let bytes)):
            lastResponse = bytes
            lastStatus = status
            if status < 200 {
                state = .proceeding
                return Actions(send: bytes)
            }
            if kind == .invite, status < 300 {
                // 2xx: Accepted (RFC 6026); the TU (dialog layer) retransmits the 2xx until ACK.
                state = .accepted
                return Actions(send: bytes, start: [.l: timers.timeout])
            }
            state = .completed
            var actions = Actions(send: bytes)
            switch kind {
            case .invite:
                if !reliable { actions.start[.g] = timerGInterval }
                actions.start[.h] = timers.timeout
            case .nonInvite:
                if reliable {
                    state = .terminated
                    actions.terminated = true
                } else {
                    actions.start[.j] = timers.timeout
                }
            }
            return actions

        case (.accepted, .respond(let status, let bytes)) where status >= 200 && status < 300:
            return Actions(send: bytes)  // the TU's 2xx retransmission, through the transaction
        case (.completed, .respond), (.confirmed, .respond), (.accepted, .respond):
            return .none  // a final response was already sent

        case (.completed, .ack) where kind == .invite:
            state = .confirmed
            if reliable {
                state = .terminated
                return Actions(terminated: true)
            }
            return Actions(start: [.i: timers.t4])
        case (_, .ack):
            return Actions(absorbed: true)

        case (.completed, .timerFired(.g)) where kind == .invite:
            timerGInterval = min(timerGInterval * 2, timers.t2)
            return Actions(send: lastResponse, start: [.g: timerGInterval])
        case (.completed, .timerFired(.h)) where kind == .invite:
            state = .terminated
            return Actions(terminated: true)
        case (.confirmed, .timerFired(.i)), (.accepted, .timerFired(.l)):
            state = .terminated
            return Actions(terminated: true)
        case (.completed, .timerFired(.j)) where kind == .nonInvite:
            state = .terminated
            return Actions(terminated: true)
        case (_, .timerFired):
            return .none  // a stale timer from an earlier state
        }
    }
}
