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
/// Sizing: a non-INVITE request answered over UDP keeps its response, for retransmissions, for
/// Timer J, 32 s, so the table holds about 32 s × the rate of stateful answers (a REGISTER that
/// passed digest gets one; challenges are stateless). The default, 400,000, covers 12,500 such
/// answers per second.
///
/// Such a Completed non-INVITE transaction has nothing left to do but answer retransmissions
/// and expire, and every one expires Timer J after it completed: it leaves the state-machine
/// table for a lean one (key → response bytes), and expires with the other transactions that
/// completed in the same ``completionWindow``, one timer per window instead of one per
/// transaction (at thousands of REGISTERs a second, the timers and the state were a sizeable
/// part of the edge's CPU and of its memory after a burst).
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
        /// Completed non-INVITE transactions over UDP: the final response, for retransmissions.
        var completed: [ServerTransactionKey: [UInt8]] = [:]
        /// The keys of `completed` by completion window, oldest first. The last batch takes new
        /// keys while `batchOpen`; each batch has one timer that expires it.
        var batches: [[ServerTransactionKey]] = []
        var batchOpen = false

        var count: Int { live.count + completed.count }
    }

    private final class LockedShard: Sendable {
        let lock = Mutex(Shard())
    }

    private let shards: [LockedShard]
    private let capacityPerShard: Int
    private let scheduler: any TransactionTimerScheduler
    private let timers: TransactionTimers
    private let liveCount = Atomic<Int>(0)
    /// Completed non-INVITE transactions expire together with the others of the same window:
    /// they live Timer J plus at most this. (If the timers run late, as on a stalled event loop,
    /// a window closes late too, and what completed in the delay lives that much less than
    /// Timer J: a retransmission after that is a new request.)
    public static let completionWindow: Duration = .milliseconds(50)

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
            if let response = shard.completed[key] { return (.retransmission(resend: response), .none) }
            guard shard.count < capacityPerShard else { return (.overloaded, .none) }
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
        enum Outcome {
            case noTransaction
            /// Moved to the lean table; `openedBatch`: the first of a new completion window.
            case completed(openedBatch: Bool)
            case stateful(ServerTransaction.Actions)
        }
        let index = shard(key)
        let outcome = shards[index].lock.withLock { shard -> Outcome in
            guard let i = shard.live.index(forKey: key) else { return .noTransaction }
            let actions = shard.live.values[i].transaction.handle(.respond(status: status, bytes: bytes))
            let t = shard.live.values[i].transaction
            guard t.kind == .nonInvite, t.state == .completed, let response = t.lastResponse else {
                shard.live.values[i].send = send
                return .stateful(actions)
            }
            // Nothing left but Timer J: into the lean table, expired with its window's batch.
            shard.live.remove(at: i)
            shard.completed[key] = response
            if shard.batchOpen {
                shard.batches[shard.batches.count - 1].append(key)
                return .completed(openedBatch: false)
            }
            shard.batches.append([key])
            shard.batchOpen = true
            return .completed(openedBatch: true)
        }
        switch outcome {
        case .noTransaction:
            send(bytes)  // no transaction (e.g. already timed out): still answer
        case .completed(let openedBatch):
            send(bytes)  // no reply path is kept: a retransmission's answer goes by its caller
            if openedBatch {
                let window = Self.completionWindow
                scheduler.schedule(after: window) { [weak self] in self?.closeBatch(shard: index) }
                scheduler.schedule(after: timers.timeout + window) { [weak self] in self?.expireOldestBatch(shard: index) }
            }
        case .stateful(let actions):
            apply(actions, key: key)
        }
    }

    private func closeBatch(shard index: Int) {
        shards[index].lock.withLock { $0.batchOpen = false }
    }

    /// Timer J of the oldest window's transactions (batches expire in the order they opened:
    /// every batch waits the same delay).
    private func expireOldestBatch(shard index: Int) {
        let expired = shards[index].lock.withLock { shard -> Int in
            guard !shard.batches.isEmpty else { return 0 }
            let batch = shard.batches.removeFirst()
            if shard.batches.isEmpty { shard.batchOpen = false }
            var removed = 0
            for key in batch where shard.completed.removeValue(forKey: key) != nil { removed += 1 }
            // After a burst, give the bucket storage back (a dictionary never shrinks by itself).
            if shard.completed.capacity > 4096, shard.completed.count * 8 < shard.completed.capacity {
                shard.completed = Dictionary(uniqueKeysWithValues: shard.completed.lazy.map { ($0.key, $0.value) })
            }
            return removed
        }
        if expired > 0 { liveCount.subtract(expired, ordering: .relaxed) }
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
