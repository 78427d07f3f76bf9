import SIPMessage

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
        // One per auth event (two per digest flow): from the buffered pool, not two system calls.
        let (hi, lo) = (RandomPool.next(), RandomPool.next())
        return String(unsafeUninitializedCapacity: 34) { out in
            var index = 0
            for byte in prefix.rawValue.utf8 { out[index] = byte; index += 1 }
            for word in [hi, lo] {
                for shift in stride(from: 60, through: 0, by: -4) {
                    let digit = UInt8(truncatingIfNeeded: word >> UInt64(shift)) & 0xF
                    out[index] = digit < 10 ? 0x30 + digit : 0x57 + digit
                    index += 1
                }
            }
            return index
        }
    }

    /// True when `sid` has the prefix and the 32-hex-digit body.
    public static func isValid(_ sid: String, _ prefix: SIDPrefix) -> Bool {
        let u = Array(sid.utf8)
        guard u.count == 34, sid.hasPrefix(prefix.rawValue) else { return false }
        return u[2...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
