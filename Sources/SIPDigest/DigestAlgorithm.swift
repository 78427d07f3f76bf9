/// A Digest `algorithm` value (RFC 7616 §3.3; RFC 8760 brings SHA-256 and SHA-512-256 to SIP).
public enum DigestAlgorithm: String, Sendable, Hashable, CaseIterable {
    case md5 = "MD5"
    case md5Sess = "MD5-sess"
    case sha256 = "SHA-256"
    case sha256Sess = "SHA-256-sess"
    case sha512_256 = "SHA-512-256"
    case sha512_256Sess = "SHA-512-256-sess"

    /// Parses an `algorithm` token case-insensitively (`md5`, `SHA-256-SESS`, …).
    public init?(token: some StringProtocol) {
        guard let match = Self.allCases.first(where: { ASCII.equalsIgnoringCase($0.rawValue, token) }) else { return nil }
        self = match
    }

    /// The hash function `H`.
    public var hash: DigestHashFunction {
        switch self {
        case .md5, .md5Sess: .md5
        case .sha256, .sha256Sess: .sha256
        case .sha512_256, .sha512_256Sess: .sha512_256
        }
    }

    /// `-sess` variants derive a per-session HA1 from the nonce and cnonce (RFC 7616 §3.4.2).
    public var isSession: Bool {
        switch self {
        case .md5Sess, .sha256Sess, .sha512_256Sess: true
        case .md5, .sha256, .sha512_256: false
        }
    }

    /// Client preference: SHA-512-256 > SHA-256 > MD5; a plain variant over its `-sess` twin.
    var strength: Int {
        switch self {
        case .md5Sess: 0
        case .md5: 1
        case .sha256Sess: 2
        case .sha256: 3
        case .sha512_256Sess: 4
        case .sha512_256: 5
        }
    }
}
