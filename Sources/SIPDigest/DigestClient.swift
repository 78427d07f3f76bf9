public import SIPMessage
import Synchronization

/// Why the client could not answer a challenge.
public enum DigestClientError: Error, Sendable, Hashable {
    /// No Digest challenge with a realm, a nonce, an algorithm we support and a usable qop.
    case noUsableChallenge
}

/// The client side, for the edge's outbound legs: answers a far end's 401/407.
///
/// Picks the strongest algorithm offered (SHA-512-256 > SHA-256 > MD5; the first header among
/// equals), a fresh random cnonce per answer, `nc` counting up per nonce, `qop=auth` when offered
/// (`auth-int` only when it is the sole option, none when the challenge has no qop), echoes
/// `opaque`, and hashes the user name when the challenge asks for `userhash`.
public final class DigestClient: Sendable {
    private struct Counters {
        var next: [String: UInt32] = [:]
        var order: FIFORing<String>
    }

    private let counters: Mutex<Counters>

    /// - Parameter trackedNonces: nonces whose `nc` is remembered; the oldest is forgotten
    ///   beyond it (a forgotten nonce restarts at 1, which a server refuses at worst as a replay,
    ///   and the edge then re-challenges).
    public init(trackedNonces: Int = 1024) {
        counters = Mutex(Counters(order: FIFORing(capacity: max(1, trackedNonces))))
    }

    /// The credentials header value answering `challenges` (the `WWW-Authenticate` or
    /// `Proxy-Authenticate` values of one response) for a request. Send it as `Authorization`
    /// for a 401 and `Proxy-Authorization` for a 407.
    /// - Parameter uri: exactly the Request-URI of the request being retried.
    public func authorization(
        answering challenges: [SIPAuthHeader], username: String, password: String,
        method: String, uri: String, body: [UInt8] = []
    ) throws(DigestClientError) -> SIPAuthHeader {
        guard let (challenge, algorithm, qop) = Self.choose(challenges),
              let realm = challenge["realm"], let nonce = challenge["nonce"]
        else { throw .noUsableChallenge }

        let needsCnonce = qop != nil || algorithm.isSession
        let cnonce = needsCnonce ? Self.freshCnonce() : nil
        let ncText = qop != nil ? Self.hex8(nextCount(for: nonce)) : nil
        let response = DigestResponse.compute(
            algorithm: algorithm, username: username, realm: realm, password: password,
            method: method, uri: uri, nonce: nonce, qop: qop, nc: ncText, cnonce: cnonce, body: body
        )
        let userhash = challenge["userhash"].map { ASCII.equalsIgnoringCase($0, "true") } ?? false
        var parameters = [
            SIPAuthParameter(
                name: "username",
                value: userhash ? DigestUserhash.compute(algorithm.hash, username: username, realm: realm) : username,
                quoted: true
            ),
            SIPAuthParameter(name: "realm", value: realm, quoted: true),
            SIPAuthParameter(name: "nonce", value: nonce, quoted: true),
            SIPAuthParameter(name: "uri", value: uri, quoted: true),
            SIPAuthParameter(name: "response", value: response, quoted: true),
            SIPAuthParameter(name: "algorithm", value: algorithm.rawValue, quoted: false),
        ]
        if let cnonce { parameters.append(SIPAuthParameter(name: "cnonce", value: cnonce, quoted: true)) }
        if let opaque = challenge["opaque"] { parameters.append(SIPAuthParameter(name: "opaque", value: opaque, quoted: true)) }
        if let qop, let ncText {
            parameters.append(SIPAuthParameter(name: "qop", value: qop.rawValue, quoted: false))
            parameters.append(SIPAuthParameter(name: "nc", value: ncText, quoted: false))
        }
        if userhash { parameters.append(SIPAuthParameter(name: "userhash", value: "true", quoted: false)) }
        return SIPAuthHeader(scheme: "Digest", parameters: parameters)
    }

    /// The strongest usable challenge with its algorithm and the qop to answer with.
    static func choose(_ challenges: [SIPAuthHeader]) -> (SIPAuthHeader, DigestAlgorithm, DigestQOP?)? {
        var best: (SIPAuthHeader, DigestAlgorithm, DigestQOP?)?
        for challenge in challenges where challenge.isDigest && challenge["realm"] != nil && challenge["nonce"] != nil {
            guard let algorithm = DigestAlgorithm(token: challenge["algorithm"] ?? "MD5") else { continue }
            let qop: DigestQOP?
            if let offered = challenge["qop"] {
                let options = offered.split(separator: ",").compactMap { DigestQOP(token: $0.trimmingSpaces) }
                if options.contains(.auth) {
                    qop = .auth
                } else if options.contains(.authInt) {
                    qop = .authInt
                } else {
                    continue
                }
            } else {
                qop = nil
            }
            if best.map({ algorithm.strength > $0.1.strength }) ?? true { best = (challenge, algorithm, qop) }
        }
        return best
    }

    private func nextCount(for nonce: String) -> UInt32 {
        counters.withLock { state in
            if let count = state.next[nonce] {
                // nc has 8 hex digits; wrapping would repeat counts, so stop at the top.
                state.next[nonce] = count == .max ? count : count + 1
                return count
            }
            if state.order.isFull, let oldest = state.order.removeFirst() { state.next[oldest] = nil }
            state.order.append(nonce)
            state.next[nonce] = 2
            return 1
        }
    }

    private static func freshCnonce() -> String {
        Hex.random(byteCount: 16)
    }

    private static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

extension Substring {
    /// Without leading and trailing SP / HTAB.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
