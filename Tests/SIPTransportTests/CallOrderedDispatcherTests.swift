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
    /// must not overtake it: it follows it to that loop instead of being handled where it was
    /// read. A message of another call, with nothing outstanding, is handled inline even when
    /// its hash picks the busy loop.
    @Test func aLoneMessageWaitsBehindItsCallsEarlierHandOff() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let dispatcher = CallOrderedDispatcher(workers: loops)
        let handled = Mutex<[(name: String, loop: Int)]>([])
        let record: @Sendable (Item) -> Void = { item in
            let loop = loops.firstIndex { $0.inEventLoop } ?? -1
            handled.withLock { $0.append((item.name, loop)) }
        }
        // Calls "a" and "c" hash to loop 1, "b" to loop 0; "c" is in another bucket than "a".
        let a: UInt64 = 1, b: UInt64 = 0, c: UInt64 = 1 | 7 << 56
        #expect(!dispatcher.isPending(hash: a), "nothing outstanding")

        let gate = DispatchSemaphore(value: 0)
        loops[1].execute { gate.wait() }  // loop 1 is busy
        let pendingAfterBurst = try await loops[0].submit {
            dispatcher.dispatch([Item(name: "a1", hash: a), Item(name: "b1", hash: b)], on: loops[0], hash: \.hash, handle: record)
            // "a1" now waits in loop 1's queue; "a2", "b2" and "c1" arrive alone.
            let pending = (dispatcher.isPending(hash: a), dispatcher.isPending(hash: c))
            dispatcher.dispatch([Item(name: "a2", hash: a)], on: loops[0], hash: \.hash, handle: record)
            dispatcher.dispatch([Item(name: "b2", hash: b)], on: loops[0], hash: \.hash, handle: record)
            dispatcher.dispatch([Item(name: "c1", hash: c)], on: loops[0], hash: \.hash, handle: record)
            return pending
        }.get()
        #expect(pendingAfterBurst.0, "a hand-off of call a is outstanding")
        #expect(!pendingAfterBurst.1, "none of call c")
        #expect(handled.withLock { $0.map(\.name) } == ["b1", "b2", "c1"], "loop 0's own share and call c ran at once")
        gate.signal()

        for _ in 0..<500 where handled.withLock({ $0.count }) < 5 { try await Task.sleep(for: .milliseconds(10)) }
        let all = handled.withLock { $0 }
        #expect(all.map(\.name) == ["b1", "b2", "c1", "a1", "a2"])
        #expect(all.filter { $0.name.hasPrefix("a") }.allSatisfy { $0.loop == 1 })
        #expect(all.filter { !$0.name.hasPrefix("a") }.allSatisfy { $0.loop == 0 })
        // Once the hand-offs have run, nothing is pending any more.
        var settled = false
        for _ in 0..<500 {
            settled = !dispatcher.isPending(hash: a)
            if settled { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(settled)
        try await group.shutdownGracefully()
    }

    /// A burst smaller than `dealFrom`, with nothing outstanding, is handled inline, whatever
    /// loops its hashes pick; a burst of `dealFrom` is dealt out.
    @Test func onlyABurstOfDealFromIsDealtOut() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let dispatcher = CallOrderedDispatcher(workers: loops, dealFrom: 4)
        let handled = Mutex<[(name: String, loop: Int)]>([])
        let record: @Sendable (Item) -> Void = { item in
            let loop = loops.firstIndex { $0.inEventLoop } ?? -1
            handled.withLock { $0.append((item.name, loop)) }
        }
        let small = (0..<3).map { Item(name: "s\($0)", hash: UInt64($0)) }
        let big = (0..<4).map { Item(name: "b\($0)", hash: UInt64($0)) }
        try await loops[0].submit { dispatcher.dispatch(small, on: loops[0], hash: \.hash, handle: record) }.get()
        #expect(handled.withLock { $0.map(\.loop) } == [0, 0, 0])
        try await loops[0].submit { dispatcher.dispatch(big, on: loops[0], hash: \.hash, handle: record) }.get()
        for _ in 0..<500 where handled.withLock({ $0.count }) < 7 { try await Task.sleep(for: .milliseconds(10)) }
        let dealt = handled.withLock { $0.filter { $0.name.hasPrefix("b") } }
        #expect(Dictionary(uniqueKeysWithValues: dealt.map { ($0.name, $0.loop) }) == ["b0": 0, "b1": 1, "b2": 0, "b3": 1])
        try await group.shutdownGracefully()
    }

    @Test func oneLoopNeverDeals() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        for workers in [[loop], []] {
            let dispatcher = CallOrderedDispatcher(workers: workers)
            let handled = Mutex<[String]>([])
            let items = (0..<10).map { Item(name: "m\($0)", hash: UInt64($0)) }
            try loop.submit {
                dispatcher.dispatch(items, on: loop, hash: \.hash) { item in handled.withLock { $0.append(item.name) } }
            }.wait()
            #expect(handled.withLock { $0 } == items.map(\.name), "all inline, in order")
            #expect(!dispatcher.isPending(hash: 1))
        }
    }
}
