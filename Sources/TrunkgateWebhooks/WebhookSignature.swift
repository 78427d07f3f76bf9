public import Foundation
import Crypto

/// `X-Trunkgate-Signature`: HMAC-SHA256, keyed with the account's webhook secret (its UTF-8
/// bytes), over `<timestamp>.<body>` where the timestamp is `X-Trunkgate-Timestamp` (unix
/// seconds). Covering the timestamp lets a receiver refuse replays older than a few minutes.
///
/// A receiver verifies with: `hex(hmac_sha256(secret, timestamp + "." + raw_body)) ==
/// signature without "sha256="`, compared in constant time, and `|now - timestamp| <= 300`.
public enum WebhookSignature {
    public static let signatureHeader = "X-Trunkgate-Signature"
    public static let timestampHeader = "X-Trunkgate-Timestamp"

    /// The header value: `sha256=<64 lowercase hex digits>`.
    public static func sign(body: some DataProtocol, timestamp: Int64, secret: String) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
        mac.update(data: Data("\(timestamp).".utf8))
        mac.update(data: body)
        return "sha256=" + Data(mac.finalize()).map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a signature the way a receiver should (constant-time comparison, bounded clock
    /// skew); used by the tests as an independent receiver would.
    public static func verify(signature: String, body: some DataProtocol, timestamp: Int64, secret: String,
                              now: Date = Date(), tolerance: TimeInterval = 300) -> Bool {
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= tolerance else { return false }
        let expected = Array(sign(body: body, timestamp: timestamp, secret: secret).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for i in expected.indices { difference |= expected[i] ^ given[i] }
        return difference == 0
    }
}
