import Benchmark
import SIPDigest
import SIPMessage

/// Issue 4, "Must show" 4: issue a challenge; verify an MD5 and a SHA-256 `Authorization` end
/// to end (parse the header, check the nonce's HMAC, the nonce-count and the response).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 200
    )

    let realm = "trunk.example.com"
    let binding = NonceBinding(trunk: "TK0001", sourceIP: "203.0.113.5", transport: "udp")
    let request = DigestRequest(method: "INVITE", uri: "sip:+14155551234@trunk.example.com")
    let password = "Corr3ct-Horse-Battery"
    let users = ["alice": DigestHA1Set.compute(username: "alice", realm: realm, password: password)]

    for algorithm in [DigestAlgorithm.md5, .sha256] {
        let policy = try! DigestChallengePolicy(realm: realm, algorithms: [algorithm])
        let authenticator = DigestAuthenticator(keys: try! NonceKeyRing(current: .generate(id: 1)))

        Benchmark("Issue challenge (\(algorithm.rawValue))") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(authenticator.challenge(.proxy, policy: policy, binding: binding))
            }
        }

        // Every verification must be a genuine first use of its nonce-count, so the answers are
        // computed beforehand (outside the measurement): one challenge, nc = 1, 2, 3 …
        let challenge = authenticator.challenge(.proxy, policy: policy, binding: binding).headers
        let client = DigestClient()
        let poolSize = (200 + 5 + 2) * 1000
        let pool: [[Substring]] = (0..<poolSize).map { _ in
            [Substring(try! client.authorization(answering: challenge, username: "alice", password: password,
                                                 method: request.method, uri: request.uri).serialized)]
        }
        nonisolated(unsafe) var next = 0

        Benchmark("Verify Authorization end to end (\(algorithm.rawValue))") { benchmark in
            for _ in benchmark.scaledIterations {
                precondition(next < pool.count, "answer pool exhausted")
                let result = authenticator.verify(headerValues: pool[next], request: request, policy: policy,
                                                  binding: binding, user: { users[$0] })
                next += 1
                precondition(result.isOK, "verification failed: \(result)")
                blackHole(result)
            }
        }
    }
}
