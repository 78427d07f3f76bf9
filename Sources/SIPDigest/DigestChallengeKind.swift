/// Which pair of headers a challenge uses (RFC 3261 §22.2, §22.3).
public enum DigestChallengeKind: Sendable, Hashable {
    /// `401 Unauthorized` with `WWW-Authenticate`, answered with `Authorization` (registrar).
    case www
    /// `407 Proxy Authentication Required` with `Proxy-Authenticate`, answered with
    /// `Proxy-Authorization`.
    case proxy

    /// How the edge challenges `method`: REGISTER gets 401, other requests 407, and ACK and
    /// CANCEL are never challenged (nil; RFC 3261 §22.1).
    public init?(method: String) {
        switch method {
        case "ACK", "CANCEL": return nil
        case "REGISTER": self = .www
        default: self = .proxy
        }
    }

    public var statusCode: Int {
        switch self {
        case .www: 401
        case .proxy: 407
        }
    }

    public var challengeHeaderName: String {
        switch self {
        case .www: "WWW-Authenticate"
        case .proxy: "Proxy-Authenticate"
        }
    }

    public var credentialsHeaderName: String {
        switch self {
        case .www: "Authorization"
        case .proxy: "Proxy-Authorization"
        }
    }
}
