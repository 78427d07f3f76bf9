// A plain driver for profilers (perf): verifies precomputed MD5 or SHA-256 `Authorization`
// answers in a loop (no benchmark harness), and prints a rough single-thread rate.
//   DigestProfile [md5|sha256] [iterations] [rounds]
// With rounds > 1 the same answers are verified again, each round by a fresh authenticator with
// the same keys (so nonce-counts are new to it): most of the profile is then verification.
import SIPDigest
import SIPMessage

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let args = CommandLine.arguments
let algorithm: DigestAlgorithm = args.count > 1 && args[1] == "sha256" ? .sha256 : .md5
let iterations = args.count > 2 ? Int(args[2]) ?? 200_000 : 200_000
let rounds = args.count > 3 ? max(1, Int(args[3]) ?? 1) : 1
let realm = "trunk.example.com"
let binding = NonceBinding(trunk: "TK0001", sourceIP: "203.0.113.5", transport: "udp")
let request = DigestRequest(method: "INVITE", uri: "sip:+14155551234@trunk.example.com")
let password = "Corr3ct-Horse-Battery"
let users = ["alice": DigestHA1Set.compute(username: "alice", realm: realm, password: password)]
let policy = try! DigestChallengePolicy(realm: realm, algorithms: [algorithm])
let keys = try! NonceKeyRing(current: .generate(id: 1))
let authenticator = DigestAuthenticator(keys: keys)
let challenge = authenticator.challenge(.proxy, policy: policy, binding: binding).headers
let client = DigestClient()
// All answers in one string, read in order (as the edge reads a request it has just received),
// so that the loop measures verification rather than cache misses over scattered strings.
let answers = (0..<iterations).map { _ in
    try! client.authorization(answering: challenge, username: "alice", password: password,
                              method: request.method, uri: request.uri).serialized
}
let joined = answers.joined()
var pool: [[Substring]] = []
pool.reserveCapacity(iterations)
var cursor = joined.startIndex
for answer in answers {
    let end = joined.utf8.index(cursor, offsetBy: answer.utf8.count)
    pool.append([joined[cursor..<end]])
    cursor = end
}
let start = now()
var ok = 0
for round in 0..<rounds {
    let verifier = round == 0 ? authenticator : DigestAuthenticator(keys: keys)
    for answer in pool {
        if verifier.verify(headerValues: answer, request: request, policy: policy, binding: binding, user: { users[$0] }).isOK { ok += 1 }
    }
}
let seconds = now() - start
let total = iterations * rounds
let perSecond = Int(Double(total) / seconds)
let microseconds: Double = seconds / Double(total) * 1e6
print("\(algorithm.rawValue): \(total) verifications, \(perSecond)/s, \(microseconds) us each, ok \(ok)")
