/// Identifies one nonce (its authentication tag) for the nonce-count store.
public struct NonceIdentity: Sendable, Hashable {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// What checking a nonce found.
public enum NonceCheck: Sendable, Hashable {
    /// Ours, unexpired, for this realm and binding.
    case valid(NonceIdentity, issuedAt: Int64)
    /// Ours and for this realm and binding, but older than the nonce lifetime.
    case expired(NonceIdentity, issuedAt: Int64)
    /// Not a nonce we issued with a key we still accept (forged, altered, malformed, key retired).
    case invalid
    /// Ours, but issued for another realm, trunk, source IP or transport.
    case boundElsewhere
}

/// Stateless nonces: everything needed to verify one is inside it, authenticated by HMAC.
///
/// Layout (58 bytes, sent as 78 characters of unpadded base64url):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | version (1) |
/// | 1 | 1 | flags: bit 0 bound to source IP, bit 1 bound to transport |
/// | 2 | 4 | key id, big-endian |
/// | 6 | 8 | issue time, Unix seconds, big-endian |
/// | 14 | 12 | random bytes (every challenge gets its own nonce) |
/// | 26 | 16 | binding digest: SHA-256 of realm, trunk, [source IP], [transport], truncated |
/// | 42 | 16 | tag: HMAC-SHA-256(key, bytes 0..<42), truncated |
///
/// The tag proves the nonce is ours and unaltered; the binding digest, covered by the tag, then
/// tells a nonce used for another trunk/IP/transport (``NonceCheck/boundElsewhere``) from a
/// forgery (``NonceCheck/invalid``).
public enum StatelessNonce {
    static let version: UInt8 = 1
    static let length = 58
    static let tagOffset = 42
    static let tagLength = 16
    static let bindingOffset = 26
    static let bindingLength = 16
    static let randomLength = 12

    private static let boundToSourceIP: UInt8 = 1
    private static let boundToTransport: UInt8 = 2

    /// A new nonce signed with the ring's current key.
    public static func issue(keys: NonceKeyRing, realm: String, binding: NonceBinding, now: Int64) -> String {
        var flags: UInt8 = 0
        if binding.sourceIP != nil { flags |= boundToSourceIP }
        if binding.transport != nil { flags |= boundToTransport }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        bytes.append(version)
        bytes.append(flags)
        appendBigEndian(keys.current.id, to: &bytes)
        appendBigEndian(UInt64(bitPattern: now), to: &bytes)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<randomLength { bytes.append(generator.next()) }
        bytes.append(contentsOf: bindingDigest(realm: realm, binding: binding, flags: flags))
        let tag = bytes.withUnsafeBytes { keys.current.tag($0, count: tagLength) }
        bytes.append(contentsOf: tag)
        return Base64URL.encode(bytes)
    }

    /// Checks a nonce a client sent back.
    /// - Parameters:
    ///   - lifetimeSeconds: a nonce older than this is ``NonceCheck/expired``.
    ///   - maximumClockSkewSeconds: a nonce issued further in the future than this is invalid.
    public static func check(
        _ nonce: String, keys: NonceKeyRing, realm: String, binding: NonceBinding,
        now: Int64, lifetimeSeconds: Int64, maximumClockSkewSeconds: Int64
    ) -> NonceCheck {
        // 78 characters of base64url exactly; anything else is not ours (and is not decoded).
        guard nonce.utf8.count == (length * 4 + 2) / 3, let bytes = Base64URL.decode(nonce),
              bytes.count == length, bytes[0] == version, bytes[1] & ~(boundToSourceIP | boundToTransport) == 0
        else { return .invalid }
        let keyID = readBigEndian(bytes, at: 2, as: UInt32.self)
        guard let key = keys.verifyingKey(id: keyID, now: now) else { return .invalid }
        let expectedTag = bytes.withUnsafeBytes { key.tag(UnsafeRawBufferPointer(rebasing: $0[0..<tagOffset]), count: tagLength) }
        guard ConstantTime.equals(expectedTag, bytes[tagOffset..<length]) else { return .invalid }
        let issuedAt = Int64(bitPattern: readBigEndian(bytes, at: 6, as: UInt64.self))
        guard issuedAt <= now + maximumClockSkewSeconds else { return .invalid }
        let digest = bindingDigest(realm: realm, binding: binding, flags: bytes[1])
        guard digest.elementsEqual(bytes[bindingOffset..<(bindingOffset + bindingLength)]) else { return .boundElsewhere }
        let identity = NonceIdentity(
            high: readBigEndian(bytes, at: tagOffset, as: UInt64.self),
            low: readBigEndian(bytes, at: tagOffset + 8, as: UInt64.self)
        )
        return now - issuedAt > lifetimeSeconds ? .expired(identity, issuedAt: issuedAt) : .valid(identity, issuedAt: issuedAt)
    }

    /// Length-prefixed fields so that no two different bindings hash the same input.
    private static func bindingDigest(realm: String, binding: NonceBinding, flags: UInt8) -> [UInt8] {
        var input: [UInt8] = []
        input.reserveCapacity(32 + realm.utf8.count + binding.trunk.utf8.count)
        input.append(flags)
        appendField(realm, to: &input)
        appendField(binding.trunk, to: &input)
        if flags & boundToSourceIP != 0 { appendField(binding.sourceIP ?? "", to: &input) }
        if flags & boundToTransport != 0 { appendField((binding.transport ?? "").lowercased(), to: &input) }
        return Array(DigestHashFunction.sha256.digest(input).prefix(bindingLength))
    }

    private static func appendField(_ text: String, to bytes: inout [UInt8]) {
        appendBigEndian(UInt32(truncatingIfNeeded: text.utf8.count), to: &bytes)
        bytes.append(contentsOf: text.utf8)
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private static func readBigEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as type: T.Type) -> T {
        var value: T = 0
        for byte in bytes[offset..<(offset + MemoryLayout<T>.size)] { value = value << 8 | T(byte) }
        return value
    }
}
