public import TrunkgateModel
import Synchronization

/// Holds the current configuration snapshot. The hot path takes a reference to the whole
/// immutable value (one short lock, no copying of its contents); the sync service swaps in a
/// new value when the store changes.
public final class EdgeConfigurationCell: Sendable {
    private let value: Mutex<EdgeConfiguration>

    public init(_ initial: EdgeConfiguration = .empty) {
        value = Mutex(initial)
    }

    public var current: EdgeConfiguration { value.withLock { $0 } }

    public func replace(_ next: EdgeConfiguration) { value.withLock { $0 = next } }

    /// Applies a change to a copy of the current value and installs it.
    public func update(_ body: (inout EdgeConfiguration) -> Void) {
        var next = current
        body(&next)
        replace(next)
    }
}
