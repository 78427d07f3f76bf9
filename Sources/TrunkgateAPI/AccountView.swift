import Foundation
import Crypto
import TrunkgateModel

/// An account as the API shows it: the webhook without its secret, except in the one answer
/// that created or rotated the secret.
struct AccountView: Encodable {
    let account: Account
    let secret: String?

    init(_ account: Account, secret: String?) {
        self.account = account
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case sid, name
        case createdAt = "created_at"
        case webhookURL = "webhook_url"
        case webhookEvents = "webhook_events"
        case webhookSecret = "webhook_secret"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(account.sid, forKey: .sid)
        try c.encode(account.name, forKey: .name)
        try c.encode(account.createdAt, forKey: .createdAt)
        try c.encode(account.webhook?.url, forKey: .webhookURL)
        try c.encode((account.webhook?.events ?? []).map(\.rawValue), forKey: .webhookEvents)
        try c.encodeIfPresent(secret, forKey: .webhookSecret)
    }
}

/// Webhook signing secrets: `whsec_` and 32 random bytes, base64url.
enum WebhookSecrets {
    static func make() -> String {
        let raw = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
        return "whsec_" + raw.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
