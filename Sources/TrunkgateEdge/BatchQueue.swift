import Synchronization

/// A bounded buffer between the SIP hot path and a background writer: `offer` never blocks
/// and never waits for I/O; when full, items are dropped and counted.
public final class BatchQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var dropped = 0
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// False when the queue was full and the item dropped.
    @discardableResult
    public func offer(_ item: Item) -> Bool {
        state.withLock { s in
            guard s.items.count < capacity else {
                s.dropped += 1
                return false
            }
            s.items.append(item)
            return true
        }
    }

    /// Takes everything queued.
    public func drain() -> [Item] {
        state.withLock { s in
            let out = s.items
            s.items.removeAll(keepingCapacity: true)
            return out
        }
    }

    public var droppedCount: Int { state.withLock { $0.dropped } }
    public var count: Int { state.withLock { $0.items.count } }
}
