import SIPMessage
import Testing

@Suite struct RandomPoolTests {
    /// Across several refills of the 4 KiB buffer (512 numbers each): no repeats, and every
    /// bit is set in about half of the numbers.
    @Test func numbersAreUniqueAndEveryBitIsBalanced() {
        let count = 4_096
        let numbers = (0..<count).map { _ in RandomPool.next() }
        #expect(Set(numbers).count == count)
        for bit in 0..<64 {
            let ones = numbers.count { $0 >> UInt64(bit) & 1 == 1 }
            // Binomial(4096, 1/2): mean 2048, sd 32; 8 sd either side.
            #expect((1792...2304).contains(ones), "bit \(bit) set in \(ones) of \(count)")
        }
    }

    @Test func tagsDiffer() {
        let tags = (0..<1_000).map { _ in SIPMessage.randomTag() }
        #expect(Set(tags).count == tags.count)
        #expect(tags.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } })
    }
}
