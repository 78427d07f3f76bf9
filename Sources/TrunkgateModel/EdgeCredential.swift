/// What the edge's snapshot keeps of a credential: only what the SIP path reads (the sid for
/// auth events, bindings and revocation; the user name; the HA1 values, lower-cased once here
/// rather than on every verification). A `Credential`'s owners, realm, friendly name and
/// timestamps stay in the store: with 100,000 credentials in a trunk the snapshot's table is
/// about a third of the size it was with whole `Credential` values.
public struct EdgeCredential: Sendable, Hashable {
    public var sid: String
    public var userName: String
    /// Lower-case hex HA1 values ("" when the credential has none for that hash).
    public var ha1MD5: String
    public var ha1SHA256: String
    public var ha1SHA512_256: String

    public init(sid: String, userName: String, ha1MD5: String, ha1SHA256: String, ha1SHA512_256: String) {
        self.sid = sid
        self.userName = userName
        self.ha1MD5 = Self.lowercased(ha1MD5)
        self.ha1SHA256 = Self.lowercased(ha1SHA256)
        self.ha1SHA512_256 = Self.lowercased(ha1SHA512_256)
    }

    public init(_ credential: Credential) {
        self.init(sid: credential.sid, userName: credential.userName, ha1MD5: credential.ha1MD5,
                  ha1SHA256: credential.ha1SHA256, ha1SHA512_256: credential.ha1SHA512_256)
    }

    /// The value itself when it is lower-case already (the usual case: one shared copy, no new string).
    private static func lowercased(_ hex: String) -> String {
        hex.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? hex.lowercased() : hex
    }
}
