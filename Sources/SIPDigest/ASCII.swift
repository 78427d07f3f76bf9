/// Allocation-free ASCII helpers for protocol tokens.
enum ASCII {
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Case-insensitive equality of two ASCII tokens.
    static func equalsIgnoringCase(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// Case-insensitive equality of UTF-8 bytes and an ASCII token.
    static func equalsIgnoringCase(_ a: UnsafeBufferPointer<UInt8>, _ b: String) -> Bool {
        withContiguousUTF8(b) { b in
            a.count == b.count && zip(a, b).allSatisfy { lowercased($0) == lowercased($1) }
        }
    }

    static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (lowercased(byte) >= 0x61 && lowercased(byte) <= 0x66)
    }

    /// The value of a hex digit (`isHex` must hold).
    static func hexValue(_ byte: UInt8) -> UInt8 {
        byte <= 0x39 ? byte &- 0x30 : lowercased(byte) &- 0x57
    }

    static func isLowerHex(_ text: some StringProtocol, count: Int) -> Bool {
        withContiguousUTF8(text) { utf8 in utf8.count == count && all(utf8, in: lowerHexDigits) }
    }

    /// Whether every byte is a hex digit of either case (`isHex`), without a branch per byte.
    static func isAllHex(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        all(bytes, in: hexDigits)
    }

    private static func all(_ bytes: UnsafeBufferPointer<UInt8>, in table: [UInt8]) -> Bool {
        table.withUnsafeBufferPointer { table in
            var all: UInt8 = 1
            for byte in bytes { all &= table[Int(byte)] }
            return all == 1
        }
    }

    /// 1 for `0-9a-fA-F`, else 0.
    private static let hexDigits: [UInt8] = (0...255).map { isHex(UInt8($0)) ? 1 : 0 }
    /// 1 for `0-9a-f`, else 0.
    private static let lowerHexDigits: [UInt8] = (0...255).map { byte in (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) ? 1 : 0 }
}
