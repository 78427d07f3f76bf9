/// How one trunk challenges: realm, offered algorithms in order, qop, userhash.
public struct DigestChallengePolicy: Sendable, Hashable {
    /// MD5 alone: the default that every client we interoperate with answers.
    ///
    /// Several deployed clients fail as soon as *any* challenge names an algorithm they do not
    /// know, instead of skipping it (libre/baresip before SHA-256 support answers ENOSYS, older
    /// PJSIP PJSIP_EINVALIDALGORITHM), and SIPp 3.6 reads the first `algorithm=` of the
    /// response. Trunks whose clients implement RFC 8760 should offer `[.sha256, .md5]` (or
    /// SHA-512-256 first): RFC 8760 clients answer the topmost challenge they support.
    public static let defaultAlgorithms: [DigestAlgorithm] = [.md5]

    public let realm: String
    /// Offered algorithms, one challenge header each, in this order; never empty, no repeats.
    public let algorithms: [DigestAlgorithm]
    public let qop: DigestQOPOffer
    /// Offer `userhash=true` (RFC 7616 §3.4.4); needs a userhash lookup when verifying.
    public let userhash: Bool
    /// Sent in every challenge and echoed by clients; derived from the realm, not checked.
    public let opaque: String
    /// Each algorithm's challenge, serialized once, cut around the nonce.
    private(set) var templates: [DigestChallengeTemplate] = []

    public init(
        realm: String,
        algorithms: [DigestAlgorithm] = Self.defaultAlgorithms,
        qop: DigestQOPOffer = .auth,
        userhash: Bool = false
    ) throws(DigestPolicyError) {
        var unique: [DigestAlgorithm] = []
        for algorithm in algorithms where !unique.contains(algorithm) { unique.append(algorithm) }
        guard !unique.isEmpty else { throw .noAlgorithms }
        self.realm = realm
        self.algorithms = unique
        self.qop = qop
        self.userhash = userhash
        self.opaque = Base64URL.encode(DigestHashFunction.sha256.digest(Array("trunkgate-opaque:\(realm)".utf8)).prefix(12))
        self.templates = unique.map { DigestChallengeTemplate(policy: self, algorithm: $0) }
    }
}

public enum DigestPolicyError: Error, Sendable, Hashable {
    /// A challenge must offer at least one algorithm.
    case noAlgorithms
}
