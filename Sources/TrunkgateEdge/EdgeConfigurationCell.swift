public import TrunkgateModel
import SIPMessage

/// Holds the current configuration snapshot. The hot path takes a reference to the whole
/// immutable value from its thread's copy (``ReadMostly``: no lock shared between the event
/// loops, no copying of the contents); the sync service swaps in a new value when the store
/// changes.
public final class EdgeConfigurationCell: Sendable {
    private let value: ReadMostly<EdgeConfiguration>

    public init(_ initial: EdgeConfiguration = .empty) {
        value = ReadMostly(initial)
    }

    public var current: EdgeConfiguration { value.value }

    public func replace(_ next: EdgeConfiguration) { value.replace(next) }

    /// Applies a change to the current value and installs the result.
    public func update(_ body: (inout EdgeConfiguration) -> Void) {
        value.update(body)
    }
}
