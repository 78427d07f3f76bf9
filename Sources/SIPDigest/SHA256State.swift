import CSHA256

/// SHA-256 (FIPS 180-4) with its state on the stack; the block function is C (`CSHA256`), with
/// the CPU's SHA instructions where it has them.
///
/// swift-crypto's `SHA256` holds its state in a heap object that each copy, update after a copy
/// and finalize allocates again, behind exclusivity checks and unspecialized generic calls: for
/// the one- and two-block hashes of verification (the nonce's HMAC, a SHA-256 Digest response)
/// that wrapper cost about three times the hashing itself. Tests check this type against
/// swift-crypto on random inputs of every length up to several blocks, with both block
/// functions, and against the FIPS 180-4 examples.
struct SHA256State {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19
    )
    /// The partial block not yet compressed, and its length.
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var totalCount: UInt64 = 0
    private let hardware: Bool

    static let digestByteCount = 32
    /// Whether this CPU has the SHA extensions (decided once).
    static let hardwareAvailable = tg_sha256_hw_available() != 0

    init() {
        hardware = Self.hardwareAvailable
    }

    /// With a chosen block function (tests of both).
    init(hardware: Bool) {
        precondition(!hardware || Self.hardwareAvailable)
        self.hardware = hardware
    }

    mutating func update(_ input: UnsafeRawBufferPointer) {
        guard var source = input.baseAddress, !input.isEmpty else { return }
        var remaining = input.count
        totalCount &+= UInt64(remaining)
        if pendingCount > 0 {
            let take = min(64 - pendingCount, remaining)
            withUnsafeMutableBytes(of: &pending) { block in
                (block.baseAddress! + pendingCount).copyMemory(from: source, byteCount: take)
            }
            pendingCount += take
            source += take
            remaining -= take
            guard pendingCount == 64 else { return }
            var block = pending
            withUnsafeBytes(of: &block) { compress($0.baseAddress!, blocks: 1) }
            pendingCount = 0
        }
        if remaining >= 64 {
            compress(source, blocks: remaining / 64)
            source += remaining & ~63
            remaining &= 63
        }
        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: source, byteCount: remaining)
            }
            pendingCount = remaining
        }
    }

    mutating func update(_ input: UnsafeBufferPointer<UInt8>) {
        update(UnsafeRawBufferPointer(input))
    }

    /// Pads, compresses the last block(s) and writes the 32-byte digest into `output`.
    mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Self.digestByteCount)
        let bitCount = totalCount &* 8
        var padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0x80, 0, 0, 0, 0, 0, 0, 0, 0)
        // 0x80, zeros up to 56 mod 64, then the bit count big-endian.
        let padLength = pendingCount < 56 ? 56 - pendingCount : 120 - pendingCount
        withUnsafeBytes(of: &padding) { update(UnsafeRawBufferPointer(rebasing: $0[0..<padLength])) }
        var length = bitCount.bigEndian
        withUnsafeBytes(of: &length) { update($0) }
        precondition(pendingCount == 0)
        withUnsafeBytes(of: h) { words in
            for index in 0..<8 {
                output.storeBytes(of: words.load(fromByteOffset: 4 * index, as: UInt32.self).bigEndian,
                                  toByteOffset: 4 * index, as: UInt32.self)
            }
        }
    }

    private mutating func compress(_ blocks: UnsafeRawPointer, blocks count: Int) {
        let hardware = self.hardware
        withUnsafeMutablePointer(to: &h) { state in
            state.withMemoryRebound(to: UInt32.self, capacity: 8) { words in
                let data = blocks.assumingMemoryBound(to: UInt8.self)
                if hardware {
                    tg_sha256_blocks_hw(words, data, count)
                } else {
                    tg_sha256_blocks_portable(words, data, count)
                }
            }
        }
    }
}
