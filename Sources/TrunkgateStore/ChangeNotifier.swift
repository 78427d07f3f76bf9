import Foundation
import Synchronization

/// Fans committed configuration versions out to every `configChangeNotifications()` stream.
/// Each stream keeps only the newest undelivered version (consumers reload from
/// `configChanges(after:)`, so coalescing loses nothing). Versions never go backwards: a
/// version no greater than the last one published is dropped.
final class ChangeNotifier: Sendable {
    private struct State {
        var nextID = 0
        var continuations: [Int: AsyncStream<Int64>.Continuation] = [:]
        var lastPublished: Int64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    func stream() -> AsyncStream<Int64> {
        let (stream, continuation) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock { s in
            guard !s.closed else { return nil }
            let id = s.nextID
            s.nextID += 1
            s.continuations[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    /// Publishes `version` when it is newer than anything published before.
    func publish(_ version: Int64) {
        let targets: [AsyncStream<Int64>.Continuation] = state.withLock { s in
            guard !s.closed, version > s.lastPublished else { return [] }
            s.lastPublished = version
            return Array(s.continuations.values)
        }
        for c in targets { c.yield(version) }
    }

    /// Seeds the high-water mark without waking anyone (e.g. the version found at open).
    func seed(_ version: Int64) {
        state.withLock { s in s.lastPublished = max(s.lastPublished, version) }
    }

    var lastPublished: Int64 { state.withLock { $0.lastPublished } }

    func finishAll() {
        let targets: [AsyncStream<Int64>.Continuation] = state.withLock { s in
            s.closed = true
            defer { s.continuations.removeAll() }
            return Array(s.continuations.values)
        }
        for c in targets { c.finish() }
    }
}
