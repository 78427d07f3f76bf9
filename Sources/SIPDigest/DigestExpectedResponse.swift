import Crypto
import _CryptoExtras

/// The verifier's side of ``DigestResponse/compute(algorithm:ha1:nonce:nc:cnonce:qop:method:uri:entityBodyHash:)``:
/// the same formula, with every intermediate hex value (session HA1, H(body), HA2, the response)
/// in stack buffers and the inputs hashed where they lie, so no string is built.
enum DigestExpectedResponse {
    /// Longest hex digest of any ``DigestHashFunction`` (32-byte digests).
    static let maximumHexLength = 64
    /// Hash inputs are gathered in a stack buffer of this size so that each hash sees one update
    /// (longer inputs are passed on in pieces).
    static let gatherCapacity = 320

    /// Calls `body` with the expected response as lower-case hex.
    static func withExpected<R>(
        algorithm: DigestAlgorithm, ha1: String, fields: DigestFields, text: DigestText, method: String, body: [UInt8],
        _ use: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4 * maximumHexLength + gatherCapacity) { scratch in
            let length: Int
            switch algorithm.hash {
            case .md5:
                length = compute(MD5State.self, algorithm: algorithm, ha1: ha1, fields: fields, text: text, method: method, body: body, scratch: scratch)
            case .sha256:
                length = compute(SHA256State.self, algorithm: algorithm, ha1: ha1, fields: fields, text: text, method: method, body: body, scratch: scratch)
            case .sha512_256:
                length = compute(CryptoHasher<SHA512256>.self, algorithm: algorithm, ha1: ha1, fields: fields, text: text, method: method, body: body, scratch: scratch)
            }
            return use(UnsafeBufferPointer(rebasing: scratch[0..<length]))
        }
    }

    /// Writes the response hex at the start of `scratch` and returns its length; the rest of
    /// `scratch` holds the intermediate values and the gather buffer.
    private static func compute<H: DigestBlockHasher>(
        _: H.Type, algorithm: DigestAlgorithm, ha1: String, fields: DigestFields, text: DigestText, method: String,
        body: [UInt8], scratch: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        let slot = maximumHexLength
        let response = UnsafeMutableBufferPointer(rebasing: scratch[0..<slot])
        let sessionHA1 = UnsafeMutableBufferPointer(rebasing: scratch[slot..<(2 * slot)])
        let bodyHash = UnsafeMutableBufferPointer(rebasing: scratch[(2 * slot)..<(3 * slot)])
        let ha2 = UnsafeMutableBufferPointer(rebasing: scratch[(3 * slot)..<(4 * slot)])
        let gather = UnsafeMutableBufferPointer(rebasing: scratch[(4 * slot)...])
        let colon: UInt8 = 0x3A

        // -sess: HA1' = H(HA1 ":" nonce ":" cnonce).
        var sessionLength = 0
        if algorithm.isSession {
            var hasher = GatheringHasher<H>(buffer: gather)
            hasher.append(ha1)
            hasher.append(colon)
            hasher.append(text[fields.nonce])
            hasher.append(colon)
            if let cnonce = fields.cnonce { hasher.append(text[cnonce]) }
            sessionLength = hasher.finalizeHex(into: sessionHA1)
        }

        // HA2 = H(method ":" uri [":" H(entity-body)]).
        var bodyHashLength = 0
        if fields.qop == .authInt {
            var bodyHasher = H()
            body.withUnsafeBytes { bodyHasher.update($0) }
            bodyHashLength = bodyHasher.finalizeHex(into: bodyHash)
        }
        var hasher = GatheringHasher<H>(buffer: gather)
        hasher.append(method)
        hasher.append(colon)
        hasher.append(text[fields.uri])
        if fields.qop == .authInt {
            hasher.append(colon)
            hasher.append(UnsafeBufferPointer(rebasing: bodyHash[0..<bodyHashLength]))
        }
        let ha2Length = hasher.finalizeHex(into: ha2)

        // response = H(HA1 ":" nonce ":" HA2), or with qop H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2).
        hasher = GatheringHasher<H>(buffer: gather)
        if algorithm.isSession {
            hasher.append(UnsafeBufferPointer(rebasing: sessionHA1[0..<sessionLength]))
        } else {
            hasher.append(ha1)
        }
        hasher.append(colon)
        hasher.append(text[fields.nonce])
        hasher.append(colon)
        if let qop = fields.qop {
            if let nc = fields.ncText { hasher.append(text[nc]) }
            hasher.append(colon)
            if let cnonce = fields.cnonce { hasher.append(text[cnonce]) }
            hasher.append(colon)
            hasher.append(qop.rawValue)
            hasher.append(colon)
        }
        hasher.append(UnsafeBufferPointer(rebasing: ha2[0..<ha2Length]))
        return hasher.finalizeHex(into: response)
    }

}

