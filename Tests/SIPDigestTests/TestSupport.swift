import SIPDigest
import SIPMessage
import Synchronization

/// A clock the test moves by hand.
final class TestClock: DigestClock {
    private let now: Mutex<Int64>

    init(_ start: Int64 = 1_750_000_000) {
        now = Mutex(start)
    }

    func unixSeconds() -> Int64 { now.withLock { $0 } }

    func advance(by seconds: Int64) {
        now.withLock { $0 += seconds }
    }
}

/// One trunk with a user, an authenticator with a test clock, and a client.
struct Fixture {
    static let realm = "trunk.example.com"
    static let password = "Corr3ct-Horse-Battery"

    let clock: TestClock
    let authenticator: DigestAuthenticator
    let policy: DigestChallengePolicy
    let binding: NonceBinding
    let client = DigestClient()
    var users: [String: DigestHA1Set] = ["alice": .compute(username: "alice", realm: Fixture.realm, password: Fixture.password)]

    init(
        algorithms: [DigestAlgorithm] = [.sha256, .md5],
        qop: DigestQOPOffer = .auth,
        userhash: Bool = false,
        lifetime: Int64 = 300,
        keys: NonceKeyRing? = nil,
        clock: TestClock = TestClock(),
        store: any NonceCountStore = SlidingWindowNonceCountStore(capacity: 4096)
    ) throws {
        self.clock = clock
        let ring = try keys ?? NonceKeyRing(current: .generate(id: 1))
        authenticator = DigestAuthenticator(
            keys: ring, nonceCounts: store, clock: clock,
            configuration: .init(nonceLifetimeSeconds: lifetime)
        )
        policy = try DigestChallengePolicy(realm: Fixture.realm, algorithms: algorithms, qop: qop, userhash: userhash)
        binding = NonceBinding(trunk: "TK0001", sourceIP: "203.0.113.5", transport: "udp")
    }

    var request: DigestRequest { DigestRequest(method: "INVITE", uri: "sip:+14155551234@trunk.example.com;transport=udp") }

    /// A challenge as the client receives it: serialized and parsed again.
    func challenge(stale: Bool = false) throws -> [SIPAuthHeader] {
        let challenge = authenticator.challenge(.proxy, policy: policy, binding: binding, stale: stale)
        return try challenge.headerValues.map { try SIPAuthHeader(parsing: $0, headerName: "Proxy-Authenticate") }
    }

    /// The client's answer, serialized and parsed again as the server receives it.
    func answer(
        _ challenge: [SIPAuthHeader], username: String = "alice", password: String = Fixture.password,
        request: DigestRequest? = nil
    ) throws -> SIPAuthHeader {
        let request = request ?? self.request
        let header = try client.authorization(
            answering: challenge, username: username, password: password,
            method: request.method, uri: request.uri, body: request.body
        )
        return try SIPAuthHeader(parsing: header.serialized, headerName: "Proxy-Authorization")
    }

    func verify(_ header: SIPAuthHeader?, request: DigestRequest? = nil, binding: NonceBinding? = nil) -> DigestVerification {
        authenticator.verify(
            header, request: request ?? self.request, policy: policy, binding: binding ?? self.binding,
            user: { users[$0] },
            userhash: { hash, function in
                users.first { DigestUserhash.compute(function, username: $0.key, realm: Fixture.realm) == hash }
                    .map { DigestUser(name: $0.key, ha1: $0.value) }
            }
        )
    }
}

extension SIPAuthHeader {
    /// A copy with one parameter replaced (or added, or removed with nil).
    func setting(_ name: String, _ value: String?, quoted: Bool = true) -> SIPAuthHeader {
        var copy = self
        if let index = copy.parameters.firstIndex(where: { $0.name == name }) {
            if let value { copy.parameters[index].value = value } else { copy.parameters.remove(at: index) }
        } else if let value {
            copy.parameters.append(SIPAuthParameter(name: name, value: value, quoted: quoted))
        }
        return copy
    }
}
