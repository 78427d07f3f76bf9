import Synchronization

/// The per-node ``NonceCountStore``: for each nonce a highest-`nc` plus 64-bit window, in a
/// bounded number of entries.
///
/// **Guarantee.** On this node, a `(nonce, nc)` pair is accepted at most once, under any load:
///
/// * While a nonce has an entry, each `nc` within 64 of the highest seen is accepted once;
///   lower ones are refused as replayed.
/// * Entries are dropped only when the nonce expires or, when the shard is full, oldest first.
///   Each shard keeps a watermark: the latest issue time of any nonce it dropped. A nonce without
///   an entry issued no later than the watermark is answered ``NonceCountVerdict/forgotten``
///   (refused as stale; the client retries with a fresh nonce at once), so dropping an entry can
///   cost a client one round trip but can never let a replay through.
///
/// Memory is bounded by `capacity` entries (about 100 bytes each) whatever the traffic. Work per
/// call is O(1) amortised: at most a few expired entries are purged per call.
///
/// **Not guaranteed:** a replay sent to *another* node is not seen here. Nonces bound to the
/// source IP (``NonceBinding/sourceIP``) confine such a replay to the original address and to the
/// nonce lifetime; a cluster-wide guarantee needs a shared ``NonceCountStore``.
public final class SlidingWindowNonceCountStore: NonceCountStore {
    private struct Entry {
        var window: NonceCountWindow
        let issuedAt: Int64
        let expiresAt: Int64
    }

    /// A nonce in arrival order with its expiry, so purging needs no lookup.
    private struct Queued {
        let identity: NonceIdentity
        let expiresAt: Int64
    }

    private struct Shard {
        var entries: [NonceIdentity: Entry] = [:]
        var order: FIFORing<Queued>
        /// Latest issue time of a nonce this shard dropped (expired or evicted).
        var watermark = Int64.min

        init(capacity: Int) {
            order = FIFORing(capacity: capacity)
        }

        mutating func drop(_ identity: NonceIdentity) {
            if let entry = entries.removeValue(forKey: identity) {
                watermark = max(watermark, entry.issuedAt)
            }
        }
    }

    private final class LockedShard: Sendable {
        let state: Mutex<Shard>

        init(capacity: Int) {
            state = Mutex(Shard(capacity: capacity))
        }
    }

    /// Expired entries purged per call at most, so no call does unbounded work.
    private static let purgeBatch = 4

    public let capacity: Int
    private let shards: [LockedShard]

    /// - Parameters:
    ///   - capacity: maximum number of nonces remembered (split evenly over the shards).
    ///   - shardCount: independent locks, so concurrent requests rarely wait for each other.
    public init(capacity: Int = 262_144, shardCount: Int = 16) {
        let shardCount = max(1, min(shardCount, capacity))
        let perShard = max(1, capacity / shardCount)
        self.capacity = perShard * shardCount
        self.shards = (0..<shardCount).map { _ in LockedShard(capacity: perShard) }
    }

    /// Nonces currently remembered (for metrics and tests); never more than ``capacity``.
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.state.withLock { $0.entries.count } }
    }

    public func use(count: UInt32, of nonce: NonceIdentity, issuedAt: Int64, expiresAt: Int64, now: Int64) -> NonceCountVerdict {
        let shard = shards[Int(nonce.low % UInt64(shards.count))]
        return shard.state.withLock { state in
            for _ in 0..<Self.purgeBatch {
                guard let oldest = state.order.first, oldest.expiresAt <= now else { break }
                _ = state.order.removeFirst()
                state.drop(oldest.identity)
            }
            // One hash of the identity: the window is updated in place.
            if let index = state.entries.index(forKey: nonce) {
                return state.entries.values[index].window.record(count) ? .accepted : .replayed
            }
            guard issuedAt > state.watermark else { return .forgotten }
            if state.order.isFull, let evicted = state.order.removeFirst() {
                state.drop(evicted.identity)
            }
            state.order.append(Queued(identity: nonce, expiresAt: expiresAt))
            state.entries[nonce] = Entry(window: NonceCountWindow(first: count), issuedAt: issuedAt, expiresAt: expiresAt)
            return .accepted
        }
    }
}
