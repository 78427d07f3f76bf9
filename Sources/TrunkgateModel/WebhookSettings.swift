/// Where an account's events go (SPEC §3 "Call records and events"): an HTTPS (or HTTP) URL,
/// the event types it wants, and the signing secret, sealed with the server key because the
/// sender needs it in plaintext to compute `X-Trunkgate-Signature`.
public struct WebhookSettings: Sendable, Hashable {
    public var url: String
    public var events: [WebhookEventType]
    /// The HMAC-SHA256 key, sealed by ``SecretSealer``; shown to the API client once.
    public var secretSealed: String

    public init(url: String, events: [WebhookEventType], secretSealed: String) {
        self.url = url
        self.events = events
        self.secretSealed = secretSealed
    }

    public func wants(_ type: WebhookEventType) -> Bool { events.contains(type) }
}

/// The event types a webhook can subscribe to.
public enum WebhookEventType: String, Sendable, Hashable, CaseIterable, Codable {
    /// An authentication decision that let a request through.
    case authAllowed = "auth.allowed"
    /// A request answered with a digest challenge (401/407).
    case authChallenged = "auth.challenged"
    /// A request refused: wrong password, IP not in the ACL, locked out …
    case authRejected = "auth.rejected"
    /// A call ended; the payload is its CDR.
    case callEnded = "call.ended"

    /// What an account gets when it sets a URL without naming events: the ones an operator
    /// acts on, not the per-request stream of successful authentications.
    public static let defaults: [WebhookEventType] = [.authRejected, .callEnded]

    public static func of(_ event: AuthEvent) -> WebhookEventType {
        switch event.result {
        case .allowed: .authAllowed
        case .challenged: .authChallenged
        case .rejected: .authRejected
        }
    }
}
