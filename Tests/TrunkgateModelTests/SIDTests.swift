import Testing
import TrunkgateModel

@Suite struct SIDTests {
    /// Ids come from a pool of random bytes refilled 4 KiB (256 ids) at a time: across several
    /// refills every id is well formed and unique, and every hex digit occurs at every position.
    @Test func idsAreWellFormedUniqueAndUseEveryDigit() {
        let count = 2_000
        let sids = (0..<count).map { _ in SID.make(.authEvent) }
        #expect(sids.allSatisfy { SID.isValid($0, .authEvent) })
        #expect(Set(sids).count == count)
        for position in 2..<34 {
            let digits = Set(sids.map { Array($0.utf8)[position] })
            #expect(digits.count == 16, "position \(position) used \(digits.count) of 16 hex digits")
        }
        #expect(SID.isValid(SID.make(.trunk), .trunk))
        #expect(!SID.isValid(SID.make(.trunk), .account))
    }
}
