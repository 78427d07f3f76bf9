public import Hummingbird
import Foundation
import TrunkgateModel

/// One endpoint: the single description from which both the router and the OpenAPI document
/// are built (``makeAPIRouter(store:options:)`` registers exactly ``APIRoutes/all``, and
/// ``OpenAPIDocument`` renders exactly ``APIRoutes/all``), so the two cannot drift.
public struct APIRoute: Sendable {
    public enum Access: Sendable {
        /// No credentials (`/healthz`, `/readyz`, `/metrics`, the OpenAPI document).
        case open
        /// An API key of the account named by the `{account_sid}` path parameter.
        case account
    }

    public struct QueryParameter: Sendable {
        public var name: String
        public var description: String
        public var schema: JSONValue
    }

    public struct Success: Sendable {
        public var status: Int
        public var description: String
        /// Component schema name of the JSON body; nil for no body (204) or non-JSON bodies.
        public var schema: String?
        public var contentType: String
    }

    public var method: HTTPRequest.Method
    /// OpenAPI/Hummingbird path template, e.g. `/v1/accounts/{account_sid}/trunks/{trunk_sid}`.
    public var path: String
    public var operationID: String
    public var summary: String
    public var description: String?
    public var tag: String
    public var access: Access
    /// Component schema name of the JSON request body (an object schema listing every accepted field).
    public var requestSchema: String?
    public var query: [QueryParameter]
    public var success: Success
    /// Error statuses specific to this endpoint (409, 422 …); the common ones are derived
    /// from the other properties (see ``errorStatuses``).
    public var extraErrors: [Int]
    let handler: @Sendable (APICall) async throws -> Response

    /// Path parameters in order of appearance.
    public var pathParameters: [String] {
        path.split(separator: "/").compactMap { seg in
            seg.hasPrefix("{") && seg.hasSuffix("}") ? String(seg.dropFirst().dropLast()) : nil
        }
    }

    /// Every error status this endpoint can answer with.
    public var errorStatuses: [Int] {
        var s = Set(extraErrors)
        if access == .account { s.formUnion([401, 404, 429, 503]) }
        if !pathParameters.isEmpty { s.insert(404) }
        if requestSchema != nil { s.formUnion([400, 413, 415, 422]) }
        if !query.isEmpty { s.insert(400) }
        return s.sorted()
    }

    /// True when `path` (a concrete request path) matches this route's template.
    func matches(path requestPath: String) -> Bool {
        let want = path.split(separator: "/")
        let have = requestPath.split(separator: "/")
        guard want.count == have.count else { return false }
        return zip(want, have).allSatisfy { w, h in (w.hasPrefix("{") && w.hasSuffix("}")) || w == h }
    }
}

/// What a handler gets: the request, its path and query parameters, the caller's account and
/// the parsed body.
struct APICall: Sendable {
    let request: Request
    let context: APIRequestContext
    let store: any TrunkgateStore
    let options: APIOptions
    /// The authenticated account (equal to the `{account_sid}` path parameter).
    var accountSid: String = ""
    var body: JSONBody?

    func param(_ name: String) -> String {
        let raw = context.parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    func query(_ name: String) -> String? {
        request.uri.queryParameters.get(name)
    }

    /// The parsed body; present on every route that declares a request schema.
    var json: JSONBody {
        body ?? JSONBody(object: [:])
    }
}

/// JSON responses.
enum Reply {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    static func json(_ status: HTTPResponse.Status = .ok, _ value: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        let data = try encoder().encode(value)
        return raw(status, data, contentType: "application/json", headers: headers)
    }

    static func raw(_ status: HTTPResponse.Status, _ data: some Sequence<UInt8>, contentType: String, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = contentType
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }

    static func error(_ e: APIError) -> Response {
        raw(e.status, e.body.encoded(), contentType: "application/json", headers: e.headers)
    }
}
