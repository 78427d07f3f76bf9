import Crypto
@testable import SIPDigest
import Testing

/// The stack SHA-256 used by verification (the nonce HMAC and SHA-256 responses) must agree with
/// FIPS 180-4 and with swift-crypto, with the SHA-instruction block function and the portable one.
@Suite("SHA-256 on the stack")
struct SHA256StateTests {
    /// The block functions this machine can run: always the portable one, and the hardware one
    /// where the CPU has the SHA extensions.
    static let blockFunctions: [Bool] = SHA256State.hardwareAvailable ? [false, true] : [false]

    private func hex(_ pieces: [[UInt8]], hardware: Bool) -> String {
        var state = SHA256State(hardware: hardware)
        for piece in pieces { piece.withUnsafeBytes { state.update($0) } }
        let output = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 64)
        defer { output.deallocate() }
        let count = state.finalizeHex(into: output)
        return String(decoding: UnsafeBufferPointer(rebasing: output[0..<count]), as: UTF8.self)
    }

    /// FIPS 180-4 examples (one block, two blocks) and a million `a`s.
    @Test(arguments: blockFunctions)
    func fipsExamples(hardware: Bool) {
        #expect(hex([Array("abc".utf8)], hardware: hardware)
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex([Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)], hardware: hardware)
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex([[UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)], hardware: hardware)
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(hex([[]], hardware: hardware) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Every length around the block and padding boundaries, whole and split in uneven pieces,
    /// against swift-crypto's `SHA256`.
    @Test(arguments: blockFunctions)
    func agreesWithSwiftCryptoForEveryLength(hardware: Bool) {
        var generator = SystemRandomNumberGenerator()
        for length in 0...300 {
            let input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = SHA256.hash(data: input).withUnsafeBytes { Hex.encode($0) }
            #expect(hex([input], hardware: hardware) == expected, "length \(length)")
            let cut1 = length / 3
            let cut2 = min(length, cut1 + 61)
            #expect(hex([Array(input[..<cut1]), Array(input[cut1..<cut2]), Array(input[cut2...])], hardware: hardware) == expected,
                    "length \(length), split")
            #expect(hex(input.map { [$0] }, hardware: hardware) == expected, "length \(length), byte by byte")
        }
    }

    /// The nonce MAC is HMAC-SHA-256 (RFC 2104) as swift-crypto computes it, for keys of one
    /// block or less and longer (hashed first).
    @Test func nonceKeyMACIsHMACSHA256() throws {
        var generator = SystemRandomNumberGenerator()
        for keyLength in [32, 64, 65, 100] {
            let secret = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let key = try NonceKey(id: 1, secret: secret)
            for length in [0, 1, 30, 55, 56, 63, 64, 65, 200] {
                let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
                let mac = message.withUnsafeBytes { key.tag($0, count: 32) }
                #expect(mac == expected, "key \(keyLength), message \(length)")
            }
        }
    }
}
