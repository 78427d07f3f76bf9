public import Foundation

/// Digest credentials of a trunk. The password itself is never kept: only HA1 =
/// H(user_name:realm:password) for each algorithm. Encoding (the API's JSON) leaves the
/// digests out, so no response can carry them.
public struct Credential: Sendable, Hashable, Codable {
    public var sid: String
    public var accountSid: String
    public var trunkSid: String
    public var userName: String
    public var friendlyName: String?
    /// Lower-case hex HA1 values.
    public var ha1MD5: String
    public var ha1SHA256: String
    public var ha1SHA512_256: String
    /// The realm the HA1 values were computed for (the trunk's realm at creation).
    public var realm: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var lastUsedIP: String?

    public init(
        sid: String = SID.make(.credential), accountSid: String, trunkSid: String, userName: String, friendlyName: String?,
        ha1MD5: String, ha1SHA256: String, ha1SHA512_256: String, realm: String,
        createdAt: Date = Date(), lastUsedAt: Date? = nil, lastUsedIP: String? = nil
    ) {
        self.sid = sid
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.userName = userName
        self.friendlyName = friendlyName
        self.ha1MD5 = ha1MD5
        self.ha1SHA256 = ha1SHA256
        self.ha1SHA512_256 = ha1SHA512_256
        self.realm = realm
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.lastUsedIP = lastUsedIP
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case trunkSid = "trunk_sid"
        case userName = "user_name"
        case friendlyName = "friendly_name"
        case realm
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case lastUsedIP = "last_used_ip"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sid = try c.decode(String.self, forKey: .sid)
        accountSid = try c.decode(String.self, forKey: .accountSid)
        trunkSid = try c.decode(String.self, forKey: .trunkSid)
        userName = try c.decode(String.self, forKey: .userName)
        friendlyName = try c.decodeIfPresent(String.self, forKey: .friendlyName)
        realm = try c.decode(String.self, forKey: .realm)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        lastUsedAt = try c.decodeIfPresent(Date.self, forKey: .lastUsedAt)
        lastUsedIP = try c.decodeIfPresent(String.self, forKey: .lastUsedIP)
        ha1MD5 = ""; ha1SHA256 = ""; ha1SHA512_256 = ""
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sid, forKey: .sid)
        try c.encode(accountSid, forKey: .accountSid)
        try c.encode(trunkSid, forKey: .trunkSid)
        try c.encode(userName, forKey: .userName)
        try c.encode(friendlyName, forKey: .friendlyName)
        try c.encode(realm, forKey: .realm)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(lastUsedAt, forKey: .lastUsedAt)
        try c.encode(lastUsedIP, forKey: .lastUsedIP)
    }
}

/// One use of a credential, recorded in batches off the SIP hot path.
public struct CredentialUse: Sendable, Hashable {
    public var credentialSid: String
    public var at: Date
    public var ip: String

    public init(credentialSid: String, at: Date, ip: String) {
        self.credentialSid = credentialSid
        self.at = at
        self.ip = ip
    }
}
