import Crypto
import SIPMessage

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
/// Layout, version 2 (42 bytes, sent as 56 characters of unpadded base64url):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | version (2) in the high nibble; flags: bit 0 bound to source IP, bit 1 bound to transport |
/// | 1 | 4 | key id, big-endian |
/// | 5 | 5 | issue time, Unix seconds, big-endian (40 bits) |
/// | 10 | 8 | random bytes (every challenge gets its own nonce) |
/// | 18 | 12 | binding digest: SHA-256 of realm, trunk, [source IP], [transport], truncated |
/// | 30 | 12 | tag: HMAC-SHA-256(key, bytes 0..<30), truncated to 96 bits |
///
/// The tag proves the nonce is ours and unaltered; the binding digest, covered by the tag, then
/// tells a nonce used for another trunk/IP/transport (``NonceCheck/boundElsewhere``) from a
/// forgery (``NonceCheck/invalid``).
///
/// Version 1 (58 bytes, 78 characters: version and flags a byte each, 8-byte time, 12 random
/// bytes, 16-byte binding digest and tag) is still verified, so that the nonces a node of an
/// older release issued keep working during a rolling upgrade; only version 2 is issued. The
/// shorter nonce saves a hash block per verification: with a 32-character cnonce an MD5
/// response input fits in three blocks instead of four, a SHA-256 one in four instead of five.
public enum StatelessNonce {
    /// Where the fields of one version lie.
    struct Layout {
        let length: Int
        let versionMarker: UInt8
        /// Flags in the low bits of byte 0 (version 2) or in byte 1 (version 1).
        let flagsOffset: Int
        let keyOffset: Int
        let timeOffset: Int
        let timeLength: Int
        let randomOffset: Int
        let randomLength: Int
        let bindingOffset: Int
        let bindingLength: Int
        let tagOffset: Int
        let tagLength: Int

        /// Characters of the base64url text.
        var encodedLength: Int { (length * 4 + 2) / 3 }

        static let v1 = Layout(
            length: 58, versionMarker: 1, flagsOffset: 1, keyOffset: 2, timeOffset: 6, timeLength: 8,
            randomOffset: 14, randomLength: 12, bindingOffset: 26, bindingLength: 16, tagOffset: 42, tagLength: 16
        )
        static let v2 = Layout(
            length: 42, versionMarker: 0x20, flagsOffset: 0, keyOffset: 1, timeOffset: 5, timeLength: 5,
            randomOffset: 10, randomLength: 8, bindingOffset: 18, bindingLength: 12, tagOffset: 30, tagLength: 12
        )

        /// The layout of a nonce text of this many characters.
        static func of(encodedLength: Int) -> Layout? {
            switch encodedLength {
            case v2.encodedLength: v2
            case v1.encodedLength: v1
            default: nil
            }
        }
    }

    /// What ``issue(keys:realm:binding:now:)`` writes.
    static let current = Layout.v2

    private static let boundToSourceIP: UInt8 = 1
    private static let boundToTransport: UInt8 = 2
    private static let flagMask: UInt8 = boundToSourceIP | boundToTransport

    /// A new nonce signed with the ring's current key.
    public static func issue(keys: NonceKeyRing, realm: String, binding: NonceBinding, now: Int64) -> String {
        issue(keys: keys, realm: realm, binding: binding, now: now, layout: current)
    }

    /// ``issue(keys:realm:binding:now:)`` in a given layout (tests of the older version).
    static func issue(keys: NonceKeyRing, realm: String, binding: NonceBinding, now: Int64, layout: Layout) -> String {
        issue(keys: keys, binding: binding, now: now, layout: layout, bindingDigest: { bindingDigest(realm: realm, binding: binding, flags: $0) })
    }