/// A hash function as verification uses it: state by value, the digest written as lower-case hex.
protocol DigestBlockHasher {
    init()
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// Writes the digest as lower-case hex at the start of `output`; returns its length.
    mutating func finalizeHex(into output: UnsafeMutableBufferPointer<UInt8>) -> Int
}

extension DigestBlockHasher {
    /// Lower-case hex of `bytes` into `output`; returns the number of characters. Four bytes at
    /// a time in a 64-bit word (their eight nibbles spread one per byte, then made ASCII), with
    /// no branch or table lookup on the (secret-derived) digits.
    static func writeHex(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(bytes.count * 2 <= output.count)
        let target = UnsafeMutableRawPointer(output.baseAddress!)
        var index = 0
        while index + 4 <= bytes.count {
            let word = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self))
            target.storeBytes(of: hexDigits(word).bigEndian, toByteOffset: 2 * index, as: UInt64.self)
            index += 4
        }
        while index < bytes.count {
            let byte = bytes[index]
            output[2 * index] = hexDigit(byte >> 4)
            output[2 * index + 1] = hexDigit(byte & 0x0F)
            index += 1
        }
        return bytes.count * 2
    }

    /// The eight hex digits of `word`, most significant in the highest byte.
    @inline(__always)
    static func hexDigits(_ word: UInt32) -> UInt64 {
        var x = UInt64(word)
        x = (x & 0xFFFF_0000) << 16 | (x & 0x0000_FFFF)
        x = (x & 0x0000_FF00_0000_FF00) << 8 | (x & 0x0000_00FF_0000_00FF)
        x = (x & 0x00F0_00F0_00F0_00F0) << 4 | (x & 0x000F_000F_000F_000F)
        // A nibble of 10 or more carries into bit 4 when 6 is added: those get 'a' - '0' - 10 more.
        let letters = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return x &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
    }

    /// `0`–`9`, `a`–`f` without a branch or table lookup on the (secret-derived) nibble.
    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        let n = Int16(nibble)
        return UInt8(truncatingIfNeeded: n + 0x30 + (((9 - n) >> 8) & 0x27))
    }
}

/// A swift-crypto hash function (SHA-512/256).
struct CryptoHasher<H: HashFunction>: DigestBlockHasher {
    private var hasher = H()

    init() {}

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    mutating func finalizeHex(into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        hasher.finalize().withUnsafeBytes { Self.writeHex($0, into: output) }
    }
}

extension SHA256State: DigestBlockHasher {
    mutating func finalizeHex(into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        withUnsafeTemporaryAllocation(byteCount: Self.digestByteCount, alignment: 4) { digest in
            finalize(into: digest)
            return Self.writeHex(UnsafeRawBufferPointer(digest), into: output)
        }
    }
}

extension MD5State: DigestBlockHasher {
    mutating func finalizeHex(into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        withUnsafeTemporaryAllocation(byteCount: Self.digestByteCount, alignment: 4) { digest in
            finalize(into: digest)
            return Self.writeHex(UnsafeRawBufferPointer(digest), into: output)
        }
    }
}

/// A hash whose input is gathered in a caller's buffer and handed over in as few updates as
/// possible (each update of a swift-crypto hasher has a fixed cost well above a copy).
private struct GatheringHasher<H: DigestBlockHasher> {
    private var hasher = H()
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private var count = 0

    init(buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.count > buffer.count - count {
            flush()
            if bytes.count > buffer.count {
                hasher.update(UnsafeRawBufferPointer(bytes))
                return
            }
        }
        guard let source = bytes.baseAddress, let target = buffer.baseAddress, !bytes.isEmpty else { return }
        (target + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func append(_ byte: UInt8) {
        if count == buffer.count { flush() }
        guard count < buffer.count else {
            withUnsafeBytes(of: byte) { hasher.update($0) }
            return
        }
        buffer[count] = byte
        count += 1
    }

    mutating func append(_ text: String) {
        withContiguousUTF8(text) { append($0) }
    }

    private mutating func flush() {
        guard count > 0 else { return }
        hasher.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<count]))
        count = 0
    }

    mutating func finalizeHex(into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        flush()
        return hasher.finalizeHex(into: output)
    }
}
