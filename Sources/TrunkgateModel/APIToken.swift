public import Foundation
import Crypto

/// API tokens: 32 random bytes shown once; stored as HMAC-SHA-256(salt, token) with a
/// per-key random salt, and checked in constant time.
public enum APIToken {
    public static func generate() -> String {
        "tg_" + randomHex(32)
    }

    public static func randomHex(_ bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return (b < 16 ? "0" : "") + String(b, radix: 16)
        }.joined()
    }

    public static func hash(_ token: String, salt: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: SymmetricKey(data: Data(salt.utf8)))
        return mac.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Builds the stored key for a fresh token.
    public static func makeKey(accountSid: String, token: String) -> APIKey {
        let salt = randomHex(16)
        return APIKey(accountSid: accountSid, tokenHash: hash(token, salt: salt), salt: salt)
    }

    /// Constant-time check of a presented token against a stored key.
    public static func verify(_ token: String, against key: APIKey) -> Bool {
        let presented = Array(hash(token, salt: key.salt).utf8)
        let stored = Array(key.tokenHash.utf8)
        guard presented.count == stored.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<presented.count { diff |= presented[i] ^ stored[i] }
        return diff == 0
    }
}

/// Seals secrets the edge must use later in plaintext (destination outbound passwords) with
/// AES-256-GCM under the server key kept under `--data`.
public struct SecretSealer: Sendable {
    private let key: SymmetricKey

    public init(keyData: Data) { key = SymmetricKey(data: keyData) }

    public static func generateKeyData() -> Data { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) } }

    public func seal(_ secret: String) throws -> String {
        let box = try AES.GCM.seal(Data(secret.utf8), using: key)
        guard let combined = box.combined else { throw ValidationError("seal_failed", "could not seal secret") }
        return combined.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw ValidationError("unseal_failed", "not a sealed secret") }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }
}
