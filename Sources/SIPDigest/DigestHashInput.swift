extension DigestHashFunction {
    /// `H(part1 ":" part2 ":" …)` over UTF-8, as lower-case hex: the shape of every Digest formula.
    /// The input is assembled in a stack buffer (this runs on every verification).
    func hex(joinedByColons parts: String...) -> String {
        var length = parts.count
        for part in parts { length += part.utf8.count }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, length)) { buffer in
            var position = 0
            for (index, part) in parts.enumerated() {
                if index > 0 {
                    buffer[position] = UInt8(ascii: ":")
                    position += 1
                }
                let copied = part.utf8.withContiguousStorageIfAvailable { utf8 -> Int in
                    guard let base = utf8.baseAddress, !utf8.isEmpty else { return 0 }
                    (buffer.baseAddress! + position).update(from: base, count: utf8.count)
                    return utf8.count
                }
                if let copied {
                    position += copied
                } else {
                    for byte in part.utf8 {
                        buffer[position] = byte
                        position += 1
                    }
                }
            }
            return hex(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0..<position])))
        }
    }
}
