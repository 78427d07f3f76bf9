/// RFC 7616 §3.4.4 userhash = `H(username ":" realm)`, sent in place of the user name when the
/// server offered `userhash=true`. HA1 keeps using the plain user name.
public enum DigestUserhash {
    public static func compute(_ hash: DigestHashFunction, username: String, realm: String) -> String {
        hash.hex(joinedByColons: username, realm)
    }
}
