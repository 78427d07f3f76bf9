import Foundation
import Synchronization

/// In-memory token bucket per API key: `perMinute` tokens of capacity, refilled continuously at
/// `perMinute` per 60 s. A request takes one token; with none left the answer is 429 and
/// `Retry-After` says in how many whole seconds the next token arrives.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let capacity: Double
    private let perSecond: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock = ContinuousClock()

    init(perMinute: Int) {
        capacity = Double(max(1, perMinute))
        perSecond = Double(max(1, perMinute)) / 60
    }

    /// nil when allowed; otherwise the seconds to wait.
    func take(_ key: String) -> Int? {
        let now = clock.now
        return buckets.withLock { buckets -> Int? in
            if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }
            var b = buckets[key] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = now - b.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            b.tokens = min(capacity, b.tokens + seconds * perSecond)
            b.updated = now
            defer { buckets[key] = b }
            if b.tokens >= 1 {
                b.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - b.tokens) / perSecond).rounded(.up)))
        }
    }
}
