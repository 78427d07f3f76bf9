import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A secret that signs and verifies stateless nonces, named by a key id carried in each nonce.
///
/// Every node of a cluster holding the same keys verifies any node's nonces. A nonce key must be
/// used for nothing else.
public struct NonceKey: Sendable {
    /// Fewer bytes than this would make the HMAC key guessable.
    public static let minimumSecretLength = 32

    public let id: UInt32
    /// HMAC-SHA-256 with the key already absorbed: each nonce costs only its own blocks.
    let keyedHMAC: HMAC<SHA256>

    public init(id: UInt32, secret: [UInt8]) throws(NonceKeyError) {
        guard secret.count >= Self.minimumSecretLength else { throw .secretTooShort }
        self.init(id: id, key: SymmetricKey(data: secret))
    }

    private init(id: UInt32, key: SymmetricKey) {
        self.id = id
        self.keyedHMAC = HMAC<SHA256>(key: key)
    }

    /// A fresh random secret of 32 bytes, for the operator to persist and share between nodes.
    public static func generateSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<minimumSecretLength).map { _ in generator.next() }
    }

    /// A key with a fresh random secret (tests and single-node use).
    public static func generate(id: UInt32) -> NonceKey {
        NonceKey(id: id, key: SymmetricKey(data: generateSecret()))
    }

    /// HMAC-SHA-256 of `message`, truncated to `count` bytes.
    func tag(_ message: UnsafeRawBufferPointer, count: Int) -> [UInt8] {
        var hmac = keyedHMAC
        hmac.update(data: message)
        return hmac.finalize().withUnsafeBytes { Array($0.prefix(count)) }
    }
}

public enum NonceKeyError: Error, Sendable, Hashable {
    /// The secret is shorter than ``NonceKey/minimumSecretLength``.
    case secretTooShort
    /// A key ring cannot hold two keys with the same id.
    case duplicateKeyID
}
