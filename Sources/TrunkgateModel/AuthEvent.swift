public import Foundation

/// One authentication decision of the edge (SPEC §3): what was asked, by whom, and why it
/// was allowed or refused. Never carries a secret.
public struct AuthEvent: Sendable, Hashable, Codable {
    public enum Result: String, Sendable, Hashable, Codable, CaseIterable {
        case allowed, challenged, rejected
    }

    public var sid: String
    public var accountSid: String?
    public var trunkSid: String?
    public var time: Date
    public var sourceIP: String
    public var sourcePort: Int
    public var transport: String
    public var method: String
    public var requestURI: String
    public var userName: String?
    public var algorithm: String?
    public var credentialSid: String?
    public var result: Result
    /// e.g. `ok`, `unknown_domain`, `ip_not_in_acl`, `unknown_user`, `wrong_password`, `stale_nonce`, `locked_out`.
    public var reason: String

    public init(
        sid: String = SID.make(.authEvent), accountSid: String?, trunkSid: String?, time: Date, sourceIP: String, sourcePort: Int,
        transport: String, method: String, requestURI: String, userName: String?, algorithm: String?, credentialSid: String?,
        result: Result, reason: String
    ) {
        self.sid = sid
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.time = time
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.transport = transport
        self.method = method
        self.requestURI = requestURI
        self.userName = userName
        self.algorithm = algorithm
        self.credentialSid = credentialSid
        self.result = result
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case trunkSid = "trunk_sid"
        case time
        case sourceIP = "source_ip"
        case sourcePort = "source_port"
        case transport, method
        case requestURI = "request_uri"
        case userName = "user_name"
        case algorithm
        case credentialSid = "credential_sid"
        case result, reason
    }
}

/// Filters for `GET …/auth-events`.
public struct AuthEventQuery: Sendable, Hashable {
    public var accountSid: String
    public var trunkSid: String?
    public var sourceIP: String?
    public var userName: String?
    public var result: AuthEvent.Result?
    public var reason: String?
    public var since: Date?
    public var until: Date?

    public init(accountSid: String, trunkSid: String? = nil, sourceIP: String? = nil, userName: String? = nil,
                result: AuthEvent.Result? = nil, reason: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.sourceIP = sourceIP
        self.userName = userName
        self.result = result
        self.reason = reason
        self.since = since
        self.until = until
    }
}

/// A source IP locked out after repeated authentication failures (cluster-wide via the store).
public struct Lockout: Sendable, Hashable, Codable {
    public var ip: String
    public var accountSid: String?
    public var lockedAt: Date
    public var until: Date
    public var failures: Int

    public init(ip: String, accountSid: String?, lockedAt: Date, until: Date, failures: Int) {
        self.ip = ip
        self.accountSid = accountSid
        self.lockedAt = lockedAt
        self.until = until
        self.failures = failures
    }

    enum CodingKeys: String, CodingKey {
        case ip
        case accountSid = "account_sid"
        case lockedAt = "locked_at"
        case until = "locked_until"
        case failures
    }
}

/// A registrar contact binding (RFC 3261 §10).
public struct RegistrationBinding: Sendable, Hashable, Codable {
    public var sid: String
    public var accountSid: String
    public var trunkSid: String
    /// Address of record: `sip:user@domain`, normalised.
    public var aor: String
    public var contact: String
    public var expiresAt: Date
    /// q-value in thousandths (0…1000).
    public var q: Int
    public var callID: String
    public var cseq: Int
    public var credentialSid: String?
    public var sourceIP: String
    public var sourcePort: Int
    public var transport: String
    public var userAgent: String?
    public var updatedAt: Date

    public init(sid: String = SID.make(.registration), accountSid: String, trunkSid: String, aor: String, contact: String,
                expiresAt: Date, q: Int, callID: String, cseq: Int, credentialSid: String?, sourceIP: String, sourcePort: Int,
                transport: String, userAgent: String?, updatedAt: Date) {
        self.sid = sid
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.aor = aor
        self.contact = contact
        self.expiresAt = expiresAt
        self.q = q
        self.callID = callID
        self.cseq = cseq
        self.credentialSid = credentialSid
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.transport = transport
        self.userAgent = userAgent
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case trunkSid = "trunk_sid"
        case aor, contact
        case expiresAt = "expires_at"
        case q
        case callID = "call_id"
        case cseq
        case credentialSid = "credential_sid"
        case sourceIP = "source_ip"
        case sourcePort = "source_port"
        case transport
        case userAgent = "user_agent"
        case updatedAt = "updated_at"
    }
}
