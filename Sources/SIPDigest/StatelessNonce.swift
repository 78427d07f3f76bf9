import Crypto
import Synchronization

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

    /// Characters of the base64url text.
    static let encodedLength = (length * 4 + 2) / 3

    private static let boundToSourceIP: UInt8 = 1
    private static let boundToTransport: UInt8 = 2

    /// A new nonce signed with the ring's current key.
    public static func issue(keys: NonceKeyRing, realm: String, binding: NonceBinding, now: Int64) -> String {
        var flags: UInt8 = 0
        if binding.sourceIP != nil { flags |= boundToSourceIP }
        if binding.transport != nil { flags |= boundToTransport }
        let key = keys.current
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { bytes in
            bytes.initialize(repeating: 0)
            bytes[0] = version
            bytes[1] = flags
            writeBigEndian(key.id, to: bytes, at: 2)
            writeBigEndian(UInt64(bitPattern: now), to: bytes, at: 6)
            var generator = SystemRandomNumberGenerator()
            writeBigEndian(generator.next() as UInt64, to: bytes, at: 14)
            writeBigEndian(UInt32(truncatingIfNeeded: generator.next() as UInt64), to: bytes, at: 22)
            let digest = bindingDigest(realm: realm, binding: binding, flags: flags)
            writeBigEndian(digest.high, to: bytes, at: bindingOffset)
            writeBigEndian(digest.low, to: bytes, at: bindingOffset + 8)
            let raw = UnsafeMutableRawBufferPointer(bytes)
            key.writeTag(UnsafeRawBufferPointer(rebasing: raw[0..<tagOffset]), into: UnsafeMutableRawBufferPointer(rebasing: raw[tagOffset..<length]))
            return Base64URL.encode(UnsafeBufferPointer(bytes))
        }
    }

    /// Checks a nonce a client sent back.
    /// - Parameters:
    ///   - lifetimeSeconds: a nonce older than this is ``NonceCheck/expired``.
    ///   - maximumClockSkewSeconds: a nonce issued further in the future than this is invalid.
    public static func check(
        _ nonce: String, keys: NonceKeyRing, realm: String, binding: NonceBinding,
        now: Int64, lifetimeSeconds: Int64, maximumClockSkewSeconds: Int64
    ) -> NonceCheck {
        withContiguousUTF8(nonce) { text in
            check(
                text, key: { keys.verifyingKey(id: $0, now: now) },
                bindingDigest: { bindingDigest(realm: realm, binding: binding, flags: $0) }, now: now,
                lifetimeSeconds: lifetimeSeconds, maximumClockSkewSeconds: maximumClockSkewSeconds
            )
        }
    }

    /// The same check over the nonce's UTF-8, without copying it.
    /// - Parameters:
    ///   - key: the key of an id if it may verify now.
    ///   - bindingDigest: ``bindingDigest(realm:binding:flags:)`` of the realm and binding to
    ///     check against, for the flags the nonce carries (possibly cached).
    static func check(
        _ nonce: UnsafeBufferPointer<UInt8>, key: (UInt32) -> NonceKey?, bindingDigest: (UInt8) -> BindingDigest,
        now: Int64, lifetimeSeconds: Int64, maximumClockSkewSeconds: Int64
    ) -> NonceCheck {
        // 78 characters of base64url exactly; anything else is not ours (and is not decoded).
        guard nonce.count == encodedLength else { return .invalid }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { bytes -> NonceCheck in
            guard Base64URL.decode(nonce, into: bytes) == length, bytes[0] == version,
                  bytes[1] & ~(boundToSourceIP | boundToTransport) == 0
            else { return .invalid }
            let keyID = readBigEndian(bytes, at: 2, as: UInt32.self)
            guard let key = key(keyID) else { return .invalid }
            let raw = UnsafeRawBufferPointer(bytes)
            guard key.hasTag(UnsafeRawBufferPointer(rebasing: raw[tagOffset..<length]), for: UnsafeRawBufferPointer(rebasing: raw[0..<tagOffset]))
            else { return .invalid }
            let issuedAt = Int64(bitPattern: readBigEndian(bytes, at: 6, as: UInt64.self))
            guard issuedAt <= now + maximumClockSkewSeconds else { return .invalid }
            let digest = bindingDigest(bytes[1])
            guard digest.high == readBigEndian(bytes, at: bindingOffset, as: UInt64.self),
                  digest.low == readBigEndian(bytes, at: bindingOffset + 8, as: UInt64.self)
            else { return .boundElsewhere }
            let identity = NonceIdentity(
                high: readBigEndian(bytes, at: tagOffset, as: UInt64.self),
                low: readBigEndian(bytes, at: tagOffset + 8, as: UInt64.self)
            )
            return now - issuedAt > lifetimeSeconds
                ? .expired(identity, issuedAt: issuedAt) : .valid(identity, issuedAt: issuedAt)
        }
    }

    /// The first 16 bytes of the SHA-256 of the binding, for `flags` (which fields it covers).
    /// Length-prefixed fields so that no two different bindings hash the same input. The input is
    /// gathered in a stack buffer and hashed in one update.
    static func bindingDigest(realm: String, binding: NonceBinding, flags: UInt8) -> BindingDigest {
        let sourceIP = flags & boundToSourceIP != 0 ? binding.sourceIP ?? "" : nil
        var transport = flags & boundToTransport != 0 ? binding.transport ?? "" : nil
        // `lowercased()` only when it may change something (it allocates).
        if let text = transport, text.utf8.contains(where: { ($0 >= 0x41 && $0 <= 0x5A) || $0 >= 0x80 }) {
            transport = text.lowercased()
        }
        var length = 1 + 8 + realm.utf8.count + binding.trunk.utf8.count
        if let sourceIP { length += 4 + sourceIP.utf8.count }
        if let transport { length += 4 + transport.utf8.count }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { input in
            var position = 0
            input[0] = flags
            position = 1
            appendField(realm, to: input, at: &position)
            appendField(binding.trunk, to: input, at: &position)
            if let sourceIP { appendField(sourceIP, to: input, at: &position) }
            if let transport { appendField(transport, to: input, at: &position) }
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[0..<position]))
            return hasher.finalize().withUnsafeBytes { digest in
                var high: UInt64 = 0
                var low: UInt64 = 0
                for index in 0..<8 {
                    high = high << 8 | UInt64(digest[index])
                    low = low << 8 | UInt64(digest[8 + index])
                }
                return BindingDigest(high: high, low: low)
            }
        }
    }

    private static func appendField(_ text: String, to buffer: UnsafeMutableBufferPointer<UInt8>, at position: inout Int) {
        withContiguousUTF8(text) { utf8 in
            precondition(position + 4 + utf8.count <= buffer.count)
            writeBigEndian(UInt32(truncatingIfNeeded: utf8.count), to: buffer, at: position)
            position += 4
            for byte in utf8 {
                buffer[position] = byte
                position += 1
            }
        }
    }

    private static func writeBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let size = MemoryLayout<T>.size
        precondition(offset >= 0 && offset + size <= bytes.count)
        for index in 0..<size {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * (size - 1 - index)))
        }
    }

    private static func readBigEndian<T: FixedWidthInteger>(_ bytes: UnsafeMutableBufferPointer<UInt8>, at offset: Int, as type: T.Type) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= bytes.count)
        var value: T = 0
        for index in offset..<(offset + MemoryLayout<T>.size) { value = value << 8 | T(bytes[index]) }
        return value
    }
}

