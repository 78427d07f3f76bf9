public import SIPMessage
import Synchronization

/// Starts timers for the transaction table. Production uses the event loop; tests use a
/// manual clock that fires timers when told.
public protocol TransactionTimerScheduler: Sendable {
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void)
}

/// All live server transactions of one edge node: absorbs retransmissions, retransmits final
/// INVITE responses over UDP, and forgets transactions when their timers say so.
///
/// Bounded: at most `capacity` live transactions; past it, new requests are refused
/// (`.overloaded`) so the caller can answer 503 statelessly. Sharded so that the cores do not
/// contend on one lock.
///
/// Sizing: a non-INVITE request answered over UDP keeps its transaction (and its response, for
/// retransmissions) for Timer J, 32 s, so the table holds about 32 s × the rate of stateful
/// answers (a REGISTER that passed digest gets one; challenges are stateless). The default,
/// 400,000, covers 12,500 such answers per second; an entry is about 1 KB.
public final class ServerTransactionTable: Sendable {
    public enum Disposition: Sendable, Hashable {
        /// A new request: hand it to the transaction user, then call ``respond(_:status:bytes:send:)``.
        case new
        /// A retransmission: these bytes (the last response), if any, should be sent again.
        case retransmission(resend: [UInt8]?)
        /// An ACK that belongs to a non-2xx final response of ours: nothing more to do.
        case ackAbsorbed
        /// An ACK that matched no transaction (an ACK for a 2xx: the dialog layer's).
        case strayACK
        /// Too many live transactions.
        case overloaded
    }

    private struct Entry {
        var transaction: ServerTransaction
        /// The destination for retransmissions from timers, once answered.
        var send: (@Sendable ([UInt8]) -> Void)?
    }

    private struct Shard {
        /// One entry per transaction: the state and its reply path together (one key copy).
        var live: [ServerTransactionKey: Entry] = [:]
    }

    private final class LockedShard: Sendable {
        let lock = Mutex(Shard())
    }

    private let shards: [LockedShard]
    private let capacityPerShard: Int
    private let scheduler: any TransactionTimerScheduler
    private let timers: TransactionTimers
    private let liveCount = Atomic<Int>(0)

    public init(capacity: Int = 400_000, shardCount: Int = 16, timers: TransactionTimers = .default, scheduler: any TransactionTimerScheduler) {
        self.shards = (0..<shardCount).map { _ in LockedShard() }
        self.capacityPerShard = max(1, capacity / shardCount)
        self.scheduler = scheduler
        self.timers = timers
    }

    /// Live transactions (for metrics and tests).
    public var count: Int { liveCount.load(ordering: .relaxed) }

    private func shard(_ key: ServerTransactionKey) -> Int {
        var h = Hasher()
        h.combine(key)
        return Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))
    }

    /// Classifies an incoming request. A `.new` request has a transaction from now on.
    public func receive(_ request: SIPMessage, key: ServerTransactionKey, reliable: Bool) -> Disposition {
        let isACK = request.method == "ACK"
        let kind: ServerTransaction.Kind = request.method == "INVITE" ? .invite : .nonInvite
        let (disposition, actions) = shards[shard(key)].lock.withLock { shard -> (Disposition, ServerTransaction.Actions) in
            if let index = shard.live.index(forKey: key) {
                // The ACK for a 2xx belongs to the dialog (the TU), not the transaction.
                if isACK, shard.live.values[index].transaction.state == .accepted { return (.strayACK, .none) }
                let actions = shard.live.values[index].transaction.handle(isACK ? .ack : .requestRetransmission)
                return (isACK ? .ackAbsorbed : .retransmission(resend: actions.send), actions)
            }
            if isACK { return (.strayACK, .none) }
            guard shard.live.count < capacityPerShard else { return (.overloaded, .none) }
            shard.live[key] = Entry(transaction: ServerTransaction(kind: kind, reliable: reliable, timers: timers))
            return (.new, .none)
        }
        if disposition == .new { liveCount.add(1, ordering: .relaxed) }
        // The caller resends a retransmission's answer itself (it holds the reply path).
        apply(actions, key: key, sending: false)
        return disposition
    }

    /// The transaction user answers: records the response, sends it through `send`, and
    /// arranges retransmissions and expiry.
    public func respond(_ key: ServerTransactionKey, status: Int, bytes: [UInt8], send: @escaping @Sendable ([UInt8]) -> Void) {
        let actions = shards[shard(key)].lock.withLock { shard -> ServerTransaction.Actions? in
            guard let index = shard.live.index(forKey: key) else { return nil }
            shard.live.values[index].send = send
            return shard.live.values[index].transaction.handle(.respond(status: status, bytes: bytes))
        }
        guard let actions else {
            send(bytes)  // no transaction (e.g. already timed out): still answer
            return
        }
        apply(actions, key: key)
    }

    /// The transaction user answers without keeping state: the transaction is forgotten and
    /// `bytes` sent once. For answers that are as good when computed again, such as a Digest
    /// challenge (a retransmitted request simply gets a fresh one, as from a stateless proxy):
    /// no timers, no response kept for up to 32 s, so challenges cost no table space. The ACK
    /// to a stateless non-2xx answer to INVITE then matches no transaction (``Disposition/strayACK``).
    public func respondStatelessly(_ key: ServerTransactionKey, bytes: [UInt8], send: ([UInt8]) -> Void) {
        let removed = shards[shard(key)].lock.withLock { shard -> Bool in
            shard.live.removeValue(forKey: key) != nil
        }
        if removed { liveCount.subtract(1, ordering: .relaxed) }
        send(bytes)
    }

    private func fire(_ timer: ServerTransactionTimer, key: ServerTransactionKey) {
        let actions = shards[shard(key)].lock.withLock { shard -> ServerTransaction.Actions? in
            guard let index = shard.live.index(forKey: key) else { return nil }
            return shard.live.values[index].transaction.handle(.timerFired(timer))
        }
        if let actions { apply(actions, key: key) }
    }

    private func apply(_ actions: ServerTransaction.Actions, key: ServerTransactionKey, sending: Bool = true) {
        if sending, let bytes = actions.send {
            let sender = shards[shard(key)].lock.withLock { $0.live[key]?.send }
            sender?(bytes)
        }
        for (timer, delay) in actions.start {
            scheduler.schedule(after: delay) { [weak self] in self?.fire(timer, key: key) }
        }
        if actions.terminated {
            let removed = shards[shard(key)].lock.withLock { shard -> Bool in
                shard.live.removeValue(forKey: key) != nil
            }
            if removed { liveCount.subtract(1, ordering: .relaxed) }
        }
    }
}
