public import Foundation
public import SIPDigest
public import SIPMessage
public import TrunkgateModel

/// Who a request came from, as the transport saw it.
public struct RequestSource: Sendable, Hashable {
    public var ip: String
    public var port: Int
    /// `udp`, `tcp`, `tls`.
    public var transport: String

    public init(ip: String, port: Int, transport: String) {
        self.ip = ip
        self.port = port
        self.transport = transport
    }
}

/// The authentication decision for one request (SPEC §3 "Authentication" and lockout).
public enum AuthDecision: Sendable {
    /// Go ahead. `credential` is set when digest authentication took place.
    case allow(trunk: TrunkConfiguration, credential: EdgeCredential?, algorithm: String?)
    /// Answer 401/407 with these challenge headers.
    case challenge(DigestChallenge)
    /// Answer with this status (403, 404).
    case reject(status: Int, reason: String)

    public var statusCode: Int {
        switch self {
        case .allow: 200
        case .challenge(let c): c.kind.statusCode
        case .reject(let status, _): status
        }
    }
}

/// Decides, for a parsed request, whether the edge serves it: lockout, trunk resolution by
/// Request-URI, the trunk's `auth_type`, and digest verification against the snapshot.
/// Records an ``AuthEvent`` for every decision and feeds the lockout tracker.
///
/// Which failures count toward a lockout: failed credential checks (wrong password, unknown
/// user, replayed or foreign nonce, realm/uri/algorithm mismatches, malformed credentials).
/// The first unauthenticated request of a normal challenge (`missing_credentials`) and an
/// expired nonce (`stale_nonce`) do not, and neither does an IP-ACL refusal (nothing to guess).
public struct EdgeAuthorizer: Sendable {
    public var authenticator: DigestAuthenticator
    public var lockouts: LockoutTracker
    /// Bind nonces to the source IP too (off by default: cloud platforms' egress addresses
    /// change between a challenge and its answer).
    public var bindNonceToSourceIP: Bool
    /// Challenge policies by realm and algorithm list (building one hashes the opaque value).
    private let policies = ChallengePolicyCache()

    public init(authenticator: DigestAuthenticator, lockouts: LockoutTracker, bindNonceToSourceIP: Bool = false) {
        self.authenticator = authenticator
        self.lockouts = lockouts
        self.bindNonceToSourceIP = bindNonceToSourceIP
    }

    /// The outcome and the auth event describing it. `lockout` is set when this request's
    /// failure locked the source out (the caller persists it cluster-wide).
    public struct Outcome: Sendable {
        public var decision: AuthDecision
        public var event: AuthEvent
        public var lockout: Lockout?
    }