    /// A new nonce, with the binding's digest for the flags from `digestOf` (possibly cached).
    static func issue(
        keys: NonceKeyRing, binding: NonceBinding, now: Int64, layout: Layout, bindingDigest digestOf: (UInt8) -> BindingDigest
    ) -> String {
        var flags: UInt8 = 0
        if binding.sourceIP != nil { flags |= boundToSourceIP }
        if binding.transport != nil { flags |= boundToTransport }
        let key = keys.current
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: layout.length) { bytes in
            bytes.initialize(repeating: 0)
            bytes[0] = layout.versionMarker
            bytes[layout.flagsOffset] |= flags
            writeBigEndian(UInt64(key.id), count: 4, to: bytes, at: layout.keyOffset)
            writeBigEndian(UInt64(max(0, now)), count: layout.timeLength, to: bytes, at: layout.timeOffset)
            var written = 0
            while written < layout.randomLength {
                let count = min(8, layout.randomLength - written)
                writeBigEndian(RandomPool.next(), count: count, to: bytes, at: layout.randomOffset + written)
                written += count
            }
            let digest = digestOf(flags)
            digest.write(count: layout.bindingLength, to: bytes, at: layout.bindingOffset)
            let raw = UnsafeMutableRawBufferPointer(bytes)
            key.writeTag(
                UnsafeRawBufferPointer(rebasing: raw[0..<layout.tagOffset]),
                into: UnsafeMutableRawBufferPointer(rebasing: raw[layout.tagOffset..<(layout.tagOffset + layout.tagLength)])
            )
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
        // The exact length of a version's base64url; anything else is not ours (and is not decoded).
        guard let layout = Layout.of(encodedLength: nonce.count) else { return .invalid }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: layout.length) { bytes -> NonceCheck in
            guard Base64URL.decode(nonce, into: bytes) == layout.length else { return .invalid }
            let flags: UInt8
            if layout.flagsOffset == 0 {
                guard bytes[0] & ~flagMask == layout.versionMarker else { return .invalid }
                flags = bytes[0] & flagMask
            } else {
                guard bytes[0] == layout.versionMarker, bytes[layout.flagsOffset] & ~flagMask == 0 else { return .invalid }
                flags = bytes[layout.flagsOffset]
            }
            let keyID = UInt32(readBigEndian(bytes, at: layout.keyOffset, count: 4))
            guard let key = key(keyID) else { return .invalid }
            let raw = UnsafeRawBufferPointer(bytes)
            let tagEnd = layout.tagOffset + layout.tagLength
            guard key.hasTag(UnsafeRawBufferPointer(rebasing: raw[layout.tagOffset..<tagEnd]), for: UnsafeRawBufferPointer(rebasing: raw[0..<layout.tagOffset]))
            else { return .invalid }
            let issuedAt = Int64(bitPattern: readBigEndian(bytes, at: layout.timeOffset, count: layout.timeLength))
            guard issuedAt <= now + maximumClockSkewSeconds else { return .invalid }
            guard bindingDigest(flags).matches(bytes, at: layout.bindingOffset, count: layout.bindingLength)
            else { return .boundElsewhere }
            let identity = NonceIdentity(
                high: readBigEndian(bytes, at: layout.tagOffset, count: 8),
                low: readBigEndian(bytes, at: layout.tagOffset + 8, count: layout.tagLength - 8)
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
            writeBigEndian(UInt64(UInt32(truncatingIfNeeded: utf8.count)), count: 4, to: buffer, at: position)
            position += 4
            for byte in utf8 {
                buffer[position] = byte
                position += 1
            }
        }
    }

    /// The low `count` bytes of `value`, big-endian.
    private static func writeBigEndian(_ value: UInt64, count: Int, to bytes: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        precondition(count <= 8 && offset >= 0 && offset + count <= bytes.count)
        for index in 0..<count {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(count - 1 - index)))
        }
    }

    /// `count` (at most 8) bytes read as a big-endian unsigned number.
    private static func readBigEndian(_ bytes: UnsafeMutableBufferPointer<UInt8>, at offset: Int, count: Int) -> UInt64 {
        precondition(count <= 8 && offset >= 0 && offset + count <= bytes.count)
        var value: UInt64 = 0
        for index in offset..<(offset + count) { value = value << 8 | UInt64(bytes[index]) }
        return value
    }
}

/// The first 16 bytes of a binding's SHA-256 (big-endian halves); a nonce carries a prefix.
struct BindingDigest: Sendable, Hashable {
    var high: UInt64
    var low: UInt64

    /// Byte `index` (0..<16) of the digest.
    private func byte(_ index: Int) -> UInt8 {
        let word = index < 8 ? high : low
        return UInt8(truncatingIfNeeded: word >> (8 * UInt64(7 - index % 8)))
    }

    func write(count: Int, to bytes: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        precondition(count <= 16 && offset + count <= bytes.count)
        for index in 0..<count { bytes[offset + index] = byte(index) }
    }

    /// Whether the `count` bytes at `offset` are the digest's first `count` bytes.
    func matches(_ bytes: UnsafeMutableBufferPointer<UInt8>, at offset: Int, count: Int) -> Bool {
        precondition(count <= 16 && offset + count <= bytes.count)
        var difference: UInt8 = 0
        for index in 0..<count { difference |= bytes[offset + index] ^ byte(index) }
        return difference == 0
    }
}

/// The binding digests of the bindings seen last, so that issuing or verifying a nonce does not
/// hash its binding again: a handful of entries per thread (a node serves requests of a few
/// trunks at a time; a miss only costs the hash). Per thread because every challenge and every
/// answer looks one up. Binding digests are not secret.
final class BindingDigestCache: Sendable {
    private struct Entry: Sendable {
        var realm: String
        var binding: NonceBinding
        var flags: UInt8
        var digest: BindingDigest
    }

    private struct State: Sendable {
        var entries: [Entry] = []
        var next = 0
    }

    static let capacity = 16
    private let shards = ThreadShards { State() }

    func digest(realm: String, binding: NonceBinding, flags: UInt8) -> BindingDigest {
        shards.withCurrent { state in
            for entry in state.entries where entry.flags == flags && entry.realm == realm && entry.binding == binding {
                return entry.digest
            }
            let digest = StatelessNonce.bindingDigest(realm: realm, binding: binding, flags: flags)
            let entry = Entry(realm: realm, binding: binding, flags: flags, digest: digest)
            if state.entries.count < Self.capacity {
                state.entries.append(entry)
            } else {
                state.entries[state.next] = entry
                state.next = (state.next + 1) % Self.capacity
            }
            return digest
        }
    }
}

/// Calls `body` with the UTF-8 of `text`, in place when its storage is contiguous (native strings).
func withContiguousUTF8<S: StringProtocol, R>(_ text: S, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
    return Array(text.utf8).withUnsafeBufferPointer(body)
}
