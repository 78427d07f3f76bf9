import Hummingbird
import Foundation

/// `/readyz`, `/metrics` and the OpenAPI document.
enum Operations {
    static func readiness(_ call: APICall) async throws -> Response {
        async let storeOK = call.store.ping()
        let listenersOK = await call.options.readiness()
        let store = await storeOK
        let ready = store && listenersOK
        let body: JSONValue = [
            "status": .string(ready ? "ready" : "not_ready"),
            "checks": ["store": .bool(store), "listeners": .bool(listenersOK)],
        ]
        return Reply.raw(ready ? .ok : .serviceUnavailable, body.encoded(), contentType: "application/json")
    }

    static func metrics(_ call: APICall) async throws -> Response {
        var buffer: [UInt8] = []
        call.options.prometheus?.emit(into: &buffer)
        return Reply.raw(.ok, buffer, contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    static func openAPI(_ call: APICall) async throws -> Response {
        Reply.raw(.ok, OpenAPIDocument.data, contentType: "application/json")
    }
}
