@testable import SIPDigest
import Testing

/// The word-at-a-time hex of verification agrees with the plain encoder for every byte value
/// and for lengths that are and are not multiples of four.
@Suite struct DigestHexTests {
    private func wordHex(_ bytes: [UInt8]) -> String {
        let output = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 2 * bytes.count + 1)
        defer { output.deallocate() }
        let count = bytes.withUnsafeBytes { MD5State.writeHex($0, into: output) }
        return String(decoding: UnsafeBufferPointer(rebasing: output[0..<count]), as: UTF8.self)
    }

    @Test func everyByteValue() {
        let all = (0...255).map { UInt8($0) }
        #expect(wordHex(all) == all.withUnsafeBytes { Hex.encode($0) })
        #expect(wordHex([0x00, 0x09, 0x0A, 0x0F, 0x90, 0xA0, 0xF0, 0xFF]) == "00090a0f90a0f0ff")
    }

    @Test func everyLengthUpTo70() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(wordHex(bytes) == bytes.withUnsafeBytes { Hex.encode($0) }, "length \(length)")
        }
    }
}
