public import Hummingbird
import Foundation
public import TrunkgateModel

/// Every error answer of the API: `{"error":{"code":…,"message":…,"field":…}}`.
///
/// Status policy:
/// - 400: the request is not well-formed — bad JSON, not an object, an unknown field, a wrong
///   JSON type, a missing required field, a bad query parameter.
/// - 401: missing or wrong credentials. 404: no such object in the caller's account (including
///   every object of another account). 409: duplicate or still in use. 413/415: body too large /
///   not `application/json`. 422: well-formed but breaks a rule (a ``ValidationError``, a limit,
///   a reference to an object that does not exist). 429: rate limited. 503: store unreachable.
///
/// Messages never contain a secret, and never internal error text.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, "not_found", "\(what) not found")
    }

    public static func badRequest(_ code: String, _ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code, message, field: field)
    }

    public static func unprocessable(_ code: String, _ message: String, field: String? = nil) -> APIError {
        APIError(.unprocessableContent, code, message, field: field)
    }

    public static let unauthorized = APIError(
        .unauthorized, "unauthorized", "valid API credentials are required (HTTP Basic key:token, or Bearer token)",
        headers: [.wwwAuthenticate: #"Basic realm="trunkgate""#]
    )

    public static let unavailable = APIError(.serviceUnavailable, "service_unavailable", "the service is temporarily unavailable; try again")

    public static let internalError = APIError(.internalServerError, "internal_error", "internal error")

    /// A broken rule of the domain model → 422.
    public init(_ error: ValidationError) {
        self.init(.unprocessableContent, error.code, error.message, field: error.field)
    }

    /// Store refusals: notFound → 404, conflict → 409, limitExceeded / invalid → 422,
    /// unavailable → 503 with a generic message (the store's text is for logs only).
    public init(_ error: StoreError) {
        switch error.kind {
        case .notFound: self.init(.notFound, error.code, error.message, field: error.field)
        case .conflict: self.init(.conflict, error.code, error.message, field: error.field)
        case .limitExceeded, .invalid: self.init(.unprocessableContent, error.code, error.message, field: error.field)
        case .unavailable: self = .unavailable
        }
    }

    var body: JSONValue {
        var inner: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { inner["field"] = .string(field) }
        return ["error": .object(inner)]
    }
}
