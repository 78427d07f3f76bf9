public import NIOCore
public import SIPTransaction

/// Runs transaction timers on the event loops (spread round-robin by `next()`), so a timer
/// costs one scheduled task and no thread of its own.
public struct EventLoopTimerScheduler: TransactionTimerScheduler {
    public let group: any EventLoopGroup

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    public func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        group.any().scheduleTask(in: .nanoseconds(nanoseconds)) { body() }
    }
}
