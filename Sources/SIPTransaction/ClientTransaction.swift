/// One RFC 3261 §17.1 client transaction (with the RFC 6026 "Accepted" state for INVITE) as a
/// value: it takes events and returns what to do. Like `ServerTransaction` it owns no timer and
/// no socket, so the B2BUA's outbound legs and their tests drive it, and time, directly.
public struct ClientTransaction: Sendable {
    public enum Kind: Sendable, Hashable { case invite, nonInvite }

    public enum State: Sendable, Hashable {
        /// INVITE: sent, no response yet.
        case calling
        /// Non-INVITE: sent, no response yet.
        case trying
        /// A provisional response arrived.
        case proceeding
        /// INVITE (RFC 6026): a 2xx arrived; later 2xx retransmissions still go to the TU, which
        /// ACKs them end to end.
        case accepted
        /// A final (non-2xx for INVITE) response arrived; retransmissions of it are absorbed
        /// (and, for INVITE, answered with the same ACK).
        case completed
        case terminated
    }

    public enum Event: Sendable, Hashable {
        /// A response matching this transaction arrived. For a non-2xx final response to an
        /// INVITE, `ack` is the ACK the owner built for it (RFC 3261 §17.1.1.3); the transaction
        /// keeps it to answer retransmissions of that response.
        case response(status: Int, ack: [UInt8]? = nil)
        case timerFired(ClientTransactionTimer)
        /// The transport reported it cannot deliver (RFC 3261 §17.1.4).
        case transportError
    }

    /// Why the transaction ended without a final response.
    public enum Failure: Sendable, Hashable {
        /// Timer B or F: no final response within 64·T1.
        case timeout
        case transportError
    }

    /// What the owner must do after an event.
    public struct Actions: Sendable, Hashable {
        /// Bytes to send to the server (the request, a retransmission of it, or the ACK).
        public var send: [UInt8]?
        /// Timers to start (each fires once).
        public var start: [ClientTransactionTimer: Duration] = [:]
        /// Hand the response to the transaction user (false for absorbed retransmissions).
        public var passToUser = false
        /// The transaction failed: tell the transaction user (it ends the call leg or fails over).
        public var failure: Failure?
        /// The transaction is over: forget it.
        public var terminated = false

        public init(send: [UInt8]? = nil, start: [ClientTransactionTimer: Duration] = [:], passToUser: Bool = false,
                    failure: Failure? = nil, terminated: Bool = false) {
            self.send = send
            self.start = start
            self.passToUser = passToUser
            self.failure = failure
            self.terminated = terminated
        }

        public static let none = Actions()
    }

    public let kind: Kind
    /// Reliable (TCP/TLS) transports need no retransmission and no lingering.
    public let reliable: Bool
    public let timers: TransactionTimers
    public private(set) var state: State
    /// The request as first sent; retransmissions repeat it byte for byte.
    public let request: [UInt8]
    public private(set) var lastStatus: Int?
    private var ack: [UInt8]?
    private var retransmitInterval: Duration

    public init(kind: Kind, request: [UInt8], reliable: Bool, timers: TransactionTimers = .default) {
        self.kind = kind
        self.request = request
        self.reliable = reliable
        self.timers = timers
        self.state = kind == .invite ? .calling : .trying
        self.retransmitInterval = timers.t1
    }

    /// Sends the request and arms the timers: call once, right after `init`.
    public mutating func start() -> Actions {
        var actions = Actions(send: request)
        switch kind {
        case .invite:
            if !reliable { actions.start[.a] = retransmitInterval }
            actions.start[.b] = timers.timeout
        case .nonInvite:
            if !reliable { actions.start[.e] = retransmitInterval }
            actions.start[.f] = timers.timeout
        }
        return actions
    }

    public mutating func handle(_ event: Event) -> Actions {
        switch (state, event) {
        case (.terminated, _):
            return .none

        case (_, .transportError):
            state = .terminated
            return Actions(failure: .transportError, terminated: true)

        // INVITE (§17.1.1.2, RFC 6026 §7.2).
        case (.calling, .response(let status, _)) where status < 200,
             (.proceeding, .response(let status, _)) where kind == .invite && status < 200:
            state = .proceeding
            lastStatus = status
            return Actions(passToUser: true)
        case (.calling, .response(let status, _)) where status < 300,
             (.proceeding, .response(let status, _)) where kind == .invite && status < 300:
            state = .accepted
            lastStatus = status
            return Actions(start: [.m: timers.timeout], passToUser: true)
        case (.calling, .response(let status, let ack)),
             (.proceeding, .response(let status, let ack)) where kind == .invite:
            state = .completed
            lastStatus = status
            self.ack = ack
            if reliable {
                state = .terminated
                return Actions(send: ack, passToUser: true, terminated: true)
            }
            return Actions(send: ack, start: [.d: .seconds(32)], passToUser: true)
        case (.accepted, .response(let status, _)):
            // 2xx retransmissions (and 2xx from other forks) go to the TU, which ACKs them;
            // anything else after a 2xx is dropped.
            return (200..<300).contains(status) ? Actions(passToUser: true) : .none
        case (.completed, .response) where kind == .invite:
            return Actions(send: ack)
        case (.calling, .timerFired(.a)):
            retransmitInterval = retransmitInterval * 2  // INVITE backs off without a cap
            return Actions(send: request, start: [.a: retransmitInterval])
        case (.calling, .timerFired(.b)):
            state = .terminated
            return Actions(failure: .timeout, terminated: true)
        case (.accepted, .timerFired(.m)), (.completed, .timerFired(.d)):
            state = .terminated
            return Actions(terminated: true)

        // Non-INVITE (§17.1.2.2).
        case (.trying, .response(let status, _)) where status < 200,
             (.proceeding, .response(let status, _)) where status < 200:
            state = .proceeding
            lastStatus = status
            return Actions(passToUser: true)
        case (.trying, .response(let status, _)), (.proceeding, .response(let status, _)):
            state = .completed
            lastStatus = status
            if reliable {
                state = .terminated
                return Actions(passToUser: true, terminated: true)
            }
            return Actions(start: [.k: timers.t4], passToUser: true)
        case (.completed, .response):
            return .none
        case (.trying, .timerFired(.e)):
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            return Actions(send: request, start: [.e: retransmitInterval])
        case (.proceeding, .timerFired(.e)):
            retransmitInterval = timers.t2
            return Actions(send: request, start: [.e: retransmitInterval])
        case (.trying, .timerFired(.f)), (.proceeding, .timerFired(.f)):
            state = .terminated
            return Actions(failure: .timeout, terminated: true)
        case (.completed, .timerFired(.k)):
            state = .terminated
            return Actions(terminated: true)

        case (_, .timerFired):
            return .none  // a stale timer from an earlier state
        case (.accepted, _), (.calling, _), (.trying, _), (.proceeding, _), (.completed, _):
            return .none
        }
    }
}

/// The timers a client transaction asks for.
public enum ClientTransactionTimer: Sendable, Hashable {
    /// INVITE request retransmission (unreliable transports).
    case a
    /// INVITE transaction timeout.
    case b
    /// Wait for retransmitted non-2xx INVITE responses (absorbed with the same ACK).
    case d
    /// Non-INVITE request retransmission (unreliable transports).
    case e
    /// Non-INVITE transaction timeout.
    case f
    /// Absorb retransmitted non-INVITE responses.
    case k
    /// RFC 6026: how long 2xx retransmissions are still passed to the TU.
    case m
}
