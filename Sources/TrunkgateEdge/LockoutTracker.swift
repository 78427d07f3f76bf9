public import Foundation
import Synchronization

/// Brute-force protection (SPEC §3): `maxFailures` failed credential checks from one source IP
/// within `window` lock that IP out for `duration`; while locked, every request from it gets
/// 403, even with correct credentials.
///
/// Per node, failures are counted in memory (sharded, bounded); a lockout, once decided, is
/// written to the store so that every node applies it (``LockoutSync``), and lockouts cleared
/// through the API are removed everywhere the same way.
public final class LockoutTracker: Sendable {
    public struct Policy: Sendable, Hashable {
        public var maxFailures: Int
        public var window: TimeInterval
        public var duration: TimeInterval

        public init(maxFailures: Int = 10, window: TimeInterval = 60, duration: TimeInterval = 60) {
            self.maxFailures = maxFailures
            self.window = window
            self.duration = duration
        }
    }

    public enum FailureOutcome: Sendable, Hashable {
        case counted(failures: Int)
        /// This failure locked the IP out until the given time.
        case lockedOut(until: Date, failures: Int)
    }

    private struct Entry {
        var failures: [Date] = []
        var lockedUntil: Date?
        /// Decided here and not yet written to the store: the store's view
        /// (``synchronize(active:now:)``) must not lift it before ``markStored(_:)``.
        var awaitingStore = false
    }

    private final class Shard: Sendable {
        let lock = Mutex<[String: Entry]>([:])
    }

    public let policy: Policy
    private let shards: [Shard]
    private let maxTrackedPerShard: Int

    public init(policy: Policy = Policy(), maxTrackedIPs: Int = 1_000_000, shardCount: Int = 16) {
        self.policy = policy
        self.shards = (0..<shardCount).map { _ in Shard() }
        self.maxTrackedPerShard = max(16, maxTrackedIPs / shardCount)
    }

    private func shard(_ ip: String) -> Shard {
        var h = Hasher()
        h.combine(ip)
        return shards[Int(UInt(bitPattern: h.finalize()) % UInt(shards.count))]
    }

    /// The end of the lockout, when `ip` is locked out at `now`.
    public func lockedUntil(_ ip: String, now: Date) -> Date? {
        shard(ip).lock.withLock { table in
            guard let until = table[ip]?.lockedUntil else { return nil }
            if until > now { return until }
            table[ip]?.lockedUntil = nil
            return nil
        }
    }

    /// Counts one failed credential check.
    public func recordFailure(_ ip: String, now: Date) -> FailureOutcome {
        shard(ip).lock.withLock { table in
            if table[ip] == nil, table.count >= maxTrackedPerShard {
                // Bounded memory: forget entries with no recent failure and no lockout.
                table = table.filter { _, e in e.lockedUntil.map { $0 > now } ?? false || e.failures.contains { now.timeIntervalSince($0) < policy.window } }
                if table.count >= maxTrackedPerShard, let victim = table.first(where: { $0.value.lockedUntil == nil })?.key {
                    table.removeValue(forKey: victim)
                }
            }
            var entry = table[ip] ?? Entry()
            entry.failures.removeAll { now.timeIntervalSince($0) >= policy.window }
            entry.failures.append(now)
            let count = entry.failures.count
            if count >= policy.maxFailures {
                let until = now.addingTimeInterval(policy.duration)
                entry.lockedUntil = until
                entry.awaitingStore = true
                entry.failures.removeAll()
                table[ip] = entry
                return .lockedOut(until: until, failures: count)
            }
            table[ip] = entry
            return .counted(failures: count)
        }
    }

    /// A success does not erase failures (an attacker could interleave good and bad attempts).
    /// Applies a lockout decided elsewhere (another node, via the store).
    public func apply(ip: String, until: Date) {
        shard(ip).lock.withLock { table in
            var entry = table[ip] ?? Entry()
            entry.lockedUntil = max(entry.lockedUntil ?? until, until)
            table[ip] = entry
        }
    }

    /// The lockout of `ip` decided here is now in the store (from then on the store's view rules).
    public func markStored(_ ip: String) {
        shard(ip).lock.withLock { table in table[ip]?.awaitingStore = false }
    }

    /// Clears an IP (the API's `DELETE lockouts/{ip}`).
    public func clear(_ ip: String) {
        shard(ip).lock.withLock { table in
            _ = table.removeValue(forKey: ip)
        }
    }

    /// Replaces the set of locked IPs with the store's view: IPs not in it are unlocked
    /// (cleared elsewhere), failure counts are kept.
    public func synchronize(active: [String: Date], now: Date) {
        for shard in shards {
            shard.lock.withLock { table in
                for (ip, entry) in table where entry.lockedUntil != nil && active[ip] == nil {
                    if entry.awaitingStore { continue }
                    table[ip]?.lockedUntil = nil
                }
            }
        }
        for (ip, until) in active where until > now { apply(ip: ip, until: until) }
    }
}
