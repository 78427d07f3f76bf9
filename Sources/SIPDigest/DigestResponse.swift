/// The Digest `response` computation (RFC 7616 §3.4.1, RFC 2617 §3.2.2, RFC 3261 §22.4).
public enum DigestResponse {
    /// `H(entity-body)`, the body hash used by `qop=auth-int`.
    public static func entityBodyHash(_ hash: DigestHashFunction, body: some Sequence<UInt8>) -> String {
        hash.hex(body)
    }

    /// HA2 = `H(method ":" uri)`, or `H(method ":" uri ":" H(entity-body))` for `auth-int`
    /// (pass `entityBodyHash` exactly then).
    public static func ha2(_ hash: DigestHashFunction, method: String, uri: String, entityBodyHash: String?) -> String {
        if let entityBodyHash {
            return hash.hex(joinedByColons: method, uri, entityBodyHash)
        }
        return hash.hex(joinedByColons: method, uri)
    }

    /// The response from a stored HA1.
    ///
    /// - Parameters:
    ///   - ha1: the non-session HA1 (`H(username:realm:password)`); for `-sess` algorithms the
    ///     session HA1 is derived here from `nonce` and `cnonce`.
    ///   - nc, cnonce: as sent (hashed as text); ignored when `qop` is nil, except that `-sess`
    ///     always needs `cnonce`.
    ///   - entityBodyHash: `H(body)` for `qop=auth-int`; nil there means an empty body.
    public static func compute(
        algorithm: DigestAlgorithm, ha1: String, nonce: String, nc: String?, cnonce: String?,
        qop: DigestQOP?, method: String, uri: String, entityBodyHash: String? = nil
    ) -> String {
        let hash = algorithm.hash
        let effectiveHA1 = algorithm.isSession
            ? DigestHA1.session(hash, ha1: ha1, nonce: nonce, cnonce: cnonce ?? "")
            : ha1
        let bodyHash = qop == .authInt ? (entityBodyHash ?? hash.hex([UInt8]())) : nil
        let ha2 = ha2(hash, method: method, uri: uri, entityBodyHash: bodyHash)
        guard let qop else {
            // RFC 2069 form.
            return hash.hex(joinedByColons: effectiveHA1, nonce, ha2)
        }
        return hash.hex(joinedByColons: effectiveHA1, nonce, nc ?? "", cnonce ?? "", qop.rawValue, ha2)
    }

    /// The response from a password: what a client (and `trunkgate digest response`) computes.
    /// `body` is used only with `qop=auth-int`; nil there means an empty body.
    public static func compute(
        algorithm: DigestAlgorithm, username: String, realm: String, password: String,
        method: String, uri: String, nonce: String,
        qop: DigestQOP?, nc: String?, cnonce: String?, body: [UInt8]?
    ) -> String {
        let ha1 = DigestHA1.compute(algorithm, username: username, realm: realm, password: password)
        let bodyHash = qop == .authInt ? entityBodyHash(algorithm.hash, body: body ?? []) : nil
        return compute(
            algorithm: algorithm, ha1: ha1, nonce: nonce, nc: nc, cnonce: cnonce,
            qop: qop, method: method, uri: uri, entityBodyHash: bodyHash
        )
    }
}
