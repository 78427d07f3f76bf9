/// What a store operation refused, in terms the API maps to a status: `notFound` → 404,
/// `conflict` → 409 (duplicate, ACL still assigned), `limitExceeded` → 422. `unavailable`
/// means the database could not be reached (503); its text is for logs, never for clients.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case notFound = "not_found"
        case conflict
        case limitExceeded = "limit_exceeded"
        case invalid
        case unavailable
    }

    public var kind: Kind
    /// Machine-readable code for the API error shape, e.g. `duplicate_domain_name`.
    public var code: String
    public var message: String
    public var field: String?

    public init(_ kind: Kind, code: String, _ message: String, field: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.field = field
    }

    public static func notFound(_ what: String) -> StoreError {
        StoreError(.notFound, code: "not_found", "\(what) not found")
    }

    public var description: String { "\(kind.rawValue): \(code): \(message)" }
}
