/// MD5 (RFC 1321) with its state on the stack.
///
/// swift-crypto's `Insecure.MD5` keeps every hasher's state in a heap object that is zeroized
/// and freed after use; a Digest verification hashes twice with MD5 and those allocations cost
/// more than the hashing itself (issue 4 measures one MD5 verification end to end). MD5 here
/// only computes Digest values over data the client already knows (HA2, the response), so no
/// secret-dependent branch or table lookup is involved: the compression is straight-line code.
/// Tests check it against RFC 1321's test suite and against swift-crypto on random inputs.
struct MD5State {
    private var a: UInt32 = 0x6745_2301
    private var b: UInt32 = 0xEFCD_AB89
    private var c: UInt32 = 0x98BA_DCFE
    private var d: UInt32 = 0x1032_5476
    /// The partial block not yet compressed, and its length.
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var totalCount: UInt64 = 0

    static let digestByteCount = 16

    init() {}

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
            withUnsafeBytes(of: &block) { compress(UnsafeRawPointer($0.baseAddress!)) }
            pendingCount = 0
        }
        while remaining >= 64 {
            compress(source)
            source += 64
            remaining -= 64
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

    /// Pads, compresses the last block(s) and writes the 16-byte digest into `output`.
    mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Self.digestByteCount)
        let bitCount = totalCount &* 8
        var padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0x80, 0, 0, 0, 0, 0, 0, 0, 0)
        // 0x80, zeros up to 56 mod 64, then the bit count little-endian.
        let padLength = pendingCount < 56 ? 56 - pendingCount : 120 - pendingCount
        withUnsafeBytes(of: &padding) { update(UnsafeRawBufferPointer(rebasing: $0[0..<padLength])) }
        var length = bitCount.littleEndian
        withUnsafeBytes(of: &length) { update($0) }
        precondition(pendingCount == 0)
        output.storeBytes(of: a.littleEndian, toByteOffset: 0, as: UInt32.self)
        output.storeBytes(of: b.littleEndian, toByteOffset: 4, as: UInt32.self)
        output.storeBytes(of: c.littleEndian, toByteOffset: 8, as: UInt32.self)
        output.storeBytes(of: d.littleEndian, toByteOffset: 12, as: UInt32.self)
    }

    @inline(__always)
    private static func rotl(_ value: UInt32, _ count: UInt32) -> UInt32 {
        value &<< count | value &>> (32 &- count)
    }

    private mutating func compress(_ block: UnsafeRawPointer) {
        @inline(__always) func word(_ index: Int) -> UInt32 {
            UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))
        }
        let (m0, m1, m2, m3, m4, m5, m6, m7) = (word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7))
        let (m8, m9, m10, m11, m12, m13, m14, m15) = (word(8), word(9), word(10), word(11), word(12), word(13), word(14), word(15))
        var a = self.a
        var b = self.b
        var c = self.c
        var d = self.d
        a = b &+ Self.rotl(a &+ ((b & c) | (~b & d)) &+ 0xD76AA478 &+ m0, 7)
        d = a &+ Self.rotl(d &+ ((a & b) | (~a & c)) &+ 0xE8C7B756 &+ m1, 12)
        c = d &+ Self.rotl(c &+ ((d & a) | (~d & b)) &+ 0x242070DB &+ m2, 17)
        b = c &+ Self.rotl(b &+ ((c & d) | (~c & a)) &+ 0xC1BDCEEE &+ m3, 22)
        a = b &+ Self.rotl(a &+ ((b & c) | (~b & d)) &+ 0xF57C0FAF &+ m4, 7)
        d = a &+ Self.rotl(d &+ ((a & b) | (~a & c)) &+ 0x4787C62A &+ m5, 12)
        c = d &+ Self.rotl(c &+ ((d & a) | (~d & b)) &+ 0xA8304613 &+ m6, 17)
        b = c &+ Self.rotl(b &+ ((c & d) | (~c & a)) &+ 0xFD469501 &+ m7, 22)
        a = b &+ Self.rotl(a &+ ((b & c) | (~b & d)) &+ 0x698098D8 &+ m8, 7)
        d = a &+ Self.rotl(d &+ ((a & b) | (~a & c)) &+ 0x8B44F7AF &+ m9, 12)
        c = d &+ Self.rotl(c &+ ((d & a) | (~d & b)) &+ 0xFFFF5BB1 &+ m10, 17)
        b = c &+ Self.rotl(b &+ ((c & d) | (~c & a)) &+ 0x895CD7BE &+ m11, 22)
        a = b &+ Self.rotl(a &+ ((b & c) | (~b & d)) &+ 0x6B901122 &+ m12, 7)
        d = a &+ Self.rotl(d &+ ((a & b) | (~a & c)) &+ 0xFD987193 &+ m13, 12)
        c = d &+ Self.rotl(c &+ ((d & a) | (~d & b)) &+ 0xA679438E &+ m14, 17)
        b = c &+ Self.rotl(b &+ ((c & d) | (~c & a)) &+ 0x49B40821 &+ m15, 22)
        a = b &+ Self.rotl(a &+ ((d & b) | (~d & c)) &+ 0xF61E2562 &+ m1, 5)
        d = a &+ Self.rotl(d &+ ((c & a) | (~c & b)) &+ 0xC040B340 &+ m6, 9)
        c = d &+ Self.rotl(c &+ ((b & d) | (~b & a)) &+ 0x265E5A51 &+ m11, 14)
        b = c &+ Self.rotl(b &+ ((a & c) | (~a & d)) &+ 0xE9B6C7AA &+ m0, 20)
        a = b &+ Self.rotl(a &+ ((d & b) | (~d & c)) &+ 0xD62F105D &+ m5, 5)
        d = a &+ Self.rotl(d &+ ((c & a) | (~c & b)) &+ 0x02441453 &+ m10, 9)
        c = d &+ Self.rotl(c &+ ((b & d) | (~b & a)) &+ 0xD8A1E681 &+ m15, 14)
        b = c &+ Self.rotl(b &+ ((a & c) | (~a & d)) &+ 0xE7D3FBC8 &+ m4, 20)
        a = b &+ Self.rotl(a &+ ((d & b) | (~d & c)) &+ 0x21E1CDE6 &+ m9, 5)
        d = a &+ Self.rotl(d &+ ((c & a) | (~c & b)) &+ 0xC33707D6 &+ m14, 9)
        c = d &+ Self.rotl(c &+ ((b & d) | (~b & a)) &+ 0xF4D50D87 &+ m3, 14)
        b = c &+ Self.rotl(b &+ ((a & c) | (~a & d)) &+ 0x455A14ED &+ m8, 20)
        a = b &+ Self.rotl(a &+ ((d & b) | (~d & c)) &+ 0xA9E3E905 &+ m13, 5)
        d = a &+ Self.rotl(d &+ ((c & a) | (~c & b)) &+ 0xFCEFA3F8 &+ m2, 9)
        c = d &+ Self.rotl(c &+ ((b & d) | (~b & a)) &+ 0x676F02D9 &+ m7, 14)
        b = c &+ Self.rotl(b &+ ((a & c) | (~a & d)) &+ 0x8D2A4C8A &+ m12, 20)
        a = b &+ Self.rotl(a &+ (b ^ c ^ d) &+ 0xFFFA3942 &+ m5, 4)
        d = a &+ Self.rotl(d &+ (a ^ b ^ c) &+ 0x8771F681 &+ m8, 11)
        c = d &+ Self.rotl(c &+ (d ^ a ^ b) &+ 0x6D9D6122 &+ m11, 16)
        b = c &+ Self.rotl(b &+ (c ^ d ^ a) &+ 0xFDE5380C &+ m14, 23)
        a = b &+ Self.rotl(a &+ (b ^ c ^ d) &+ 0xA4BEEA44 &+ m1, 4)
        d = a &+ Self.rotl(d &+ (a ^ b ^ c) &+ 0x4BDECFA9 &+ m4, 11)
        c = d &+ Self.rotl(c &+ (d ^ a ^ b) &+ 0xF6BB4B60 &+ m7, 16)
        b = c &+ Self.rotl(b &+ (c ^ d ^ a) &+ 0xBEBFBC70 &+ m10, 23)
        a = b &+ Self.rotl(a &+ (b ^ c ^ d) &+ 0x289B7EC6 &+ m13, 4)
        d = a &+ Self.rotl(d &+ (a ^ b ^ c) &+ 0xEAA127FA &+ m0, 11)
        c = d &+ Self.rotl(c &+ (d ^ a ^ b) &+ 0xD4EF3085 &+ m3, 16)
        b = c &+ Self.rotl(b &+ (c ^ d ^ a) &+ 0x04881D05 &+ m6, 23)
        a = b &+ Self.rotl(a &+ (b ^ c ^ d) &+ 0xD9D4D039 &+ m9, 4)
        d = a &+ Self.rotl(d &+ (a ^ b ^ c) &+ 0xE6DB99E5 &+ m12, 11)
        c = d &+ Self.rotl(c &+ (d ^ a ^ b) &+ 0x1FA27CF8 &+ m15, 16)
        b = c &+ Self.rotl(b &+ (c ^ d ^ a) &+ 0xC4AC5665 &+ m2, 23)
        a = b &+ Self.rotl(a &+ (c ^ (b | ~d)) &+ 0xF4292244 &+ m0, 6)
        d = a &+ Self.rotl(d &+ (b ^ (a | ~c)) &+ 0x432AFF97 &+ m7, 10)
        c = d &+ Self.rotl(c &+ (a ^ (d | ~b)) &+ 0xAB9423A7 &+ m14, 15)
        b = c &+ Self.rotl(b &+ (d ^ (c | ~a)) &+ 0xFC93A039 &+ m5, 21)
        a = b &+ Self.rotl(a &+ (c ^ (b | ~d)) &+ 0x655B59C3 &+ m12, 6)
        d = a &+ Self.rotl(d &+ (b ^ (a | ~c)) &+ 0x8F0CCC92 &+ m3, 10)
        c = d &+ Self.rotl(c &+ (a ^ (d | ~b)) &+ 0xFFEFF47D &+ m10, 15)
        b = c &+ Self.rotl(b &+ (d ^ (c | ~a)) &+ 0x85845DD1 &+ m1, 21)
        a = b &+ Self.rotl(a &+ (c ^ (b | ~d)) &+ 0x6FA87E4F &+ m8, 6)
        d = a &+ Self.rotl(d &+ (b ^ (a | ~c)) &+ 0xFE2CE6E0 &+ m15, 10)
        c = d &+ Self.rotl(c &+ (a ^ (d | ~b)) &+ 0xA3014314 &+ m6, 15)
        b = c &+ Self.rotl(b &+ (d ^ (c | ~a)) &+ 0x4E0811A1 &+ m13, 21)
        a = b &+ Self.rotl(a &+ (c ^ (b | ~d)) &+ 0xF7537E82 &+ m4, 6)
        d = a &+ Self.rotl(d &+ (b ^ (a | ~c)) &+ 0xBD3AF235 &+ m11, 10)
        c = d &+ Self.rotl(c &+ (a ^ (d | ~b)) &+ 0x2AD7D2BB &+ m2, 15)
        b = c &+ Self.rotl(b &+ (d ^ (c | ~a)) &+ 0xEB86D391 &+ m9, 21)
        self.a &+= a
        self.b &+= b
        self.c &+= c
        self.d &+= d
    }
}
