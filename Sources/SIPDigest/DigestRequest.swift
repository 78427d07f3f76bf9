/// The parts of a SIP request that Digest authentication covers.
public struct DigestRequest: Sendable, Hashable {
    /// The request method, e.g. `INVITE` (for ACK and CANCEL no challenge is ever sent).
    public var method: String
    /// The Request-URI exactly as received.
    public var uri: String
    /// The message body; hashed only for `qop=auth-int`.
    public var body: [UInt8]

    public init(method: String, uri: String, body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.body = body
    }
}
