public import Foundation

/// The OpenAPI 3.1 document, rendered from ``APIRoutes/all`` and ``Schemas/all`` — the same
/// table the router is built from.
public enum OpenAPIDocument {
    static let statusDescriptions: [Int: String] = [
        400: "Malformed request: bad JSON, unknown field, wrong type, missing field or bad query parameter.",
        401: "Missing or invalid API credentials.",
        404: "No such object in this account (objects of other accounts are never visible).",
        409: "Conflict: a duplicate, or the object is still in use.",
        413: "Request body too large.",
        415: "Content-Type must be application/json.",
        422: "The request breaks a rule (see error.code and error.field), a limit, or names an object that does not exist.",
        429: "Rate limited; retry after Retry-After seconds.",
        503: "The store is unavailable (or, for /readyz, the service is not ready).",
    ]

    /// The document as a JSON value.
    public static let value: JSONValue = render()

    /// The document as served (`application/json`).
    public static let data: Data = value.encoded()

    static func render() -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for route in APIRoutes.all {
            paths[route.path, default: [:]][route.method.rawValue.lowercased()] = operation(route)
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Trunkgate control-plane API",
                "version": "1.0.0",
                "description": .string("""
                    Configuration of a Trunkgate SIP trunking edge. Authenticate with HTTP Basic `key:token` or \
                    `Authorization: Bearer <token>`; a key sees only its own account (other accounts' objects are 404). \
                    POST/PUT/PATCH bodies must be `application/json` (415 otherwise), at most 64 KiB by default (413), \
                    and may carry only the fields their schema lists (400 `unknown_field`). Errors have one shape: \
                    `{"error":{"code":…,"message":…,"field":…}}`. Lists are paginated with `page_size` and `page_token` and \
                    answer `{"<items>":[…],"meta":{"page_size":N,"next_page_token":T|null}}`. Each key may make 200 requests \
                    per minute by default (429 with Retry-After beyond). Passwords and tokens never appear in any response.
                    """),
            ],
            "components": [
                "schemas": .object(Schemas.all),
                "securitySchemes": [
                    "basicAuth": ["type": "http", "scheme": "basic", "description": "API key sid as user name, token as password."],
                    "bearerAuth": ["type": "http", "scheme": "bearer", "description": "The token (self-identifying), or key:token."],
                ],
            ],
            "paths": .object(paths.mapValues { .object($0) }),
        ]
    }

    static func operation(_ route: APIRoute) -> JSONValue {
        var op: [String: JSONValue] = [
            "operationId": .string(route.operationID),
            "summary": .string(route.summary),
            "tags": [.string(route.tag)],
        ]
        if let d = route.description { op["description"] = .string(d) }
        op["security"] = route.access == .open ? [] : [["basicAuth": []], ["bearerAuth": []]]

        var parameters: [JSONValue] = route.pathParameters.map { name in
            [
                "name": .string(name), "in": "path", "required": true,
                "schema": name == "ip" ? ["type": "string", "description": "An IPv4 or IPv6 address."] : ["type": "string"],
            ]
        }
        parameters += route.query.map { q in
            ["name": .string(q.name), "in": "query", "required": false, "description": .string(q.description), "schema": q.schema]
        }
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }

        if let body = route.requestSchema {
            op["requestBody"] = [
                "required": true,
                "content": ["application/json": ["schema": Schemas.ref(body)]],
            ]
        }

        var responses: [String: JSONValue] = [:]
        var ok: [String: JSONValue] = ["description": .string(route.success.description)]
        if let schema = route.success.schema {
            ok["content"] = [route.success.contentType: ["schema": Schemas.ref(schema)]]
        } else if route.success.status != 204 {
            ok["content"] = [route.success.contentType: ["schema": ["type": "string"]]]
        }
        if route.success.status == 201 {
            ok["headers"] = ["Location": ["description": "URL of the new object.", "schema": ["type": "string"]]]
        }
        responses[String(route.success.status)] = .object(ok)
        for status in route.errorStatuses {
            var r: [String: JSONValue] = [
                "description": .string(statusDescriptions[status] ?? "Error."),
                "content": ["application/json": ["schema": Schemas.ref(status == 503 && route.path == "/readyz" ? "Readiness" : "Error")]],
            ]
            if status == 401 {
                r["headers"] = ["WWW-Authenticate": ["schema": ["type": "string"]]]
            } else if status == 429 {
                r["headers"] = ["Retry-After": ["description": "Seconds to wait.", "schema": ["type": "integer"]]]
            }
            responses[String(status)] = .object(r)
        }
        op["responses"] = .object(responses)
        return .object(op)
    }
}

extension JSONValue {
    init(_ s: String) { self = .string(s) }
}
