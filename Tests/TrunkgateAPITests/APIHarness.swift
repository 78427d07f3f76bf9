import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
import TrunkgateAPI
import TrunkgateModel
import TrunkgateStore

/// Which database an API test runs against; every endpoint test runs on both.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static let all: [StoreBackend] = {
        if PostgresTestServer.available { return [.sqlite, .postgres] }
        print("note: no PostgreSQL binaries and TRUNKGATE_TEST_POSTGRES_URL unset: PostgreSQL API tests not run")
        return [.sqlite]
    }()
}

/// Every log line the API wrote during a test (message and metadata), to check that no secret
/// is ever logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    func logger(_ label: String) -> Logger {
        var l = Logger(label: label) { _ in CapturingLogHandler(capture: self) }
        l.logLevel = .trace
        return l
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        capture.append("\(event.level) \(event.message) \(all)")
    }
}

/// One HTTP answer, read off a real socket.
struct HTTPReply: Sendable, CustomStringConvertible {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
    var description: String { "\(status) \(text.prefix(600))" }

    func header(_ name: String) -> String? { headers.first(name: name) }

    /// `json[key]` for a top-level key.
    subscript(_ key: String) -> JSONValue? { json?[key] }
}

extension JSONValue {
    var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(d)
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// A minimal HTTP/1.1 client on SwiftNIO: one connection per request (`Connection: close`),
/// the request sent exactly as given (no header is added but Host and Content-Length).
enum RawHTTP {
    final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<HTTPReply>
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        var done = false

        init(promise: EventLoopPromise<HTTPReply>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
            case .body(let b):
                body += b.readableBytesView
            case .end:
                finish(.success(HTTPReply(status: Int(head?.status.code ?? 0), headers: head?.headers ?? [:], body: body)))
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            finish(.failure(error))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            finish(.failure(ChannelError.eof))
        }

