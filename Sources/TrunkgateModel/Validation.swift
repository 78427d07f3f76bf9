/// The rules of SPEC §1, one function per field. Each returns the normalised value or throws
/// a ``ValidationError`` naming the field.
public enum Validation {
    /// `trunk_name`: 1–16 characters `[A-Za-z0-9_]`.
    public static func trunkName(_ s: String) throws(ValidationError) -> String {
        let u = s.utf8
        guard (1...16).contains(u.count), u.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "_") }) else {
            throw ValidationError("invalid_trunk_name", "trunk_name must be 1-16 characters of A-Z, a-z, 0-9 and _", field: "trunk_name")
        }
        return s
    }

    /// A SIP domain name (host name, lower-cased); IP literals are refused.
    public static func domainName(_ s: String, field: String = "domain_name") throws(ValidationError) -> String {
        let lower = s.lowercased()
        let labels = lower.split(separator: ".", omittingEmptySubsequences: false)
        let ok = (1...253).contains(lower.utf8.count) && labels.count >= 2
            && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && label.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
                    && label.utf8.first != UInt8(ascii: "-") && label.utf8.last != UInt8(ascii: "-")
            }
            && !(labels.last?.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } ?? true)
        guard ok else { throw ValidationError("invalid_domain_name", "\(field) must be a DNS name such as trunk1.sip.example.com", field: field) }
        return lower
    }

    /// `user_name`: 3–64 characters `[A-Za-z0-9._-]`.
    public static func userName(_ s: String) throws(ValidationError) -> String {
        let u = s.utf8
        guard (3...64).contains(u.count),
              u.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw ValidationError("invalid_user_name", "user_name must be 3-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'", field: "user_name")
        }
        return s
    }

    /// `password`: 12–128 characters with an upper-case letter, a lower-case letter and a digit.
    /// The error never repeats the password.
    public static func password(_ s: String, field: String = "password") throws(ValidationError) {
        let count = s.count
        guard (12...128).contains(count) else {
            throw ValidationError("invalid_password", "\(field) must be 12-128 characters long", field: field)
        }
        let u = s.utf8
        guard u.contains(where: { $0 >= 0x41 && $0 <= 0x5A }), u.contains(where: { $0 >= 0x61 && $0 <= 0x7A }),
              u.contains(where: { $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ValidationError("invalid_password", "\(field) must contain an upper-case letter, a lower-case letter and a digit", field: field)
        }
        guard !u.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw ValidationError("invalid_password", "\(field) must not contain control characters", field: field)
        }
    }

    /// E.164: `+` then 8–15 digits, the first not 0.
    public static func phoneNumber(_ s: String) throws(ValidationError) -> String {
        let u = Array(s.utf8)
        guard u.count >= 9, u.count <= 16, u[0] == UInt8(ascii: "+"), u[1] != UInt8(ascii: "0"),
              u[1...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ValidationError("invalid_phone_number", "phone_number must be E.164: '+' followed by 8-15 digits", field: "phone_number")
        }
        return s
    }

    public static func text(_ s: String, max: Int, field: String, required: Bool = false) throws(ValidationError) -> String {
        if required, s.isEmpty { throw ValidationError("missing_field", "\(field) is required", field: field) }
        guard s.count <= max else { throw ValidationError("invalid_\(field)", "\(field) must be at most \(max) characters", field: field) }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ValidationError("invalid_\(field)", "\(field) must not contain control characters", field: field)
        }
        return s
    }

    public static func positive(_ v: Int?, max: Int, field: String) throws(ValidationError) -> Int? {
        guard let v else { return nil }
        guard v >= 1, v <= max else { throw ValidationError("invalid_\(field)", "\(field) must be between 1 and \(max)", field: field) }
        return v
    }

    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}
