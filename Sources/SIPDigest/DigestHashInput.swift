extension DigestHashFunction {
    /// `H(part1 ":" part2 ":" …)` over UTF-8, as lower-case hex: the shape of every Digest formula.
    func hex(joinedByColons parts: String...) -> String {
        var length = parts.count
        for part in parts { length += part.utf8.count }
        var input: [UInt8] = []
        input.reserveCapacity(length)
        for (index, part) in parts.enumerated() {
            if index > 0 { input.append(UInt8(ascii: ":")) }
            input.append(contentsOf: part.utf8)
        }
        return input.withUnsafeBytes { hex($0) }
    }
}
