public import SIPMessage

/// The parameters of a Digest `Authorization` / `Proxy-Authorization`, checked for presence and
/// form (RFC 7616 §3.4, RFC 3261 §22.4). Nothing here is verified against secrets yet.
public struct DigestCredentials: Sendable, Hashable {
    /// The user name, or the userhash when ``userhash`` is true.
    public var username: String
    public var userhash: Bool
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    /// `algorithm` as sent (`MD5` when absent); ``algorithm`` is nil when it is unknown.
    public var algorithmToken: String
    public var algorithm: DigestAlgorithm?
    /// `qop` as sent; ``qop`` is nil when absent or unknown.
    public var qopToken: String?
    public var qop: DigestQOP?
    /// `nc` as sent (it is hashed as text) and its value.
    public var ncText: String?
    public var nc: UInt32?
    public var cnonce: String?
    public var opaque: String?

    /// Reads the Digest parameters of `header`.
    /// - Throws: ``DigestFailure/unsupportedScheme`` for other schemes,
    ///   ``DigestFailure/malformedHeader`` when a required parameter is missing or garbled.
    public init(_ header: SIPAuthHeader) throws(DigestFailure) {
        guard header.isDigest else { throw .unsupportedScheme }
        guard let username = header.effectiveUsername, let realm = header["realm"], let nonce = header["nonce"],
              let uri = header["uri"], let response = header["response"], !response.isEmpty,
              response.utf8.allSatisfy(ASCII.isHex)
        else { throw .malformedHeader }
        switch header["userhash"] {
        case nil: userhash = false
        case let flag? where ASCII.equalsIgnoringCase(flag, "false"): userhash = false
        case let flag? where ASCII.equalsIgnoringCase(flag, "true"): userhash = true
        default: throw .malformedHeader
        }
        // A userhash is the hash of a plain name, never of an RFC 8187 one.
        if userhash, header["username*"] != nil { throw .malformedHeader }
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        algorithmToken = header["algorithm"] ?? "MD5"
        algorithm = DigestAlgorithm(token: algorithmToken)
        qopToken = header["qop"]
        qop = qopToken.flatMap { DigestQOP(token: $0) }
        cnonce = header["cnonce"]
        opaque = header["opaque"]
        ncText = header["nc"]
        if let ncText {
            // nc = 8LHEX; upper case is tolerated (it is hashed as sent anyway).
            guard ncText.utf8.count == 8, ncText.utf8.allSatisfy(ASCII.isHex), let value = UInt32(ncText, radix: 16), value > 0
            else { throw .malformedHeader }
            nc = value
        }
        if qopToken != nil {
            guard nc != nil, let cnonce, !cnonce.isEmpty else { throw .malformedHeader }
        } else if nc != nil {
            throw .malformedHeader
        }
        if algorithm?.isSession == true, (cnonce ?? "").isEmpty { throw .malformedHeader }
    }
}
