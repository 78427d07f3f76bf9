@testable import SIPDigest
import Testing

/// The stack MD5 used by verification must agree with RFC 1321 and with swift-crypto.
@Suite("MD5 on the stack")
struct MD5StateTests {
    private func hex(_ pieces: [[UInt8]]) -> String {
        var state = MD5State()
        for piece in pieces { piece.withUnsafeBytes { state.update($0) } }
        let output = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 32)
        defer { output.deallocate() }
        let count = state.finalizeHex(into: output)
        return String(decoding: UnsafeBufferPointer(rebasing: output[0..<count]), as: UTF8.self)
    }

    /// RFC 1321 §A.5, the test suite.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func rfc1321Suite(input: String, expected: String) {
        #expect(hex([Array(input.utf8)]) == expected)
    }

    /// Every length around the block and padding boundaries, whole and split in uneven pieces,
    /// against swift-crypto's `Insecure.MD5`.
    @Test func agreesWithSwiftCryptoForEveryLength() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...300 {
            let input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = DigestHashFunction.md5.hex(input)
            #expect(hex([input]) == expected, "length \(length)")
            let cut1 = length / 3
            let cut2 = min(length, cut1 + 61)
            #expect(hex([Array(input[..<cut1]), Array(input[cut1..<cut2]), Array(input[cut2...])]) == expected, "length \(length), split")
            #expect(hex(input.map { [$0] }) == expected, "length \(length), byte by byte")
        }
    }
}
