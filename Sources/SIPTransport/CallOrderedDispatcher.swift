import NIOCore
import Synchronization

/// Deals the messages of one read burst out over several event loops by a hash of their
/// Call-ID, so different calls use every core while each call's messages are handled in the
/// order they were read.
///
/// A burst of at least `dealFrom` messages is dealt out (see
/// ``SIPTransportConfiguration/dealBurstsFrom``); a smaller one is handled where it was read.
///
/// A loop runs its tasks in the order they were submitted, so two messages of one call dealt to
/// the same loop keep their order. What could break it is a later message handled where it was
/// read while an earlier one of its call still waits in another loop's queue. So the dispatcher
/// counts the messages it has handed off and not yet seen handled, per bucket of Call-ID
/// hashes; a message of a smaller burst whose bucket has one outstanding follows it to that
/// loop, and every other message is handled inline (no cross-thread wake-up). Counting per
/// call, not in total, keeps one hand-off from dragging every later burst after it while the
/// other loop is busy.
final class CallOrderedDispatcher: Sendable {
    let workers: [any EventLoop]
    let dealFrom: Int
    /// Hand-offs outstanding, in total: while it is 0 no bucket needs reading.
    private let outstanding = Atomic<Int>(0)
    /// Messages handed off and not yet handled, by ``bucket(_:)``.
    private let pending = Mutex<[Int32]>(Array(repeating: 0, count: CallOrderedDispatcher.bucketCount))

    static let bucketCount = 256

    init(workers: [any EventLoop], dealFrom: Int = 2) {
        self.workers = workers
        self.dealFrom = max(2, dealFrom)
    }

    /// The loop a message with this hash is dealt to.
    private func worker(_ hash: UInt64) -> Int {
        Int(UInt(truncatingIfNeeded: hash) % UInt(workers.count))
    }

    /// The high bits: independent of ``worker(_:)``'s choice from the low ones.
    private static func bucket(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: hash >> 56)
    }

    /// Whether messages of the call with this hash have been handed off and not yet handled
    /// (or of another call sharing its bucket).
    func isPending(hash: UInt64) -> Bool {
        guard outstanding.load(ordering: .acquiring) > 0 else { return false }
        return pending.withLock { $0[Self.bucket(hash)] > 0 }
    }

    /// Handles the items of one read burst, on `current` (the loop that read them): a burst of
    /// `dealFrom` or more is dealt out; otherwise each item is handled here, now, in order,
    /// except those whose call has a hand-off outstanding, which follow it.
    ///
    /// `handleShare`, when given, handles another loop's whole share on that loop (so that the
    /// share can be answered through that loop's own socket); otherwise `handle` is called for
    /// each of its items there.
    func dispatch<Item: Sendable>(
        _ items: [Item], on current: any EventLoop, hash: (Item) -> UInt64,
        handle: @escaping @Sendable (Item) -> Void,
        handleShare: (@Sendable (_ share: [Item], _ loop: any EventLoop) -> Void)? = nil
    ) {
        guard workers.count > 1, !items.isEmpty else {
            for item in items { handle(item) }
            return
        }
        if items.count >= dealFrom {
            deal(items, on: current, hash: hash, all: true, handle: handle, handleShare: handleShare)
        } else if outstanding.load(ordering: .acquiring) == 0 {
            for item in items { handle(item) }
        } else {
            deal(items, on: current, hash: hash, all: false, handle: handle, handleShare: handleShare)
        }
    }

    /// Hands each other loop its share in one task and handles the rest now, in order. With
    /// `all`, every item goes to the loop its hash picks; otherwise only those whose bucket has
    /// a hand-off outstanding.
    private func deal<Item: Sendable>(
        _ items: [Item], on current: any EventLoop, hash: (Item) -> UInt64, all: Bool,
        handle: @escaping @Sendable (Item) -> Void,
        handleShare: (@Sendable ([Item], any EventLoop) -> Void)?
    ) {
        let here = workers.firstIndex { $0 === current }
        var shares = [[Item]](repeating: [], count: workers.count)
        var own: [Item] = []
        var dealtBuckets: [[Int]] = Array(repeating: [], count: workers.count)
        pending.withLock { pending in
            for item in items {
                let h = hash(item)
                let w = worker(h)
                if w == here || (!all && pending[Self.bucket(h)] == 0) {
                    own.append(item)
                } else {
                    shares[w].append(item)
                    dealtBuckets[w].append(Self.bucket(h))
                    pending[Self.bucket(h)] += 1
                }
            }
        }
        for (index, share) in shares.enumerated() where !share.isEmpty {
            let worker = workers[index]
            let buckets = dealtBuckets[index]
            outstanding.add(1, ordering: .relaxed)
            worker.execute { [self] in
                if let handleShare {
                    handleShare(share, worker)
                } else {
                    for item in share { handle(item) }
                }
                pending.withLock { pending in
                    for b in buckets { pending[b] -= 1 }
                }
                outstanding.subtract(1, ordering: .releasing)
            }
        }
        for item in own { handle(item) }
    }
}
