import Foundation
import Synchronization
import Testing
import TrunkgateModel
@testable import TrunkgateEdge

@Suite struct BatchQueueTests {
    struct Stamp: Sendable, Hashable {
        var thread: Int
        var seq: Int
    }

    @Test func aQueueWithoutOrderKeepsOfferOrderAndItsBound() {
        let queue = BatchQueue<Int>(capacity: 3)
        #expect((1...5).map { queue.offer($0) } == [true, true, true, false, false])
        #expect(queue.count == 3)
        #expect(queue.droppedCount == 2)
        #expect(queue.drain() == [1, 2, 3])
        #expect(queue.count == 0)
        #expect(queue.offer(6))
        #expect(queue.drain() == [6])
        #expect(queue.drain().isEmpty)
    }

    @Test func runsAreMergedInOrderAndStably() {
        var runs = [[Stamp(thread: 0, seq: 1), Stamp(thread: 0, seq: 4), Stamp(thread: 0, seq: 4)],
                    [Stamp(thread: 1, seq: 2), Stamp(thread: 1, seq: 4)],
                    [Stamp(thread: 2, seq: 0), Stamp(thread: 2, seq: 9)]]
        let merged = BatchQueue<Stamp>.merge(&runs, key: { Double($0.seq) })
        #expect(merged.map(\.seq) == [0, 1, 2, 4, 4, 4, 9])
        // Equal keys keep the runs' order: run 0's two 4s, then run 1's.
        #expect(merged[3...5].map(\.thread) == [0, 0, 1])
        #expect(runs.allSatisfy { $0.isEmpty }, "the items were moved out of the runs")
    }

    /// Threads offering at once into a sharded queue (the thread primitives themselves are
    /// tested in SIPMessageTests' ThreadShardsTests): every item comes out once, each offerer's
    /// items in the order it offered them.
    @Test func aShardedQueueLosesNothingAndKeepsEachThreadsOrder() {
        let queue = BatchQueue<Stamp>(capacity: 100_000, mergedBy: { Double($0.seq) })
        let drained = Mutex<[Stamp]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { thread in
            for seq in 0..<5_000 {
                queue.offer(Stamp(thread: thread, seq: seq))
                if seq % 1_000 == 999 { drained.withLock { $0 += queue.drain() } }
            }
        }
        let all = drained.withLock { $0 } + queue.drain()
        #expect(all.count == 30_000)
        #expect(Set(all).count == 30_000)
        for thread in 0..<6 {
            let mine = all.filter { $0.thread == thread }.map(\.seq)
            #expect(mine == Array(0..<5_000), "thread \(thread)'s items out of order")
        }
        #expect(queue.count == 0)
        #expect(queue.droppedCount == 0)
    }

    @Test func aShardedQueueBoundsAllThreadsTogether() {
        let queue = BatchQueue<Stamp>(capacity: 1_000, mergedBy: { Double($0.seq) })
        let accepted = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for seq in 0..<500 where queue.offer(Stamp(thread: thread, seq: seq)) { accepted.add(1, ordering: .relaxed) }
        }
        #expect(accepted.load(ordering: .relaxed) == 1_000)
        #expect(queue.count == 1_000)
        #expect(queue.droppedCount == 3_000)
        #expect(queue.drain().count == 1_000)
        #expect(queue.offer(Stamp(thread: 0, seq: 0)), "room again after the drain")
    }

    /// concurrentPerform may run several iterations on one thread, in any order (it did on a
    /// loaded CI machine: thread 2's uses were stored after thread 3's), so the latest use is
    /// the latest by time, not the last stored.
    @Test func credentialUseKeepsTheLatestUseAcrossThreads() {
        let recorder = CredentialUseRecorder()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for k in 0..<100 {
                recorder.record(credentialSid: "CR\(k % 3)", at: Date(timeIntervalSince1970: Double(thread * 1_000 + k)), ip: "127.0.0.\(thread + 1)")
            }
        }
        let uses = recorder.drain().sorted { $0.credentialSid < $1.credentialSid }
        #expect(uses.map(\.credentialSid) == ["CR0", "CR1", "CR2"])
        // The latest of each is thread 3's last use of it: k = 99, 97, 98.
        #expect(uses.map(\.at.timeIntervalSince1970) == [3_099, 3_097, 3_098])
        #expect(uses.allSatisfy { $0.ip == "127.0.0.4" })
        #expect(recorder.drain().isEmpty)
    }

    /// On one thread: an earlier use stored after a later one does not replace it.
    @Test func anEarlierUseStoredLaterDoesNotWin() {
        let recorder = CredentialUseRecorder()
        recorder.record(credentialSid: "CR1", at: Date(timeIntervalSince1970: 200), ip: "127.0.0.2")
        recorder.record(credentialSid: "CR1", at: Date(timeIntervalSince1970: 100), ip: "127.0.0.3")
        recorder.record(credentialSid: "CR2", at: Date(timeIntervalSince1970: 100), ip: "127.0.0.3")
        recorder.record(credentialSid: "CR2", at: Date(timeIntervalSince1970: 300), ip: "127.0.0.4")
        let uses = recorder.drain().sorted { $0.credentialSid < $1.credentialSid }
        #expect(uses.map(\.at.timeIntervalSince1970) == [200, 300])
        #expect(uses.map(\.ip) == ["127.0.0.2", "127.0.0.4"])
    }
}
