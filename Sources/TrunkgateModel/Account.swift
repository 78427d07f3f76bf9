public import Foundation

/// A tenant. Every other object belongs to exactly one account.
public struct Account: Sendable, Hashable, Codable {
    public var sid: String
    public var name: String
    public var createdAt: Date
    /// Event delivery; nil when the account has none. Not encoded: the API shows it without
    /// the secret.
    public var webhook: WebhookSettings?

    public init(sid: String = SID.make(.account), name: String, createdAt: Date = Date(), webhook: WebhookSettings? = nil) {
        self.sid = sid
        self.name = name
        self.createdAt = createdAt
        self.webhook = webhook
    }

    enum CodingKeys: String, CodingKey {
        case sid, name
        case createdAt = "created_at"
    }
}

/// An API key: `sid` is the public `key`; only a hash of the token is kept (see ``APIToken``).
public struct APIKey: Sendable, Hashable {
    public var sid: String
    public var accountSid: String
    /// HMAC-SHA-256 of the token under a per-key random salt, hex.
    public var tokenHash: String
    public var salt: String
    public var createdAt: Date

    public init(sid: String = SID.make(.apiKey), accountSid: String, tokenHash: String, salt: String, createdAt: Date = Date()) {
        self.sid = sid
        self.accountSid = accountSid
        self.tokenHash = tokenHash
        self.salt = salt
        self.createdAt = createdAt
    }
}
