public import SIPMessage

/// A 401/407 challenge: one header value per offered algorithm, all carrying the same nonce.
public struct DigestChallenge: Sendable, Hashable {
    public let kind: DigestChallengeKind
    public let nonce: String
    /// The header field values, serialized, in the policy's order; send each as its own
    /// `WWW-Authenticate` / `Proxy-Authenticate` header.
    public let headerValues: [String]

    /// The same headers, structured (parsed from ``headerValues``).
    public var headers: [SIPAuthHeader] {
        headerValues.compactMap { try? SIPAuthHeader(parsing: $0, headerName: kind.challengeHeaderName) }
    }

    public init(kind: DigestChallengeKind, nonce: String, headers: [SIPAuthHeader]) {
        self.kind = kind
        self.nonce = nonce
        self.headerValues = headers.map(\.serialized)
    }

    /// Builds the challenge headers for `policy` around `nonce`: the policy's serialized text
    /// before and after the nonce, with the nonce between (one allocation per header, on
    /// every unauthenticated request).
    init(kind: DigestChallengeKind, nonce: String, policy: DigestChallengePolicy, stale: Bool) {
        self.kind = kind
        self.nonce = nonce
        // The nonces this library issues are base64url: written inside quotes as they are.
        guard nonce.utf8.allSatisfy(Base64URL.isDigit) else {
            self.headerValues = policy.algorithms.map { policy.header(algorithm: $0, nonce: nonce, stale: stale).serialized }
            return
        }
        self.headerValues = policy.templates.map { template in
            let suffix = stale ? template.staleSuffix : template.suffix
            var value = String()
            value.reserveCapacity(template.prefix.utf8.count + nonce.utf8.count + suffix.utf8.count)
            value += template.prefix
            value += nonce
            value += suffix
            return value
        }
    }
}

/// The serialized challenge for one algorithm of a policy, cut around the nonce.
struct DigestChallengeTemplate: Sendable, Hashable {
    var prefix: String
    var suffix: String
    var staleSuffix: String

    init(policy: DigestChallengePolicy, algorithm: DigestAlgorithm) {
        // The marker is a token, so it is written as is; `, nonce="` with an unescaped quote
        // cannot occur in the quoted realm before it (its quotes are escaped).
        let marker = "TrunkgateNonceMarker"
        func cut(_ stale: Bool) -> (String, String) {
            let text = policy.header(algorithm: algorithm, nonce: marker, stale: stale).serialized
            let needle = ", nonce=\"" + marker + "\""
            guard let range = text.firstRange(of: needle) else { preconditionFailure("challenge without its nonce") }
            return (String(text[..<range.lowerBound]) + ", nonce=\"", "\"" + String(text[range.upperBound...]))
        }
        (prefix, suffix) = cut(false)
        staleSuffix = cut(true).1
    }
}

extension DigestChallengePolicy {
    /// One challenge header, structured.
    func header(algorithm: DigestAlgorithm, nonce: String, stale: Bool) -> SIPAuthHeader {
        var parameters = [
            SIPAuthParameter(name: "realm", value: realm, quoted: true),
            SIPAuthParameter(name: "nonce", value: nonce, quoted: true),
            SIPAuthParameter(name: "opaque", value: opaque, quoted: true),
            SIPAuthParameter(name: "algorithm", value: algorithm.rawValue, quoted: false),
        ]
        if let qop = qop.challengeValue {
            parameters.append(SIPAuthParameter(name: "qop", value: qop, quoted: true))
        }
        if stale { parameters.append(SIPAuthParameter(name: "stale", value: "true", quoted: false)) }
        if userhash { parameters.append(SIPAuthParameter(name: "userhash", value: "true", quoted: false)) }
        return SIPAuthHeader(scheme: "Digest", parameters: parameters)
    }
}
