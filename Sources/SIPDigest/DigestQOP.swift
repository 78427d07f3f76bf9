/// A Digest quality of protection (RFC 7616 §3.3).
public enum DigestQOP: String, Sendable, Hashable, CaseIterable {
    /// Authentication only.
    case auth = "auth"
    /// Authentication with integrity protection of the message body.
    case authInt = "auth-int"

    /// Parses a `qop` token case-insensitively.
    public init?(token: some StringProtocol) {
        guard let match = Self.allCases.first(where: { ASCII.equalsIgnoringCase($0.rawValue, token) }) else { return nil }
        self = match
    }
}

/// Which `qop` a server challenge offers.
public enum DigestQOPOffer: Sendable, Hashable {
    /// No `qop` (RFC 2069 compatibility). There is no `nc` then, so each nonce is accepted once.
    case none
    /// `qop="auth"`. `auth-int` answers are accepted too: they protect strictly more.
    case auth
    /// `qop="auth,auth-int"`.
    case authAndAuthInt
    /// `qop="auth-int"`: only answers that protect the body are accepted.
    case authInt

    /// The challenge's `qop` value, or nil for ``none``.
    var challengeValue: String? {
        switch self {
        case .none: nil
        case .auth: "auth"
        case .authAndAuthInt: "auth,auth-int"
        case .authInt: "auth-int"
        }
    }

    /// Whether a credentials' `qop` (nil when absent) answers this offer.
    func accepts(_ qop: DigestQOP?) -> Bool {
        switch self {
        case .none: qop == nil
        case .auth, .authAndAuthInt: qop != nil
        case .authInt: qop == .authInt
        }
    }
}
