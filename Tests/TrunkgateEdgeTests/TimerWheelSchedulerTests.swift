import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import TrunkgateEdge

@Suite struct TimerWheelSchedulerTests {
    final class Fired: Sendable {
        let log = Mutex<[(Int, ContinuousClock.Instant)]>([])
        func add(_ id: Int) { log.withLock { $0.append((id, .now)) } }
        var ids: [Int] { log.withLock { $0.map(\.0) } }
        func at(_ id: Int) -> ContinuousClock.Instant? { log.withLock { $0.first { $0.0 == id }?.1 } }
    }

    @Test func timersFireInOrderNeverEarlyAndEachOnce() async throws {
        let wheel = TimerWheelScheduler(loop: MultiThreadedEventLoopGroup.singleton.next(), tick: .milliseconds(10), horizon: .seconds(2))
        defer { wheel.shutdown() }
        let fired = Fired()
        let start = ContinuousClock.now
        let delays = [300, 50, 0, 150, 2500]  // the last is beyond the horizon: fires at the horizon
        for (id, ms) in delays.enumerated() {
            wheel.schedule(after: .milliseconds(ms)) { fired.add(id) }
        }
        for _ in 0..<400 where fired.ids.count < delays.count { try await Task.sleep(for: .milliseconds(10)) }
        #expect(fired.ids == [2, 1, 3, 0, 4])
        for (id, ms) in delays.enumerated() where ms <= 2000 {
            let elapsed = try #require(fired.at(id)) - start
            #expect(elapsed >= .milliseconds(ms), "timer \(id) fired early: \(elapsed)")
        }
        // Nothing fires twice.
        try await Task.sleep(for: .milliseconds(100))
        #expect(fired.ids.count == delays.count)
    }

    @Test func manySchedulersOfManyThreadsAllFire() async throws {
        let wheel = TimerWheelScheduler(loop: MultiThreadedEventLoopGroup.singleton.next())
        defer { wheel.shutdown() }
        final class Counter: Sendable { let value = Atomic<Int>(0) }
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask {
                    for i in 0..<2_500 { wheel.schedule(after: .milliseconds((i + t) % 200)) { counter.value.add(1, ordering: .relaxed) } }
                }
            }
        }
        for _ in 0..<300 where counter.value.load(ordering: .relaxed) < 10_000 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(counter.value.load(ordering: .relaxed) == 10_000)
    }
}
