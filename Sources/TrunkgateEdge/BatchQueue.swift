import SIPMessage
import Synchronization

/// A bounded buffer between the SIP hot path and a background writer: `offer` never blocks
/// and never waits for I/O; when full, items are dropped and counted.
///
/// A queue that every request feeds (auth events) is made with `mergedBy`: each thread then
/// appends to a shard of its own (``ThreadShards``), so that the event loops do not contend
/// for one lock, and ``drain()`` merges the shards' runs by that key (a time). Without `mergedBy` there
/// is one shard, and items come out exactly in the order they were offered (the registrar's
/// writes depend on it).
public final class BatchQueue<Item: Sendable>: Sendable {
    private struct State: Sendable {
        var items: [Item] = []
        var dropped = 0
    }

    private let shards: ThreadShards<State>
    /// Items held in all shards, for the bound; a relaxed counter, not a lock.
    private let queued = Atomic<Int>(0)
    private let key: (@Sendable (Item) -> Double)?
    public let capacity: Int

    /// - Parameter key: when set, per-thread shards merged in ascending order of it (each
    ///   shard's items are in that order already, e.g. their time).
    public init(capacity: Int, mergedBy key: (@Sendable (Item) -> Double)? = nil) {
        self.capacity = capacity
        self.key = key
        shards = ThreadShards(count: key == nil ? 1 : ThreadShards<State>.defaultCount) { State() }
    }

    /// False when the queue was full and the item dropped.
    @discardableResult
    public func offer(_ item: Item) -> Bool {
        guard queued.wrappingAdd(1, ordering: .relaxed).oldValue < capacity else {
            _ = queued.wrappingSubtract(1, ordering: .relaxed)
            shards.withCurrent { $0.dropped += 1 }
            return false
        }
        shards.withCurrent { $0.items.append(item) }
        return true
    }

    /// Takes everything queued.
    public func drain() -> [Item] {
        var runs: [[Item]] = []
        // Each run taken whole (the shard keeps an empty array of the same capacity).
        shards.forEach { s in
            guard !s.items.isEmpty else { return }
            runs.append(s.items)
            s.items.removeAll(keepingCapacity: true)
        }
        _ = queued.wrappingSubtract(runs.reduce(0) { $0 + $1.count }, ordering: .relaxed)
        guard runs.count > 1, let key else { return runs.first ?? [] }
        return Self.merge(&runs, key: key)
    }

    /// The runs interleaved in ascending order of `key`, ties in the order of the runs (a k-way
    /// merge; k is the number of shards in use, a handful). It takes the items from the runs'
    /// ends and reverses the result: moved, not copied (an auth event is a dozen strings, and
    /// a copy retains and later releases each).
    static func merge(_ runs: inout [[Item]], key: (Item) -> Double) -> [Item] {
        // Keys read in place, by index, so that no item is copied out to compute its key.
        var keys: [[Double]] = []
        keys.reserveCapacity(runs.count)
        for r in runs.indices {
            var k: [Double] = []
            k.reserveCapacity(runs[r].count)
            for i in runs[r].indices { k.append(key(runs[r][i])) }
            keys.append(k)
        }
        var out: [Item] = []
        out.reserveCapacity(runs.reduce(0) { $0 + $1.count })
        while true {
            // The greatest last key; on a tie the later run, whose items come after.
            var pick = -1
            for r in runs.indices where !keys[r].isEmpty {
                if pick < 0 || keys[r][keys[r].count - 1] >= keys[pick][keys[pick].count - 1] { pick = r }
            }
            guard pick >= 0 else { break }
            keys[pick].removeLast()
            out.append(runs[pick].removeLast())
        }
        out.reverse()
        return out
    }

    public var droppedCount: Int {
        var dropped = 0
        shards.forEach { dropped += $0.dropped }
        return dropped
    }

    public var count: Int { queued.load(ordering: .relaxed) }
}