/// The binding digest a nonce carries (bytes 26..<42, big-endian halves).
struct BindingDigest: Sendable, Hashable {
    var high: UInt64
    var low: UInt64
}

/// The binding digests of the bindings seen last, so that verifying a nonce does not hash its
/// binding again: a handful of entries (a node serves requests of a few trunks at a time; a miss
/// only costs the hash). Binding digests are not secret.
final class BindingDigestCache: Sendable {
    private struct Entry {
        var realm: String
        var binding: NonceBinding
        var flags: UInt8
        var digest: BindingDigest
    }

    private struct State {
        var entries: [Entry] = []
        var next = 0
    }

    static let capacity = 16
    private let state = Mutex(State())

    func digest(realm: String, binding: NonceBinding, flags: UInt8) -> BindingDigest {
        let cached = state.withLock { state -> BindingDigest? in
            for entry in state.entries where entry.flags == flags && entry.realm == realm && entry.binding == binding {
                return entry.digest
            }
            return nil
        }
        if let cached { return cached }
        let digest = StatelessNonce.bindingDigest(realm: realm, binding: binding, flags: flags)
        let entry = Entry(realm: realm, binding: binding, flags: flags, digest: digest)
        state.withLock { state in
            if state.entries.count < Self.capacity {
                state.entries.append(entry)
            } else {
                state.entries[state.next] = entry
                state.next = (state.next + 1) % Self.capacity
            }
        }
        return digest
    }
}

/// Calls `body` with the UTF-8 of `text`, in place when its storage is contiguous (native strings).
func withContiguousUTF8<S: StringProtocol, R>(_ text: S, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
    return Array(text.utf8).withUnsafeBufferPointer(body)
}
