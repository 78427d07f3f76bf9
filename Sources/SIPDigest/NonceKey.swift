import Crypto

/// A secret that signs and verifies stateless nonces, named by a key id carried in each nonce.
///
/// Every node of a cluster holding the same keys verifies any node's nonces. A nonce key must be
/// used for nothing else.
public struct NonceKey: Sendable {
    /// Fewer bytes than this would make the HMAC key guessable.
    public static let minimumSecretLength = 32

    public let id: UInt32
    /// HMAC-SHA-256 (RFC 2104) with the key already absorbed: SHA-256 states after the
    /// `K ^ ipad` and `K ^ opad` blocks. Each tag copies them, so it costs only its own blocks.
    private let innerState: SHA256State
    private let outerState: SHA256State

    public init(id: UInt32, secret: [UInt8]) throws(NonceKeyError) {
        guard secret.count >= Self.minimumSecretLength else { throw .secretTooShort }
        self.init(id: id, validSecret: secret)
    }

    private init(id: UInt32, validSecret secret: [UInt8]) {
        self.id = id
        // K: the secret, hashed first when longer than a block, zero-padded to a block.
        let blockSize = 64
        var block = [UInt8](repeating: 0, count: blockSize)
        if secret.count > blockSize {
            let digest = SHA256.hash(data: secret)
            digest.withUnsafeBytes { for (index, byte) in $0.enumerated() { block[index] = byte } }
        } else {
            for (index, byte) in secret.enumerated() { block[index] = byte }
        }
        var inner = SHA256State()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update($0) }
        var outer = SHA256State()
        block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update($0) }
        innerState = inner
        outerState = outer
    }

    /// A fresh random secret of 32 bytes, for the operator to persist and share between nodes.
    public static func generateSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<minimumSecretLength).map { _ in generator.next() }
    }

    /// A key with a fresh random secret (tests and single-node use).
    public static func generate(id: UInt32) -> NonceKey {
        NonceKey(id: id, validSecret: generateSecret())
    }

    /// HMAC-SHA-256 of `message`, handed to `body` (32 bytes, valid only during the call).
    func withMAC<R>(_ message: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 2 * SHA256State.digestByteCount, alignment: 8) { scratch in
            let innerDigest = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<SHA256State.digestByteCount])
            let mac = UnsafeMutableRawBufferPointer(rebasing: scratch[SHA256State.digestByteCount...])
            var inner = innerState
            inner.update(message)
            inner.finalize(into: innerDigest)
            var outer = outerState
            outer.update(UnsafeRawBufferPointer(innerDigest))
            outer.finalize(into: mac)
            return body(UnsafeRawBufferPointer(mac))
        }
    }

    /// HMAC-SHA-256 of `message`, truncated to `count` bytes.
    func tag(_ message: UnsafeRawBufferPointer, count: Int) -> [UInt8] {
        withMAC(message) { Array($0.prefix(count)) }
    }

    /// Writes HMAC-SHA-256 of `message`, truncated to `output.count` (at most 32) bytes, into `output`.
    func writeTag(_ message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        withMAC(message) { mac in
            for index in 0..<min(output.count, mac.count) { output[index] = mac[index] }
        }
    }

    /// Whether `tag` is HMAC-SHA-256 of `message` truncated to `tag.count` bytes, compared in
    /// constant time (every byte of the expected tag is examined).
    func hasTag(_ tag: UnsafeRawBufferPointer, for message: UnsafeRawBufferPointer) -> Bool {
        withMAC(message) { mac in
            ConstantTime.equals(UnsafeRawBufferPointer(rebasing: mac[0..<min(tag.count, mac.count)]), tag)
        }
    }
}

public enum NonceKeyError: Error, Sendable, Hashable {
    /// The secret is shorter than ``NonceKey/minimumSecretLength``.
    case secretTooShort
    /// A key ring cannot hold two keys with the same id.
    case duplicateKeyID
}
