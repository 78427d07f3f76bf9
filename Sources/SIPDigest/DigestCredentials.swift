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
        var storage: [UInt8] = []
        let slots = DigestParameterSlots(header, storage: &storage)
        let result = storage.withUnsafeBufferPointer { bytes -> Result<DigestCredentials, DigestFailure> in
            let text = DigestText(bytes: bytes)
            do throws(DigestFailure) {
                return .success(DigestCredentials(try DigestFields(slots, in: text), text: text))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    init(_ fields: DigestFields, text: DigestText) {
        username = text.string(fields.username)
        userhash = fields.userhash
        realm = text.string(fields.realm)
        nonce = text.string(fields.nonce)
        uri = text.string(fields.uri)
        response = text.string(fields.response)
        algorithmToken = fields.algorithmToken.map(text.string) ?? "MD5"
        algorithm = fields.algorithm
        qopToken = fields.qopToken.map(text.string)
        qop = fields.qop
        ncText = fields.ncText.map(text.string)
        nc = fields.nc
        cnonce = fields.cnonce.map(text.string)
        opaque = fields.opaque.map(text.string)
    }
}
