import NIOCore
import Synchronization

/// Deals the messages of one read burst out over several event loops by a hash of their
/// Call-ID, so different calls use every core while each call's messages are handled in the
/// order they were read.
///
/// A burst smaller than `dealFrom` is handled where it was read (see
/// ``SIPTransportConfiguration/dealBurstsFrom``).
///
/// A loop runs its tasks in the order they were submitted, so two messages of one call dealt to
/// the same loop keep their order. What could break it is a later message handled where it was
/// read while an earlier one of its call still waits in another loop's queue. So while any
/// hand-off of this dispatcher is outstanding, a lone message is dealt by Call-ID too, and only
/// when none is does it take the cheap path (handled inline, no cross-thread wake-up).
final class CallOrderedDispatcher: Sendable {
    let workers: [any EventLoop]
    let dealFrom: Int
    private let outstanding = Atomic<Int>(0)

    init(workers: [any EventLoop], dealFrom: Int = 2) {
        self.workers = workers
        self.dealFrom = max(2, dealFrom)
    }

    /// Whether a burst of `count` messages read on this handler's loop must be dealt out.
    func mustDeal(count: Int) -> Bool {
        guard workers.count > 1, count > 0 else { return false }
        return count >= dealFrom || outstanding.load(ordering: .acquiring) > 0
    }

    /// Handles the items of one read burst, on `current` (the loop that read them): dealt out
    /// when ``mustDeal(count:)`` says so, otherwise all here, now, in order.
    ///
    /// `handleShare`, when given, handles another loop's whole share on that loop (so that the
    /// share can be answered through that loop's own socket); otherwise `handle` is called for
    /// each of its items there.
    func dispatch<Item: Sendable>(
        _ items: [Item], on current: any EventLoop, hash: (Item) -> UInt64,
        handle: @escaping @Sendable (Item) -> Void,
        handleShare: (@Sendable (_ share: [Item], _ loop: any EventLoop) -> Void)? = nil
    ) {
        if mustDeal(count: items.count) {
            deal(items, on: current, hash: hash, handle: handle, handleShare: handleShare)
        } else {
            for item in items { handle(item) }
        }
    }

    /// Hands each other loop its share in one task and handles this loop's share now, in order.
    private func deal<Item: Sendable>(
        _ items: [Item], on current: any EventLoop, hash: (Item) -> UInt64,
        handle: @escaping @Sendable (Item) -> Void,
        handleShare: (@Sendable ([Item], any EventLoop) -> Void)?
    ) {
        var shares = [[Item]](repeating: [], count: workers.count)
        for item in items {
            shares[Int(UInt(truncatingIfNeeded: hash(item)) % UInt(workers.count))].append(item)
        }
        var own: [Item] = []
        for (worker, share) in zip(workers, shares) where !share.isEmpty {
            if worker === current {
                own = share
            } else {
                outstanding.add(1, ordering: .relaxed)
                worker.execute { [self] in
                    if let handleShare {
                        handleShare(share, worker)
                    } else {
                        for item in share { handle(item) }
                    }
                    outstanding.subtract(1, ordering: .releasing)
                }
            }
        }
        for item in own { handle(item) }
    }
}
