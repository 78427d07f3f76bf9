/// The HA1 values stored for one credential, one per hash function (SPEC §1: MD5, SHA-256 and
/// SHA-512-256 of `user_name:realm:password`), as lower-case hex.
public struct DigestHA1Set: Sendable, Hashable {
    public var md5: String?
    public var sha256: String?
    public var sha512_256: String?

    /// Values are lower-cased; the response formula hashes HA1 as lower-case hex text.
    public init(md5: String? = nil, sha256: String? = nil, sha512_256: String? = nil) {
        self.md5 = md5?.lowercased()
        self.sha256 = sha256?.lowercased()
        self.sha512_256 = sha512_256?.lowercased()
    }

    /// Values the caller already keeps lower-cased (the edge's snapshot): no new strings per
    /// verification, which the lower-casing initializer would allocate.
    public init(lowercasedMD5 md5: String?, sha256: String?, sha512_256: String?) {
        self.md5 = md5
        self.sha256 = sha256
        self.sha512_256 = sha512_256
    }

    /// All three HA1s from a password: what the credential store keeps instead of the password.
    public static func compute(username: String, realm: String, password: String) -> DigestHA1Set {
        DigestHA1Set(
            md5: DigestHA1.compute(DigestHashFunction.md5, username: username, realm: realm, password: password),
            sha256: DigestHA1.compute(DigestHashFunction.sha256, username: username, realm: realm, password: password),
            sha512_256: DigestHA1.compute(DigestHashFunction.sha512_256, username: username, realm: realm, password: password)
        )
    }

    public subscript(hash: DigestHashFunction) -> String? {
        switch hash {
        case .md5: md5
        case .sha256: sha256
        case .sha512_256: sha512_256
        }
    }
}
