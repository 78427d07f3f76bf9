/// Opaque object ids: a two-letter type prefix and 32 lower-case hex digits (128 random bits),
/// e.g. `TK3f2a…`. The prefix tells an operator what an id names at a glance.
public enum SIDPrefix: String, Sendable, CaseIterable {
    case account = "AC"
    case apiKey = "SK"
    case trunk = "TK"
    case credential = "CR"
    case ipACL = "AL"
    case ipACLEntry = "IP"
    case destinationURI = "DU"
    case phoneNumber = "PN"
    case call = "CA"
    case authEvent = "AE"
    case registration = "RG"
}

public enum SID {
    public static func make(_ prefix: SIDPrefix) -> String {
        var rng = SystemRandomNumberGenerator()
        let hi = rng.next() as UInt64, lo = rng.next() as UInt64
        return prefix.rawValue + hex16(hi) + hex16(lo)
    }

    /// True when `sid` has the prefix and the 32-hex-digit body.
    public static func isValid(_ sid: String, _ prefix: SIDPrefix) -> Bool {
        let u = Array(sid.utf8)
        guard u.count == 34, sid.hasPrefix(prefix.rawValue) else { return false }
        return u[2...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
