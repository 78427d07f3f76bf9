/// The counts used with one nonce: the highest `nc` seen and a bitmap of the 64 counts at and
/// below it (bit k set = `highest - k` used). Counts may arrive out of order (parallel requests
/// over UDP) as long as they stay within 64 of the highest.
struct NonceCountWindow: Sendable {
    static let width: UInt32 = 64

    private(set) var highest: UInt32
    private(set) var seen: UInt64

    init(first count: UInt32) {
        highest = count
        seen = 1
    }

    /// Records `count`; false when it was used before or is too old to tell.
    mutating func record(_ count: UInt32) -> Bool {
        if count > highest {
            let shift = count - highest
            seen = shift >= Self.width ? 1 : (seen << UInt64(shift)) | 1
            highest = count
            return true
        }
        let distance = highest - count
        guard distance < Self.width else { return false }
        let bit: UInt64 = 1 << UInt64(distance)
        guard seen & bit == 0 else { return false }
        seen |= bit
        return true
    }
}
