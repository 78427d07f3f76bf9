import Dispatch
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import SIPTransport

@Suite struct CallOrderedDispatcherTests {
    struct Item: Sendable {
        var name: String
        var hash: UInt64
    }

    /// A message read alone while an earlier message of its call still waits on another loop
    /// must not overtake it: it is dealt behind it instead of being handled where it was read.
    @Test func aLoneMessageWaitsBehindItsCallsEarlierHandOff() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let dispatcher = CallOrderedDispatcher(workers: loops)
        let handled = Mutex<[(name: String, loop: Int)]>([])
        let record: @Sendable (Item) -> Void = { item in
            let loop = loops.firstIndex { $0.inEventLoop } ?? -1
            handled.withLock { $0.append((item.name, loop)) }
        }
        #expect(!dispatcher.mustDeal(count: 1), "nothing outstanding: a lone message stays inline")

        let gate = DispatchSemaphore(value: 0)
        loops[1].execute { gate.wait() }  // loop 1 is busy
        let outstandingAfterBurst = try await loops[0].submit {
            // Call "a" hashes to loop 1, call "b" to loop 0.
            dispatcher.dispatch([Item(name: "a1", hash: 1), Item(name: "b1", hash: 0)], on: loops[0], hash: \.hash, handle: record)
            // "a1" now waits in loop 1's queue; "a2" and "b2" arrive alone.
            let outstanding = dispatcher.mustDeal(count: 1)
            dispatcher.dispatch([Item(name: "a2", hash: 1)], on: loops[0], hash: \.hash, handle: record)
            dispatcher.dispatch([Item(name: "b2", hash: 0)], on: loops[0], hash: \.hash, handle: record)
            return outstanding
        }.get()
        #expect(outstandingAfterBurst, "a hand-off is outstanding")
        #expect(handled.withLock { $0.map(\.name) } == ["b1", "b2"], "loop 0's own share ran at once")
        gate.signal()

        for _ in 0..<500 where handled.withLock({ $0.count }) < 4 { try await Task.sleep(for: .milliseconds(10)) }
        let all = handled.withLock { $0 }
        #expect(all.map(\.name) == ["b1", "b2", "a1", "a2"])
        #expect(all.filter { $0.name.hasPrefix("a") }.allSatisfy { $0.loop == 1 })
        // Once the hand-offs have run, a lone message takes the inline path again.
        var settled = false
        for _ in 0..<500 {
            settled = try await loops[0].submit { !dispatcher.mustDeal(count: 1) }.get()
            if settled { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(settled)
        try await group.shutdownGracefully()
    }

    @Test func oneLoopNeverDeals() {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let dispatcher = CallOrderedDispatcher(workers: Array(group.makeIterator()))
        #expect(!dispatcher.mustDeal(count: 10))
        #expect(!CallOrderedDispatcher(workers: []).mustDeal(count: 10))
    }
}
