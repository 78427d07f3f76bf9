public import SIPMessage

/// A 401/407 challenge: one header value per offered algorithm, all carrying the same nonce.
public struct DigestChallenge: Sendable, Hashable {
    public var kind: DigestChallengeKind
    public var nonce: String
    /// In the policy's order; send each as its own `WWW-Authenticate` / `Proxy-Authenticate` header.
    public var headers: [SIPAuthHeader]

    public init(kind: DigestChallengeKind, nonce: String, headers: [SIPAuthHeader]) {
        self.kind = kind
        self.nonce = nonce
        self.headers = headers
    }

    /// The header field values, serialized.
    public var headerValues: [String] { headers.map(\.serialized) }

    /// Builds the challenge headers for `policy` around `nonce`.
    init(kind: DigestChallengeKind, nonce: String, policy: DigestChallengePolicy, stale: Bool) {
        let headers = policy.algorithms.map { algorithm in
            var parameters = [
                SIPAuthParameter(name: "realm", value: policy.realm, quoted: true),
                SIPAuthParameter(name: "nonce", value: nonce, quoted: true),
                SIPAuthParameter(name: "opaque", value: policy.opaque, quoted: true),
                SIPAuthParameter(name: "algorithm", value: algorithm.rawValue, quoted: false),
            ]
            if let qop = policy.qop.challengeValue {
                parameters.append(SIPAuthParameter(name: "qop", value: qop, quoted: true))
            }
            if stale { parameters.append(SIPAuthParameter(name: "stale", value: "true", quoted: false)) }
            if policy.userhash { parameters.append(SIPAuthParameter(name: "userhash", value: "true", quoted: false)) }
            return SIPAuthHeader(scheme: "Digest", parameters: parameters)
        }
        self.init(kind: kind, nonce: nonce, headers: headers)
    }
}
