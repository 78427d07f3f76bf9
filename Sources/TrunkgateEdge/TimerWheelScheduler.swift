public import NIOCore
public import SIPTransaction
import Synchronization

/// Transaction timers on a hashed timer wheel: scheduling is an append under a short lock,
/// and one repeating task per wheel fires what is due. At thousands of transactions per
/// second each holding a 32 s Timer J, one NIO scheduled task per timer meant a priority
/// queue of ~100,000 entries on the event loop (heap upkeep and task copies were a fifth of
/// the edge's CPU in a profile); SIP timers need no better than `tick` precision.
public final class TimerWheelScheduler: TransactionTimerScheduler, Sendable {
    private struct Wheel {
        var slots: [[@Sendable () -> Void]]
        /// The next tick to fire.
        var cursor: UInt64 = 0
    }

    public let tick: Duration
    private let tickNanoseconds: UInt64
    private let slotCount: Int
    private let origin: NIODeadline
    private let wheel: Mutex<Wheel>
    private let driver: Mutex<RepeatedTask?> = Mutex(nil)

    /// - Parameters:
    ///   - horizon: the longest delay scheduled (longer ones fire at the horizon).
    public init(loop: any EventLoop, tick: Duration = .milliseconds(10), horizon: Duration = .seconds(90)) {
        self.tick = tick
        let t = UInt64(tick.components.seconds) * 1_000_000_000 + UInt64(tick.components.attoseconds / 1_000_000_000)
        tickNanoseconds = max(1_000_000, t)
        let h = UInt64(horizon.components.seconds) * 1_000_000_000
        slotCount = Int(h / tickNanoseconds) + 2
        origin = .now()
        wheel = Mutex(Wheel(slots: Array(repeating: [], count: slotCount)))
        let task = loop.scheduleRepeatedTask(initialDelay: .nanoseconds(Int64(tickNanoseconds)), delay: .nanoseconds(Int64(tickNanoseconds))) { [weak self] _ in
            self?.advance()
        }
        driver.withLock { $0 = task }
    }

    deinit {
        driver.withLock { $0?.cancel() }
    }

    /// Stops the driver; pending timers never fire.
    public func shutdown() {
        driver.withLock { $0?.cancel(); $0 = nil }
    }

    private func elapsedNanoseconds() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds &- origin.uptimeNanoseconds
    }

    private func currentTick() -> UInt64 {
        elapsedNanoseconds() / tickNanoseconds
    }

    public func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        let nanoseconds = UInt64(max(0, delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000))
        let elapsed = elapsedNanoseconds()
        let now = elapsed / tickNanoseconds
        // The first tick that starts at or after the deadline: never early (counting whole ticks
        // from the current one would fire up to a tick early), at most a tick late.
        let deadline = (elapsed + nanoseconds + tickNanoseconds - 1) / tickNanoseconds
        let target = min(max(deadline, now &+ 1), now &+ UInt64(slotCount - 1))
        wheel.withLock { w in
            // Never into a slot the driver has already passed.
            let due = max(target, w.cursor)
            w.slots[Int(due % UInt64(slotCount))].append(body)
        }
    }

    /// Fires every slot up to the current tick.
    private func advance() {
        let now = currentTick()
        var due: [@Sendable () -> Void] = []
        wheel.withLock { w in
            // A stalled loop catches up without spinning over more than one revolution.
            if now &- w.cursor > UInt64(slotCount) { w.cursor = now &- UInt64(slotCount) }
            while w.cursor <= now {
                let index = Int(w.cursor % UInt64(slotCount))
                if !w.slots[index].isEmpty {
                    due.append(contentsOf: w.slots[index])
                    w.slots[index].removeAll(keepingCapacity: true)
                }
                w.cursor &+= 1
            }
        }
        for body in due { body() }
    }
}
