@testable import SIPDigest
import Testing

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    let expected = Array("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1".utf8)

    /// However the candidate differs — first byte, last byte, length — every byte of the
    /// expected value is examined: there is no early exit.
    @Test func visitsEveryByteWhateverTheDifference() {
        var candidates: [[UInt8]] = [expected, [], Array(expected.prefix(1)), Array(expected.dropLast()), expected + [0x30]]
        for index in [0, 1, 31, 62, 63] {
            var altered = expected
            altered[index] ^= 0x01
            candidates.append(altered)
        }
        candidates.append(Array(repeating: 0xFF, count: expected.count))
        for candidate in candidates {
            var visited = 0
            let equal = ConstantTime.equals(expected, candidate, visited: &visited)
            #expect(visited == expected.count)
            #expect(equal == (candidate == expected))
        }
    }

    @Test func lengthAloneDecides() {
        #expect(!ConstantTime.equals(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!ConstantTime.equals(Array("abcd".utf8), Array("abc".utf8)))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
        // A shorter candidate padded with what would match must still fail.
        #expect(!ConstantTime.equals([0x00, 0x00], [0x00]))
    }
}
