public import Foundation

/// How a trunk authenticates callers (SPEC §3).
public enum AuthType: String, Sendable, Hashable, Codable, CaseIterable {
    case credential
    case ipACL = "ip_acl"
    case ipACLAndCredential = "ip_acl_and_credential"

    public var needsCredential: Bool { self != .ipACL }
    public var needsACL: Bool { self != .credential }
}

public struct Trunk: Sendable, Hashable, Codable {
    public var sid: String
    public var accountSid: String
    public var trunkName: String
    public var domainName: String
    public var authType: AuthType
    public var realm: String
    /// Digest algorithms offered, in order (`SHA-256`, `MD5`, `SHA-512-256`, with `-sess` variants).
    public var digestAlgorithms: [String]
    public var maxCPS: Int?
    public var maxConcurrentCalls: Int?
    /// The account-level ACL assigned to this trunk, if any.
    public var ipACLSid: String?
    /// Outbound calls must present one of the trunk's own DIDs as caller ID (From user);
    /// others are refused with 403 (SPEC §3 "Calls").
    public var restrictCallerID: Bool
    public var createdAt: Date
    public var updatedAt: Date

    /// MD5 alone by default, because the interop runs showed it is the only offer every client
    /// we test accepts: SIPp 3.6.1 and sipsak answer only the first challenge and know only MD5,
    /// and baresip 1.0.0 (libre) aborts the whole 401 ("Function not implemented") as soon as
    /// any challenge names another algorithm. Trunks whose clients implement RFC 8760
    /// (Linphone, recent PJSIP) set e.g. ["SHA-256", "MD5"] per trunk.
    public static let defaultDigestAlgorithms = ["MD5"]

    public init(
        sid: String = SID.make(.trunk), accountSid: String, trunkName: String, domainName: String,
        authType: AuthType = .credential, realm: String? = nil, digestAlgorithms: [String] = Trunk.defaultDigestAlgorithms,
        maxCPS: Int? = nil, maxConcurrentCalls: Int? = nil, ipACLSid: String? = nil, restrictCallerID: Bool = false,
        createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.restrictCallerID = restrictCallerID
        self.sid = sid
        self.accountSid = accountSid
        self.trunkName = trunkName
        self.domainName = domainName
        self.authType = authType
        self.realm = realm ?? domainName
        self.digestAlgorithms = digestAlgorithms
        self.maxCPS = maxCPS
        self.maxConcurrentCalls = maxConcurrentCalls
        self.ipACLSid = ipACLSid
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case trunkName = "trunk_name"
        case domainName = "domain_name"
        case authType = "auth_type"
        case realm
        case digestAlgorithms = "digest_algorithms"
        case maxCPS = "max_cps"
        case maxConcurrentCalls = "max_concurrent_calls"
        case ipACLSid = "ip_acl_sid"
        case restrictCallerID = "restrict_caller_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// A DID mapped to a trunk; unique across the whole system.
public struct PhoneNumber: Sendable, Hashable, Codable {
    public var sid: String
    public var accountSid: String
    public var trunkSid: String
    public var phoneNumber: String
    public var createdAt: Date

    public init(sid: String = SID.make(.phoneNumber), accountSid: String, trunkSid: String, phoneNumber: String, createdAt: Date = Date()) {
        self.sid = sid
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.phoneNumber = phoneNumber
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case trunkSid = "trunk_sid"
        case phoneNumber = "phone_number"
        case createdAt = "created_at"
    }
}
