import Foundation
import Prometheus
import Synchronization
import Testing
import TrunkgateAPI
import TrunkgateModel

/// The parts every endpoint shares: operations endpoints, the OpenAPI document and its
/// agreement with the router, authentication, tenancy, content type, body size, JSON
/// errors, rate limiting and pagination. Over real HTTP on 127.0.0.1, on SQLite and PostgreSQL.
@Suite("API protocol")
struct ProtocolTests {
    @Test(arguments: StoreBackend.all)
    func operationsEndpointsNeedNoKey(_ backend: StoreBackend) async throws {
        let registry = PrometheusCollectorRegistry()
        try await withAPI(backend, configure: { $0.prometheus = registry }) { api in
            let health = try await api.get("/healthz", auth: Auth.none)
            expectDocumented(health, "getHealth")
            #expect(health["status"]?.stringValue == "ok")

            let ready = try await api.get("/readyz", auth: Auth.none)
            expectDocumented(ready, "getReadiness")
            #expect(ready["status"]?.stringValue == "ready")
            #expect(ready["checks"]?["store"]?.boolValue == true)

            _ = try await api.get(api.path("/trunks"))
            let metrics = try await api.get("/metrics", auth: Auth.none)
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains("trunkgate_api_requests_total"))
            #expect(metrics.text.contains(#"route="/v1/accounts/{account_sid}/trunks""#), "labelled by route template, not by account")
            #expect(!metrics.text.contains(api.account.sid))
        }
    }

    @Test(arguments: StoreBackend.all)
    func readinessFollowsTheListeners(_ backend: StoreBackend) async throws {
        try await withAPI(backend, configure: { $0.readiness = { false } }) { api in
            let ready = try await api.get("/readyz", auth: Auth.none)
            #expect(ready.status == 503)
            #expect(ready["status"]?.stringValue == "not_ready")
            #expect(ready["checks"]?["listeners"]?.boolValue == false)
            #expect(SchemaChecker().problems(try #require(ready.json), component: "Readiness").isEmpty)
            #expect(try await api.get("/healthz", auth: Auth.none).status == 200, "liveness is not readiness")
        }
    }

    /// The router and the OpenAPI document are built from one route table; this checks the
    /// served document against the routes and against what the server actually answers.
    @Test(arguments: StoreBackend.all)
    func openAPIDocumentAndRoutesAgree(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let served = try await api.get("/v1/openapi.json", auth: Auth.none)
            #expect(served.status == 200)
            let doc = try #require(served.json)
            #expect(doc == OpenAPIDocument.value)
            #expect(doc["openapi"]?.stringValue?.hasPrefix("3.1") == true)
            let paths = try #require(doc["paths"]?.objectValue)
            let components = try #require(doc["components"]?["schemas"]?.objectValue)

            // Every route is documented, with its parameters and schemas.
            var documented = Set<String>()
            for (path, item) in paths {
                for method in try #require(item.objectValue).keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            let routed = Set(APIRoutes.all.map { "\($0.method.rawValue) \($0.path)" })
            #expect(routed.count == APIRoutes.all.count, "no route twice")
            #expect(documented == routed)
            for route in APIRoutes.all {
                let op = try #require(paths[route.path]?[route.method.rawValue.lowercased()])
                #expect(op["operationId"]?.stringValue == route.operationID)
                let params = (op["parameters"]?.arrayValue ?? []).compactMap { p -> String? in
                    p["in"]?.stringValue == "path" ? p["name"]?.stringValue : nil
                }
                #expect(params == route.pathParameters, "\(route.operationID) path parameters")
                if let body = route.requestSchema { #expect(components[body] != nil, "\(body) defined") }
                if let schema = route.success.schema { #expect(components[schema] != nil, "\(schema) defined") }
                #expect(op["responses"]?[String(route.success.status)] != nil)
                for status in route.errorStatuses { #expect(op["responses"]?[String(status)] != nil, "\(route.operationID) documents \(status)") }
                #expect((op["security"]?.arrayValue?.isEmpty ?? true) == (route.access == .open))
            }

            // The server answers exactly the documented operations: each one is routed (an open
            // one answers, an account one asks for credentials), an undocumented method on a
            // documented path is 405 with the documented methods in Allow, and an undocumented
            // path is 404.
            func concrete(_ template: String) -> String {
                template.split(separator: "/", omittingEmptySubsequences: false).map { seg -> String in
                    guard seg.hasPrefix("{") else { return String(seg) }
                    switch seg {
                    case "{account_sid}": return api.account.sid
                    case "{ip}": return "192.0.2.1"
                    case "{trunk_sid}": return SID.make(.trunk)
                    default: return SID.make(.credential)
                    }
                }.joined(separator: "/")
            }
            for (path, item) in paths {
                let methods = try #require(item.objectValue).keys.map { $0.uppercased() }
                let url = concrete(path)
                for method in methods {
                    let route = try #require(APIRoutes.all.first { $0.path == path && $0.method.rawValue == method })
                    let reply = try await api.call(method, url, json: route.requestSchema == nil ? nil : [:], auth: Auth.none)
                    if route.access == .open {
                        #expect(reply.status == 200, "\(method) \(path): \(reply)")
                    } else {
                        expectError(reply, 401, "unauthorized")
                        #expect(reply.header("WWW-Authenticate")?.hasPrefix("Basic") == true)
                    }
                }
                let other = ["GET", "POST", "PATCH", "DELETE", "PUT"].first { !methods.contains($0) }
                if let other {
                    let reply = try await api.call(other, url, auth: api.auth)
                    expectError(reply, 405, "method_not_allowed")
                    let allow = Set((reply.header("Allow") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(allow == Set(methods), "Allow of \(path)")
                }
            }
            expectError(try await api.get(api.path("/no-such-thing")), 404, "not_found")
            expectError(try await api.get("/v2/whatever", auth: Auth.none), 404, "not_found")
        }
    }

    /// The service stops on graceful shutdown: afterwards nothing listens on its port.
    @Test func serverStopsOnGracefulShutdown() async throws {
        let box = PortBox()
        try await withAPI(.sqlite) { api in
            box.port.withLock { $0 = api.port }
            let reply = try await api.get("/healthz", auth: Auth.none)
            #expect(reply.status == 200)
        }
        let port = try #require(box.port.withLock { $0 })
        await #expect(throws: (any Error).self) { _ = try await RawHTTP.send(port: port, method: "GET", path: "/healthz", headers: [], body: nil) }
    }

    @Test(arguments: StoreBackend.all)
    func authenticationAndTenancy(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            // Accepted forms.
            #expect(try await api.get(api.path("/trunks"), auth: .basic(key: api.key, token: api.token)).status == 200)
            #expect(try await api.get(api.path("/trunks"), auth: .bearer(api.token)).status == 200)
            #expect(try await api.get(api.path("/trunks"), auth: .bearer("\(api.key):\(api.token)")).status == 200)

            // Refused: none, wrong token, another key's token, unknown key, garbage.
            for auth: Auth in [.none, .basic(key: api.key, token: api.token + "x"), .basic(key: api.key, token: api.otherToken),
                               .basic(key: SID.make(.apiKey), token: api.token), .bearer("tg_nothing"), .raw("Digest abc"), .raw("Basic !!!")] {
                let reply = try await api.get(api.path("/trunks"), auth: auth)
                expectError(reply, 401, "unauthorized")
                #expect(!reply.text.contains(api.token))
            }

            // Another account's objects are 404, never 403, and cannot be changed.
            let trunk = try await api.post(api.path("/trunks"), ["trunk_name": "mine"])
            let sid = try #require(trunk["sid"]?.stringValue)
            try await api.expectRefused(404, "not_found") { try await api.get(api.path("/trunks"), auth: api.otherAuth) }
            try await api.expectRefused(404, "not_found") { try await api.get(api.path("/trunks/\(sid)"), auth: api.otherAuth) }
            try await api.expectRefused(404, "not_found") { try await api.delete(api.path("/trunks/\(sid)"), auth: api.otherAuth) }
            try await api.expectRefused(404, "not_found") {
                try await api.post("/v1/accounts/\(api.other.sid)/trunks/\(sid)", ["trunk_name": "stolen"], auth: api.otherAuth)
            }
            try await api.expectRefused(404, "not_found") {
                try await api.delete("/v1/accounts/\(api.other.sid)/trunks/\(sid)", auth: api.otherAuth)
            }
            let theirs = try await api.get("/v1/accounts/\(api.other.sid)/trunks", auth: api.otherAuth)
            #expect(theirs.status == 200 && theirs["trunks"]?.arrayValue?.isEmpty == true)
            #expect(api.logs.text.contains("api request"))
            #expect(!api.logs.text.contains(api.token) && !api.logs.text.contains(api.otherToken), "tokens never logged")
        }
    }

    @Test(arguments: StoreBackend.all)
    func requestBodyRules(_ backend: StoreBackend) async throws {
        try await withAPI(backend, configure: { $0.maxBodyBytes = 2048 }) { api in
            let trunks = api.path("/trunks")
            let body = Array(#"{"trunk_name":"t1"}"#.utf8)
            try await api.expectRefused(415, "unsupported_media_type") { try await api.call("POST", trunks, raw: body, contentType: nil) }
            try await api.expectRefused(415, "unsupported_media_type") { try await api.call("POST", trunks, raw: body, contentType: "text/plain") }
            try await api.expectRefused(415, "unsupported_media_type") {
                try await api.call("POST", trunks, raw: body, contentType: "application/x-www-form-urlencoded")
            }
            #expect(try await api.call("POST", trunks, raw: body, contentType: "application/json; charset=utf-8").status == 201)

            let huge = Array(("{\"trunk_name\":\"t2\",\"realm\":\"" + String(repeating: "a", count: 4096) + "\"}").utf8)
            try await api.expectRefused(413, "body_too_large") { try await api.call("POST", trunks, raw: huge) }

            try await api.expectRefused(400, "invalid_json") { try await api.call("POST", trunks, raw: Array("{\"trunk_name\":".utf8)) }
            try await api.expectRefused(400, "invalid_body") { try await api.call("POST", trunks, raw: Array("[1,2]".utf8)) }
            try await api.expectRefused(400, "unknown_field", field: "colour") { try await api.post(trunks, ["trunk_name": "t3", "colour": "red"]) }
            try await api.expectRefused(400, "missing_field", field: "trunk_name") { try await api.post(trunks, ["realm": "x.example.com"]) }
            try await api.expectRefused(400, "invalid_type", field: "trunk_name") { try await api.post(trunks, ["trunk_name": 5]) }
            try await api.expectRefused(400, "invalid_type", field: "max_cps") { try await api.post(trunks, ["trunk_name": "t4", "max_cps": "ten"]) }
            try await api.expectRefused(400, "invalid_type", field: "digest_algorithms") {
                try await api.post(trunks, ["trunk_name": "t5", "digest_algorithms": "MD5"])
            }
        }
    }

    @Test(arguments: StoreBackend.all)
    func rateLimitPerKey(_ backend: StoreBackend) async throws {
        try await withAPI(backend, configure: { $0.rateLimitPerMinute = 3 }) { api in
            for _ in 0..<3 { #expect(try await api.get(api.path("/trunks")).status == 200) }
            let limited = try await api.expectRefused(429, "rate_limited") { try await api.get(api.path("/trunks")) }
            let retry = try #require(limited.header("Retry-After").flatMap { Int($0) })
            #expect((1...60).contains(retry))
            try await api.expectRefused(429, "rate_limited") { try await api.post(api.path("/trunks"), ["trunk_name": "late"]) }
            // Per key: the other account's key has its own budget; open endpoints are not limited.
            #expect(try await api.get("/v1/accounts/\(api.other.sid)/trunks", auth: api.otherAuth).status == 200)
            #expect(try await api.get("/healthz", auth: Auth.none).status == 200)
        }
    }

    @Test(arguments: StoreBackend.all)
    func cursorPagination(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            var created: [String] = []
            for i in 0..<5 {
                let r = try await api.post(api.path("/trunks"), ["trunk_name": .string("p\(i)")])
                created.append(try #require(r["sid"]?.stringValue))
            }
            var seen: [String] = []
            var token: String?
            var pages = 0
            repeat {
                let query = "?page_size=2" + (token.map { "&page_token=\($0)" } ?? "")
                let page = try await api.get(api.path("/trunks") + query)
                expectDocumented(page, "listTrunks")
                let items = try #require(page["trunks"]?.arrayValue)
                #expect(items.count <= 2)
                #expect(page["meta"]?["page_size"]?.intValue == 2)
                seen += items.compactMap { $0["sid"]?.stringValue }
                token = page["meta"]?["next_page_token"]?.stringValue
                pages += 1
            } while token != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == created.sorted(), "every trunk once, in sid order")

            let all = try await api.get(api.path("/trunks"))
            #expect(all["trunks"]?.arrayValue?.count == 5)
            #expect(all["meta"]?["next_page_token"]?.isNull == true)
            #expect(all["meta"]?["page_size"]?.intValue == 50)

            for bad in ["?page_size=0", "?page_size=1001", "?page_size=abc"] {
                try await api.expectRefused(400, "invalid_page_size", field: "page_size") { try await api.get(api.path("/trunks") + bad) }
            }
            try await api.expectRefused(400, "invalid_page_token", field: "page_token") { try await api.get(api.path("/trunks") + "?page_token=%%%") }
        }
    }
}

final class PortBox: Sendable {
    let port = Mutex<Int?>(nil)
}
