/// Everything the edge needs to decide about one trunk, resolved ahead of time.
public struct TrunkConfiguration: Sendable {
    public var trunk: Trunk
    /// Credentials by `user_name`.
    public var credentials: [String: EdgeCredential]
    /// The trunk's assigned ACL entries plus its whitelisted IPs.
    public var acl: [CIDR]
    public var phoneNumbers: [String]
    public var destinations: [DestinationURI]

    public init(trunk: Trunk, credentials: [String: EdgeCredential], acl: [CIDR], phoneNumbers: [String], destinations: [DestinationURI]) {
        self.trunk = trunk
        self.credentials = credentials
        self.acl = acl
        self.phoneNumbers = phoneNumbers
        self.destinations = destinations
    }

    public func aclAllows(_ ip: IPAddress) -> Bool { acl.contains { $0.contains(ip) } }
}

/// The immutable snapshot the SIP hot path reads. Replaced whole (a new value) when the store
/// changes; building the next one touches only the trunks that changed, because each trunk's
/// configuration is its own value and the dictionaries are copy-on-write.
public struct EdgeConfiguration: Sendable {
    public private(set) var version: Int64
    public private(set) var trunksBySid: [String: TrunkConfiguration]
    /// Lower-cased domain name → trunk sid.
    public private(set) var trunkByDomain: [String: String]
    /// E.164 number → trunk sid.
    public private(set) var trunkByNumber: [String: String]

    public init(version: Int64, trunks: [TrunkConfiguration]) {
        self.version = version
        trunksBySid = [:]
        trunkByDomain = [:]
        trunkByNumber = [:]
        trunksBySid.reserveCapacity(trunks.count)
        for t in trunks { insert(t) }
    }

    public static let empty = EdgeConfiguration(version: 0, trunks: [])

    public func trunk(forDomain host: String) -> TrunkConfiguration? {
        guard let sid = trunkByDomain[host] ?? trunkByDomain[host.lowercased()] else { return nil }
        return trunksBySid[sid]
    }

    public func trunk(forNumber number: String) -> TrunkConfiguration? {
        trunkByNumber[number].flatMap { trunksBySid[$0] }
    }

    /// Replaces (or, with nil, removes) one trunk's configuration.
    public mutating func apply(trunkSid: String, _ configuration: TrunkConfiguration?, version: Int64) {
        remove(trunkSid)
        if let configuration { insert(configuration) }
        self.version = max(self.version, version)
    }

    public mutating func setVersion(_ version: Int64) { self.version = max(self.version, version) }

    /// Applies one credential change to a trunk already in the snapshot: `credential` is its
    /// current state in the store (nil: deleted). Only that trunk's credential table is copied
    /// (copy-on-write), not reloaded. False when the trunk is not in the snapshot.
    @discardableResult
    public mutating func applyCredential(trunkSid: String, credentialSid: String, _ credential: Credential?) -> Bool {
        guard trunksBySid[trunkSid] != nil else { return false }
        if let credential {
            if let existing = trunksBySid[trunkSid]?.credentials[credential.userName], existing.sid != credential.sid {
                // Another credential holds the user name in the snapshot: reload to be safe.
                return false
            }
            trunksBySid[trunkSid]?.credentials[credential.userName] = EdgeCredential(credential)
        } else if let name = trunksBySid[trunkSid]?.credentials.first(where: { $0.value.sid == credentialSid })?.key {
            trunksBySid[trunkSid]?.credentials.removeValue(forKey: name)
        }
        return true
    }

    private mutating func insert(_ t: TrunkConfiguration) {
        trunksBySid[t.trunk.sid] = t
        trunkByDomain[t.trunk.domainName.lowercased()] = t.trunk.sid
        for n in t.phoneNumbers { trunkByNumber[n] = t.trunk.sid }
    }

    private mutating func remove(_ sid: String) {
        guard let old = trunksBySid.removeValue(forKey: sid) else { return }
        if trunkByDomain[old.trunk.domainName.lowercased()] == sid { trunkByDomain.removeValue(forKey: old.trunk.domainName.lowercased()) }
        for n in old.phoneNumbers where trunkByNumber[n] == sid { trunkByNumber.removeValue(forKey: n) }
    }
}
