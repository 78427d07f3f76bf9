public import Hummingbird
public import Logging
public import ServiceLifecycle
public import TrunkgateModel
import Foundation
import Prometheus

/// Builds the API router: every route of ``APIRoutes/all``, behind the error/metrics/logging
/// middleware.
public func makeAPIRouter(store: any TrunkgateStore, options: APIOptions) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: APIMiddleware(options: options))
    let pipeline = APIPipeline(store: store, options: options, limiter: RateLimiter(perMinute: options.rateLimitPerMinute))
    for route in APIRoutes.all {
        router.on(RouterPath(route.path), method: route.method) { request, context in
            try await pipeline.run(route, request, context)
        }
    }
    return router
}

/// The API as a ServiceLifecycle service: bind `host:port`, serve until graceful shutdown.
///
/// ```swift
/// let api = APIServer(store: store, options: APIOptions(edgeDomain: "sip.example.com", sealer: sealer,
///                                                        prometheus: registry, readiness: { listeners.ready }),
///                     host: "127.0.0.1", port: 8080, logger: logger)
/// let group = ServiceGroup(configuration: .init(services: [sipService, api], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
public struct APIServer: Service {
    public let application: Application<RouterResponder<APIRequestContext>>

    /// - Parameter onListening: called with the bound port once the server listens (useful with port 0).
    public init(
        store: any TrunkgateStore, options: APIOptions, host: String, port: Int, logger: Logger? = nil,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        let log = logger ?? options.logger
        application = Application(
            router: makeAPIRouter(store: store, options: options),
            configuration: .init(address: .hostname(host, port: port), serverName: "trunkgate"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                log.info("API listening", metadata: ["host": .string(host), "port": .stringConvertible(bound)])
                await onListening(bound)
            },
            logger: log
        )
    }

    public func run() async throws {
        try await application.run()
    }
}

/// Auth, rate limit, tenant check, content type, body limit and parsing, then the handler.
struct APIPipeline: Sendable {
    let store: any TrunkgateStore
    let options: APIOptions
    let limiter: RateLimiter

    func run(_ route: APIRoute, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        var call = APICall(request: request, context: context, store: store, options: options)
        if route.access == .account {
            let key = try await authenticate(request)
            if let wait = limiter.take(key.sid) {
                throw APIError(
                    .tooManyRequests, "rate_limited", "more than \(options.rateLimitPerMinute) requests per minute for this key; retry in \(wait) s",
                    headers: [.retryAfter: String(wait)])
            }
            guard call.param("account_sid") == key.accountSid else { throw APIError.notFound("account") }
            call.accountSid = key.accountSid
        }
        if let schema = route.requestSchema {
            call.body = try await readBody(request, schema: schema)
        }
        return try await route.handler(call)
    }

    func authenticate(_ request: Request) async throws -> APIKey {
        guard let (keySid, token) = APICredentials.parse(authorization: request.headers[.authorization]),
              SID.isValid(keySid, .apiKey) else { throw APIError.unauthorized }
        guard let key = try await store.apiKey(keySid), APIToken.verify(token, against: key) else { throw APIError.unauthorized }
        return key
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard parts.first == "application/json" else { return false }
        for p in parts.dropFirst() where p.hasPrefix("charset=") {
            let cs = p.dropFirst("charset=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if cs != "utf-8" && cs != "utf8" { return false }
        }
        return true
    }

    func readBody(_ request: Request, schema: String) async throws -> JSONBody {
        guard Self.isJSON(request.headers[.contentType]) else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
        }
        let tooLarge = APIError(.contentTooLarge, "body_too_large", "the request body must be at most \(options.maxBodyBytes) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maxBodyBytes { throw tooLarge }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: options.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch {
            throw APIError.badRequest("invalid_body", "the request body could not be read")
        }
        return try JSONBody(data: Data(buffer.readableBytesView), allowed: Schemas.allowedFields(schema))
    }
}

/// Turns every error into the JSON error shape (never echoing internal error text), answers
/// 405 for a known path with another method, logs one line per request (never headers or
/// bodies), and counts requests in the Prometheus registry.
struct APIMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let options: APIOptions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Reply.error(apiError(error, request: request, context: context))
        }
        response.headers[.cacheControl] = "no-store"
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        let status = response.status.code
        context.logger.log(
            level: status >= 500 ? .warning : .info, "api request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
                "ms": .stringConvertible(Double(elapsed.components.attoseconds / 1_000_000_000_000) / 1000 + Double(elapsed.components.seconds) * 1000),
            ])
        if let registry = options.prometheus {
            let labelRoute = route == "NotFound" ? "unmatched" : route
            registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "trunkgate", subsystem: "api", metricName: "requests", unitName: "total", helpText: "API requests by route and status"),
                labels: [("method", request.method.rawValue), ("route", labelRoute), ("status", String(status))]
            ).increment()
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(namespace: "trunkgate", subsystem: "api", metricName: "request_duration", unitName: "seconds", helpText: "API request durations"),
                labels: [("route", labelRoute)],
                buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]
            ).record(elapsed)
        }
        return response
    }

    func apiError(_ error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as ValidationError:
            return APIError(e)
        case let e as StoreError:
            if e.kind == .unavailable { context.logger.error("store unavailable", metadata: ["error": .string(e.description)]) }
            return APIError(e)
        case let e as any HTTPResponseError:
            if e.status == .notFound {
                let allowed = APIRoutes.routes(matching: request.uri.path).map(\.method.rawValue)
                if !allowed.isEmpty {
                    return APIError(
                        .methodNotAllowed, "method_not_allowed", "\(request.method.rawValue) is not supported here",
                        headers: [.allow: Array(Set(allowed)).sorted().joined(separator: ", ")])
                }
                return APIError(.notFound, "not_found", "no such endpoint")
            }
            if e.status == .contentTooLarge {
                return APIError(.contentTooLarge, "body_too_large", "the request body must be at most \(options.maxBodyBytes) bytes")
            }
            return APIError(e.status, e.status.code >= 500 ? "internal_error" : "bad_request", e.status.reasonPhrase)
        default:
            context.logger.error("unexpected API error", metadata: ["type": .string(String(reflecting: type(of: error)))])
            return APIError.internalError
        }
    }
}
