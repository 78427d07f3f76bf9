/// What the request claimed, for auth events even when verification failed. Client-supplied:
/// log it, never trust it.
public struct DigestAttempt: Sendable, Hashable {
    /// The user name (resolved from a userhash when the store knew it), if the header had one.
    public var username: String?
    public var algorithm: DigestAlgorithm?

    public init(username: String? = nil, algorithm: DigestAlgorithm? = nil) {
        self.username = username
        self.algorithm = algorithm
    }
}

/// The outcome of verifying a request's credentials.
public enum DigestVerification: Sendable, Hashable {
    case ok(user: String, algorithm: DigestAlgorithm)
    case failure(DigestFailure, DigestAttempt)

    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    /// The failure reason, nil when ok.
    public var failureReason: DigestFailure? {
        if case .failure(let reason, _) = self { return reason }
        return nil
    }

    /// Whether the next challenge should carry `stale=true`.
    public var isStale: Bool { failureReason == .staleNonce }
}
