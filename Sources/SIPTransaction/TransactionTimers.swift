/// RFC 3261 §17 timer values. T1 is the round-trip estimate, T2 the cap for non-INVITE and
/// INVITE-response retransmissions, T4 how long a message may stay in the network.
public struct TransactionTimers: Sendable, Hashable {
    public var t1: Duration
    public var t2: Duration
    public var t4: Duration

    public init(t1: Duration = .milliseconds(500), t2: Duration = .seconds(4), t4: Duration = .seconds(5)) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
    }

    public static let `default` = TransactionTimers()

    /// 64·T1: Timer B, F, H and J.
    public var timeout: Duration { t1 * 64 }
}

/// The timers a server transaction asks for.
public enum ServerTransactionTimer: Sendable, Hashable {
    /// Retransmit the final non-2xx INVITE response (unreliable transports).
    case g
    /// Give up waiting for the ACK.
    case h
    /// Absorb ACK retransmissions, then terminate.
    case i
    /// Absorb non-INVITE request retransmissions, then terminate.
    case j
    /// INVITE answered 2xx (RFC 6026 "Accepted"): absorb INVITE retransmissions, then terminate.
    case l
}
