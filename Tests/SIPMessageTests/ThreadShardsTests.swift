import Foundation
import SIPMessage
import Synchronization
import Testing

/// Runs `body(i)` on `count` OS threads of their own at once and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    let start = DispatchSemaphore(value: 0)
    for i in 0..<count {
        Thread {
            start.wait()
            body(i)
            done.signal()
        }.start()
    }
    for _ in 0..<count { start.signal() }
    for _ in 0..<count { done.wait() }
}

@Suite struct ThreadShardsTests {
    @Test func eachThreadKeepsOneIndexAndNoTwoThreadsShareOne() {
        let seen = Mutex<[Int: Int]>([:])  // index -> how many threads got it
        let changed = Atomic<Int>(0)
        onThreads(12) { _ in
            let first = ThreadIndex.current
            for _ in 0..<1_000 where ThreadIndex.current != first { changed.add(1, ordering: .relaxed) }
            seen.withLock { $0[first, default: 0] += 1 }
        }
        #expect(changed.load(ordering: .relaxed) == 0, "a thread's index changed")
        let table = seen.withLock { $0 }
        #expect(table.count == 12, "12 threads, \(table.count) distinct indices")
        #expect(table.values.allSatisfy { $0 == 1 })
    }

    /// More threads than shards: threads share shards, and no update is lost.
    @Test func sharedShardsLoseNoUpdate() {
        let counters = ThreadShards(count: 3) { 0 }
        onThreads(10) { _ in
            for _ in 0..<20_000 { counters.withCurrent { $0 += 1 } }
        }
        var total = 0, used = 0
        counters.forEach { value in
            total += value
            if value > 0 { used += 1 }
        }
        #expect(total == 200_000)
        #expect(used == 3, "10 threads over 3 shards use all of them")
    }

    @Test func readMostlyValueIsTheLastReplacedOnEveryThread() {
        let cell = ReadMostly(0)
        #expect(cell.value == 0)
        // Every thread has read (and cached) the old value before the replacement.
        onThreads(6) { _ in _ = cell.value }
        cell.replace(41)
        #expect(cell.update { $0 += 1; return $0 } == 42)
        let wrong = Atomic<Int>(0)
        onThreads(6) { _ in if cell.value != 42 { wrong.add(1, ordering: .relaxed) } }
        #expect(wrong.load(ordering: .relaxed) == 0)
        #expect(cell.value == 42)
    }

    /// Readers racing a writer never see a value go backwards, and see the last one at the end.
    @Test func readMostlyReadersNeverGoBackwards() {
        let cell = ReadMostly(0)
        let backwards = Atomic<Int>(0)
        let writerDone = Atomic<Bool>(false)
        onThreads(5) { i in
            if i == 0 {
                for v in 1...5_000 { cell.replace(v) }
                writerDone.store(true, ordering: .releasing)
                return
            }
            var last = 0
            // Bounded: the writer finishes in well under this many reads.
            for _ in 0..<50_000_000 {
                let v = cell.value
                if v < last { backwards.add(1, ordering: .relaxed) }
                last = v
                if writerDone.load(ordering: .acquiring) { break }
            }
            if cell.value != 5_000 { backwards.add(1_000_000, ordering: .relaxed) }
        }
        #expect(backwards.load(ordering: .relaxed) == 0)
    }

    final class Box: Sendable {}

    /// Threads that read once and never again must not keep a replaced value alive (a whole
    /// configuration snapshot, in the edge).
    @Test func aReplacedValueIsNotKeptByThreadsThatStoppedReading() {
        weak var old: Box?
        let cell: ReadMostly<Box>
        do {
            let first = Box()
            old = first
            cell = ReadMostly(first)
        }
        onThreads(6) { _ in _ = cell.value }
        #expect(old != nil)
        cell.replace(Box())
        #expect(old == nil, "a thread's copy still holds the replaced value")
        weak var second: Box?
        do { second = cell.value }
        onThreads(3) { _ in _ = cell.value }
        cell.update { $0 = Box() }
        #expect(second == nil, "update left the value it replaced in a thread's copy")
    }

    @Test func randomNumbersFromManyThreadsNeverRepeat() {
        let all = Mutex<[UInt64]>([])
        onThreads(8) { _ in
            let mine = (0..<2_000).map { _ in RandomPool.next() }
            all.withLock { $0 += mine }
        }
        let numbers = all.withLock { $0 }
        #expect(numbers.count == 16_000)
        #expect(Set(numbers).count == numbers.count)
    }
}