    public func authorize(_ request: SIPMessage, source: RequestSource, configuration: EdgeConfiguration, now: Date) -> Outcome {
        let method = String(request.method ?? "")
        let uri = request.requestURI
        var event = AuthEvent(
            accountSid: nil, trunkSid: nil, time: now, sourceIP: source.ip, sourcePort: source.port,
            transport: source.transport, method: method, requestURI: uri.map { String($0.raw) } ?? "",
            userName: nil, algorithm: nil, credentialSid: nil, result: .rejected, reason: "")
        func finish(_ decision: AuthDecision, _ result: AuthEvent.Result, _ reason: String, lockout: Lockout? = nil) -> Outcome {
            event.result = result
            event.reason = reason
            return Outcome(decision: decision, event: event, lockout: lockout)
        }

        // Trunk resolution by the Request-URI host, never by To.
        guard let uri, uri.isSIP, let trunk = configuration.trunk(forDomain: uri.normalizedHost) else {
            if lockouts.lockedUntil(source.ip, now: now) != nil {
                return finish(.reject(status: 403, reason: "Forbidden"), .rejected, "locked_out")
            }
            return finish(.reject(status: 404, reason: "Not Found"), .rejected, "unknown_domain")
        }
        event.accountSid = trunk.trunk.accountSid
        event.trunkSid = trunk.trunk.sid

        if lockouts.lockedUntil(source.ip, now: now) != nil {
            return finish(.reject(status: 403, reason: "Forbidden"), .rejected, "locked_out")
        }
        // ACK and CANCEL are never challenged (RFC 3261 §22.1): they belong to a transaction
        // that was itself authorised.
        guard let kind = DigestChallengeKind(method: method) else {
            return finish(.allow(trunk: trunk, credential: nil, algorithm: nil), .allowed, "not_challenged")
        }
        let authType = trunk.trunk.authType
        if authType.needsACL {
            guard let ip = IPAddress(source.ip), trunk.aclAllows(ip) else {
                return finish(.reject(status: 403, reason: "Forbidden"), .rejected, "ip_not_in_acl")
            }
            if !authType.needsCredential {
                return finish(.allow(trunk: trunk, credential: nil, algorithm: nil), .allowed, "ok")
            }
        }

        guard let policy = policies.policy(realm: trunk.trunk.realm, algorithms: trunk.trunk.digestAlgorithms) else {
            return finish(.reject(status: 500, reason: "Server Internal Error"), .rejected, "trunk_misconfigured")
        }
        let binding = NonceBinding(trunk: trunk.trunk.sid, sourceIP: bindNonceToSourceIP ? source.ip : nil)
        let credentialsHeader: SIPHeaderName.Known = kind == .www ? .authorization : .proxyAuthorization
        let verification = authenticator.verify(
            headerValues: request.headers(credentialsHeader),
            request: DigestRequest(method: method, uri: String(uri.raw), body: Array(request.body)),
            policy: policy, binding: binding,
            user: { name in
                trunk.credentials[name].map { DigestHA1Set(lowercasedMD5: $0.ha1MD5, sha256: $0.ha1SHA256, sha512_256: $0.ha1SHA512_256) }
            })
        switch verification {
        case .ok(let user, let algorithm):
            let credential = trunk.credentials[user]
            event.userName = user
            event.algorithm = algorithm.rawValue
            event.credentialSid = credential?.sid
            return finish(.allow(trunk: trunk, credential: credential, algorithm: algorithm.rawValue), .allowed, "ok")
        case .failure(let failure, let attempt):
            event.userName = attempt.username
            event.algorithm = attempt.algorithm?.rawValue
            event.credentialSid = attempt.username.flatMap { trunk.credentials[$0]?.sid }
            switch failure {
            case .missingCredentials:
                return finish(.challenge(authenticator.challenge(kind, policy: policy, binding: binding)), .challenged, failure.rawValue)
            case .staleNonce:
                return finish(.challenge(authenticator.challenge(kind, policy: policy, binding: binding, stale: true)), .challenged, failure.rawValue)
            default:
                var lockout: Lockout?
                if case .lockedOut(let until, let failures) = lockouts.recordFailure(source.ip, now: now) {
                    lockout = Lockout(ip: source.ip, accountSid: trunk.trunk.accountSid, lockedAt: now, until: until, failures: failures)
                }
                switch failure {
                case .wrongPassword, .unknownUser, .noHA1ForAlgorithm:
                    // Identical to the client whichever it was.
                    return finish(.reject(status: 403, reason: "Forbidden"), .rejected, failure.rawValue, lockout: lockout)
                default:
                    // The client may have answered another realm's or node's challenge, or
                    // replayed an old one: give it a fresh one.
                    return finish(.challenge(authenticator.challenge(kind, policy: policy, binding: binding)), .rejected, failure.rawValue, lockout: lockout)
                }
            }
        }
    }
}

/// Challenge policies, built once per (realm, algorithms) on each thread and then reused: every
/// request of a digest trunk needs its trunk's policy, so each event loop keeps its own table.
final class ChallengePolicyCache: Sendable {
    private struct Key: Hashable, Sendable {
        var realm: String
        var algorithms: [String]
    }

    private let shards = ThreadShards { [Key: DigestChallengePolicy]() }
    /// Per thread; a table that reaches it starts over (bounded memory).
    private let limit = 50_000

    func policy(realm: String, algorithms: [String]) -> DigestChallengePolicy? {
        let key = Key(realm: realm, algorithms: algorithms)
        return shards.withCurrent { table in
            if let hit = table[key] { return hit }
            let parsed = algorithms.compactMap { DigestAlgorithm(token: $0) }
            guard let policy = try? DigestChallengePolicy(realm: realm, algorithms: parsed.isEmpty ? DigestChallengePolicy.defaultAlgorithms : parsed) else {
                return nil
            }
            if table.count >= limit { table.removeAll(keepingCapacity: true) }
            table[key] = policy
            return policy
        }
    }
}