        private func finish(_ result: Result<HTTPReply, any Error>) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
        }
    }

    static func send(port: Int, method: String, path: String, headers: [(String, String)], body: [UInt8]?) async throws -> HTTPReply {
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: HTTPReply.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(Collector(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            promise.fail(error)  // a promise must never be dropped uncompleted
            throw error
        }
        let timeout = loop.scheduleTask(in: .seconds(15)) {
            promise.fail(ChannelError.connectTimeout(.seconds(15)))
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        head.headers.add(name: "Connection", value: "close")
        // A server may answer (413) and close before reading the whole body: write errors are
        // not failures, the answer is.
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }
}

/// The credentials a request carries.
enum Auth: Sendable {
    case none
    case basic(key: String, token: String)
    case bearer(String)
    case raw(String)

    var header: String? {
        switch self {
        case .none: return nil
        case .basic(let key, let token): return "Basic " + Data("\(key):\(token)".utf8).base64EncodedString()
        case .bearer(let token): return "Bearer \(token)"
        case .raw(let value): return value
        }
    }
}

/// A running API server on 127.0.0.1 (a free port) over a fresh store, with two accounts.
struct APITestContext: Sendable {
    let backend: StoreBackend
    let store: any TrunkgateStore
    let port: Int
    let options: APIOptions
    let logs: LogCapture
    /// The account most requests act as, its key and token (self-identifying, as issued by the API module).
    let account: Account
    let key: String
    let token: String
    /// A second tenant, for isolation checks.
    let other: Account
    let otherKey: String
    let otherToken: String

    var auth: Auth { .basic(key: key, token: token) }
    var otherAuth: Auth { .basic(key: otherKey, token: otherToken) }

    /// `/v1/accounts/<account sid><suffix>`.
    func path(_ suffix: String = "") -> String { "/v1/accounts/\(account.sid)\(suffix)" }

    /// Sends one request. `json` bodies get `Content-Type: application/json` unless `contentType` says otherwise.
    @discardableResult
    func call(_ method: String, _ path: String, json: JSONValue? = nil, raw: [UInt8]? = nil, contentType: String? = "application/json",
              auth: Auth? = nil, headers: [(String, String)] = []) async throws -> HTTPReply {
        var h = headers
        if let value = (auth ?? self.auth).header { h.append(("Authorization", value)) }
        let body = raw ?? json.map { Array($0.encoded()) }
        if body != nil, let contentType { h.append(("Content-Type", contentType)) }
        return try await RawHTTP.send(port: port, method: method, path: path, headers: h, body: body)
    }

    func get(_ path: String, auth: Auth? = nil) async throws -> HTTPReply { try await call("GET", path, auth: auth) }
    func post(_ path: String, _ json: JSONValue, auth: Auth? = nil) async throws -> HTTPReply { try await call("POST", path, json: json, auth: auth) }
    func delete(_ path: String, auth: Auth? = nil) async throws -> HTTPReply { try await call("DELETE", path, auth: auth) }

    /// Everything the store holds for the test account, as text: compared before and after a
    /// refused request to show that nothing changed (credentials with their digests,
    /// destinations with their sealed passwords, ACL entries, lockouts, config changes).
    func snapshot() async throws -> [String] {
        var out: [String] = ["account \(String(describing: try await store.account(account.sid)))"]
        let big = PageRequest(limit: 1000)
        let trunks = try await store.trunks(account: account.sid, page: big).items
        for t in trunks {
            out.append("trunk \(t)")
            for c in try await store.credentials(account: account.sid, trunk: t.sid, page: big).items {
                out.append("credential \(c.sid) \(c.userName) \(c.ha1MD5) \(c.ha1SHA256) \(c.ha1SHA512_256) \(c.realm) \(String(describing: c.friendlyName))")
            }
            for n in try await store.phoneNumbers(account: account.sid, trunk: t.sid, page: big).items { out.append("number \(n)") }
            for d in try await store.destinations(account: account.sid, trunk: t.sid, page: big).items { out.append("destination \(d)") }
            if let owned = try await store.trunkOwnedACL(account: account.sid, trunk: t.sid, create: false) {
                out.append("owned \(owned)")
                for e in try await store.ipACLEntries(account: account.sid, acl: owned.sid, page: big).items { out.append("owned entry \(e)") }
            }
        }
        for a in try await store.ipACLs(account: account.sid, page: big).items {
            out.append("acl \(a)")
            for e in try await store.ipACLEntries(account: account.sid, acl: a.sid, page: big).items { out.append("entry \(e)") }
        }
        for l in try await store.lockouts(account: account.sid, now: Date()) { out.append("lockout \(l)") }
        let changes = try await store.configChanges(after: 0, limit: 100_000).filter { $0.accountSid == account.sid }
        out.append("changes \(changes.count) \(changes.last?.version ?? 0)")
        return out
    }

    /// Runs `request`, expects the error shape with `status`, `code` (and `field` when given),
    /// and that the store is unchanged afterwards.
    @discardableResult
    func expectRefused(_ status: Int, _ code: String, field: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                       _ request: () async throws -> HTTPReply) async throws -> HTTPReply {
        let before = try await snapshot()
        let reply = try await request()
        expectError(reply, status, code, field: field, sourceLocation: sourceLocation)
        let after = try await snapshot()
        #expect(before == after, "stored state changed by a refused request", sourceLocation: sourceLocation)
        return reply
    }
}

func expectError(_ reply: HTTPReply, _ status: Int, _ code: String, field: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, "status of \(reply)", sourceLocation: sourceLocation)
    #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true, "JSON error body", sourceLocation: sourceLocation)
    let error = reply["error"]
    #expect(error?["code"]?.stringValue == code, "code of \(reply)", sourceLocation: sourceLocation)
    #expect(error?["message"]?.stringValue?.isEmpty == false, "message of \(reply)", sourceLocation: sourceLocation)
    if let field { #expect(error?["field"]?.stringValue == field, "field of \(reply)", sourceLocation: sourceLocation) }
}

func makeTempDirectory(_ prefix: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func randomDigits(_ n: Int) -> String { (0..<n).map { _ in String(Int.random(in: 0...9)) }.joined() }
func uniqueNumber() -> String { "+1" + String(Int.random(in: 2...9)) + randomDigits(9) }
func uniqueDomain() -> String { "t\(randomDigits(12)).sip.example.com" }

/// Opens a fresh store (SQLite: a new file; PostgreSQL: the shared test database), creates two
/// accounts with API keys, starts ``APIServer`` on 127.0.0.1 port 0 in a ServiceGroup, runs
/// `body`, then shuts the server down gracefully and closes the store.
func withAPI(_ backend: StoreBackend, configure: (inout APIOptions) -> Void = { _ in },
             _ body: @Sendable (APITestContext) async throws -> Void) async throws {
    let logs = LogCapture()
    let store: any TrunkgateStore
    var cleanup: String?
    switch backend {
    case .sqlite:
        let dir = try makeTempDirectory("trunkgate-api")
        cleanup = dir
        store = try await StoreFactory.open(url: "", dataDirectory: dir, logger: logs.logger("trunkgate.store"))
    case .postgres:
        store = try await StoreFactory.open(url: try await PostgresTestServer.shared.url(), dataDirectory: "/nonexistent",
                                            logger: logs.logger("trunkgate.store"))
    }
    defer { if let cleanup { try? FileManager.default.removeItem(atPath: cleanup) } }

    let account = Account(name: "acme"), other = Account(name: "globex")
    let (key, token) = APICredentials.issue(accountSid: account.sid)
    let (otherKey, otherToken) = APICredentials.issue(accountSid: other.sid)
    do {
        try await store.createAccount(account, key: key)
        try await store.createAccount(other, key: otherKey)
    } catch {
        try? await store.close()
        throw error
    }

    var options = APIOptions(edgeDomain: "sip.example.net", sealer: SecretSealer(keyData: SecretSealer.generateKeyData()),
                             logger: logs.logger("trunkgate.api"))
    configure(&options)
    let finalOptions = options
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let server = APIServer(store: store, options: finalOptions, host: "127.0.0.1", port: 0, logger: logs.logger("trunkgate.api"),
                           onListening: { portContinuation.yield($0) })
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: logs.logger("trunkgate.services")))
    let outcome: Result<Void, any Error> = await withTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            try? await group.run()
            portContinuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            await group.triggerGracefulShutdown()
            return .failure(PostgresTestServer.Failure(description: "the API server did not start"))
        }
        let context = APITestContext(
            backend: backend, store: store, port: port, options: finalOptions, logs: logs, account: account, key: key.sid, token: token,
            other: other, otherKey: otherKey.sid, otherToken: otherToken)
        let result: Result<Void, any Error>
        do {
            try await body(context)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await group.triggerGracefulShutdown()
        await tasks.waitForAll()
        return result
    }
    try? await store.close()
    try outcome.get()
}
