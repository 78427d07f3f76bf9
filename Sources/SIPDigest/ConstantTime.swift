/// Equality whose running time does not depend on where (or whether) the inputs differ.
///
/// The secret side is `expected` (a response we computed from a stored HA1); its length is
/// public (it follows from the algorithm). Every byte of `expected` is visited and differences
/// are OR-accumulated, so there is no early exit on the first differing byte. Branches on the
/// candidate's length are fine: the candidate came from the client, who already knows it.
enum ConstantTime {
    static func equals(_ expected: some Collection<UInt8>, _ candidate: some Collection<UInt8>) -> Bool {
        var visited = 0
        return equals(expected, candidate, visited: &visited)
    }

    /// The same comparison, counting the byte pairs it examined (tests assert it is always all of them).
    @inline(__always)
    static func equals(_ expected: some Collection<UInt8>, _ candidate: some Collection<UInt8>, visited: inout Int) -> Bool {
        var difference: UInt8 = expected.count == candidate.count ? 0 : 1
        var candidateIndex = candidate.startIndex
        for byte in expected {
            let other: UInt8
            if candidateIndex != candidate.endIndex {
                other = candidate[candidateIndex]
                candidateIndex = candidate.index(after: candidateIndex)
            } else {
                other = ~byte
            }
            difference |= byte ^ other
            visited += 1
        }
        return difference == 0
    }
}
