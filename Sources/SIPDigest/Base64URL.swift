/// base64url without padding (RFC 4648 §5): nonce text uses only token characters.
enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        if let encoded = bytes.withContiguousStorageIfAvailable({ encode($0) }) { return encoded }
        return Array(bytes).withUnsafeBufferPointer { encode($0) }
    }

    static func encode(_ input: UnsafeBufferPointer<UInt8>) -> String {
        let outputLength = (input.count * 4 + 2) / 3
        return alphabet.withUnsafeBufferPointer { alphabet in
            String(unsafeUninitializedCapacity: outputLength) { out in
                var o = 0
                var i = 0
                while i + 3 <= input.count {
                    let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    out[o] = alphabet[Int(v >> 18 & 63)]
                    out[o + 1] = alphabet[Int(v >> 12 & 63)]
                    out[o + 2] = alphabet[Int(v >> 6 & 63)]
                    out[o + 3] = alphabet[Int(v & 63)]
                    i += 3
                    o += 4
                }
                let rest = input.count - i
                if rest > 0 {
                    let v = UInt32(input[i]) << 16 | (rest == 2 ? UInt32(input[i + 1]) << 8 : 0)
                    out[o] = alphabet[Int(v >> 18 & 63)]
                    out[o + 1] = alphabet[Int(v >> 12 & 63)]
                    o += 2
                    if rest == 2 {
                        out[o] = alphabet[Int(v >> 6 & 63)]
                        o += 1
                    }
                }
                return o
            }
        }
    }

    /// Decodes canonical unpadded base64url; nil for any other character, a length of 1 mod 4,
    /// or non-zero trailing bits (so each byte string has exactly one accepted text form).
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        Array(text.utf8).withUnsafeBufferPointer { input in
            guard let count = decode(input, into: nil) else { return nil }
            return [UInt8](unsafeUninitializedCapacity: count) { output, written in
                written = decode(input, into: output) ?? 0
            }
        }
    }

    /// Decodes `input` (same rules as ``decode(_:)``) into `output`; the number of bytes written,
    /// or nil when `input` is not canonical base64url or `output` is too small. With a nil
    /// `output` it only validates and counts. Every read and write is bounds-checked.
    static func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>?) -> Int? {
        let remainder = input.count % 4
        guard remainder != 1 else { return nil }
        // Four characters give three bytes; two more give one byte, three more two.
        let decodedCount = input.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        if let output, output.count < decodedCount { return nil }
        return sextets.withUnsafeBufferPointer { table -> Int? in
            var i = 0
            var o = 0
            let whole = input.count - remainder
            while i < whole {
                let a = UInt32(table[Int(input[i])]), b = UInt32(table[Int(input[i + 1])])
                let c = UInt32(table[Int(input[i + 2])]), d = UInt32(table[Int(input[i + 3])])
                guard (a | b | c | d) < 64 else { return nil }
                let v = a << 18 | b << 12 | c << 6 | d
                if let output {
                    output[o] = UInt8(truncatingIfNeeded: v >> 16)
                    output[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    output[o + 2] = UInt8(truncatingIfNeeded: v)
                }
                i += 4
                o += 3
            }
            if remainder == 2 {
                let a = UInt32(table[Int(input[i])]), b = UInt32(table[Int(input[i + 1])])
                // 12 bits: one byte and four trailing bits, which must be zero.
                guard (a | b) < 64, b & 0x0F == 0 else { return nil }
                output?[o] = UInt8(truncatingIfNeeded: (a << 6 | b) >> 4)
                o += 1
            } else if remainder == 3 {
                let a = UInt32(table[Int(input[i])]), b = UInt32(table[Int(input[i + 1])]), c = UInt32(table[Int(input[i + 2])])
                // 18 bits: two bytes and two trailing bits, which must be zero.
                guard (a | b | c) < 64, c & 0x03 == 0 else { return nil }
                let v = a << 12 | b << 6 | c
                output?[o] = UInt8(truncatingIfNeeded: v >> 10)
                output?[o + 1] = UInt8(truncatingIfNeeded: v >> 2)
                o += 2
            }
            return o
        }
    }

    /// Whether `byte` is a base64url digit (so written inside quotes as it is).
    static func isDigit(_ byte: UInt8) -> Bool { sextets[Int(byte)] != 0xFF }

    /// The value of each byte as a base64url digit, 0xFF for bytes that are not one.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()
}
