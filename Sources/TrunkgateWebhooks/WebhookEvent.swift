public import Foundation
public import TrunkgateModel

/// One delivery's body: `{"id","type","account_sid","created_at","data"}` where `data` is the
/// auth event or the CDR exactly as the API shows it (never a secret).
public struct WebhookEvent: Sendable, Encodable {
    public var id: String
    public var type: WebhookEventType
    public var accountSid: String
    public var createdAt: Date
    public var data: Payload

    public enum Payload: Sendable, Encodable {
        case auth(AuthEvent)
        case call(CallRecord)

        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .auth(let e): try e.encode(to: encoder)
            case .call(let r): try r.encode(to: encoder)
            }
        }
    }

    public init(type: WebhookEventType, accountSid: String, createdAt: Date, data: Payload) {
        // The auth event's or CDR's own id, so that a receiver can deduplicate retries.
        switch data {
        case .auth(let e): id = e.sid
        case .call(let r): id = r.sid
        }
        self.type = type
        self.accountSid = accountSid
        self.createdAt = createdAt
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case id, type
        case accountSid = "account_sid"
        case createdAt = "created_at"
        case data
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
