public import Foundation

/// An IP access-control list. Account-level ACLs are assigned to trunks; a trunk's
/// "whitelisted IPs" live in an ACL the trunk owns (`ownerTrunkSid`).
public struct IPACL: Sendable, Hashable, Codable {
    public var sid: String
    public var accountSid: String
    public var name: String
    /// Set for the implicit ACL holding a trunk's whitelisted IPs.
    public var ownerTrunkSid: String?
    public var createdAt: Date

    public init(sid: String = SID.make(.ipACL), accountSid: String, name: String, ownerTrunkSid: String? = nil, createdAt: Date = Date()) {
        self.sid = sid
        self.accountSid = accountSid
        self.name = name
        self.ownerTrunkSid = ownerTrunkSid
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case name
        case ownerTrunkSid = "owner_trunk_sid"
        case createdAt = "created_at"
    }
}

public struct IPACLEntry: Sendable, Hashable, Codable {
    public var sid: String
    public var aclSid: String
    public var ipAddress: String
    public var cidrPrefixLength: Int
    public var description: String?
    public var createdAt: Date

    public init(sid: String = SID.make(.ipACLEntry), aclSid: String, cidr: CIDR, description: String?, createdAt: Date = Date()) {
        self.sid = sid
        self.aclSid = aclSid
        self.ipAddress = cidr.address.description
        self.cidrPrefixLength = cidr.prefix
        self.description = description
        self.createdAt = createdAt
    }

    public var cidr: CIDR? { try? CIDR(address: ipAddress, prefix: cidrPrefixLength) }

    enum CodingKeys: String, CodingKey {
        case sid
        case aclSid = "ip_acl_sid"
        case ipAddress = "ip_address"
        case cidrPrefixLength = "cidr_prefix_length"
        case description
        case createdAt = "created_at"
    }
}

/// Where inbound calls for a trunk go. The outbound password is stored encrypted with the
/// server key and never encoded.
public struct DestinationURI: Sendable, Hashable, Codable {
    public var sid: String
    public var accountSid: String
    public var trunkSid: String
    public var destination: String
    public var priority: Int
    public var weight: Int
    public var authUsername: String?
    /// AES-GCM sealed box (base64) of the outbound password; nil when none.
    public var authPasswordSealed: String?
    public var createdAt: Date

    public init(
        sid: String = SID.make(.destinationURI), accountSid: String, trunkSid: String, destination: String,
        priority: Int = 10, weight: Int = 10, authUsername: String? = nil, authPasswordSealed: String? = nil, createdAt: Date = Date()
    ) {
        self.sid = sid
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.destination = destination
        self.priority = priority
        self.weight = weight
        self.authUsername = authUsername
        self.authPasswordSealed = authPasswordSealed
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSid = "account_sid"
        case trunkSid = "trunk_sid"
        case destination, priority, weight
        case authUsername = "auth_username"
        case hasAuthPassword = "has_auth_password"
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sid = try c.decode(String.self, forKey: .sid)
        accountSid = try c.decode(String.self, forKey: .accountSid)
        trunkSid = try c.decode(String.self, forKey: .trunkSid)
        destination = try c.decode(String.self, forKey: .destination)
        priority = try c.decode(Int.self, forKey: .priority)
        weight = try c.decode(Int.self, forKey: .weight)
        authUsername = try c.decodeIfPresent(String.self, forKey: .authUsername)
        authPasswordSealed = nil
        createdAt = try c.decode(Date.self, forKey: .createdAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sid, forKey: .sid)
        try c.encode(accountSid, forKey: .accountSid)
        try c.encode(trunkSid, forKey: .trunkSid)
        try c.encode(destination, forKey: .destination)
        try c.encode(priority, forKey: .priority)
        try c.encode(weight, forKey: .weight)
        try c.encode(authUsername, forKey: .authUsername)
        try c.encode(authPasswordSealed != nil, forKey: .hasAuthPassword)
        try c.encode(createdAt, forKey: .createdAt)
    }
}
