/// HA1 = `H(username ":" realm ":" password)` (RFC 7616 §3.4.2).
///
/// This is the only place a plaintext password is hashed; it serves the credential store (which
/// keeps only HA1 values) and the client/CLI side. The server path works from stored HA1s.
public enum DigestHA1 {
    /// The stored (non-session) HA1 for `algorithm`'s hash. For `-sess` algorithms this is the
    /// input of ``session(_:ha1:nonce:cnonce:)``, which needs the nonce and cnonce of a request.
    public static func compute(_ algorithm: DigestAlgorithm, username: String, realm: String, password: String) -> String {
        compute(algorithm.hash, username: username, realm: realm, password: password)
    }

    public static func compute(_ hash: DigestHashFunction, username: String, realm: String, password: String) -> String {
        hash.hex(joinedByColons: username, realm, password)
    }

    /// `-sess` HA1 = `H(HA1 ":" nonce ":" cnonce)`, the inner HA1 as lower-case hex text.
    public static func session(_ hash: DigestHashFunction, ha1: String, nonce: String, cnonce: String) -> String {
        hash.hex(joinedByColons: ha1, nonce, cnonce)
    }
}
