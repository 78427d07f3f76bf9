import Crypto
import _CryptoExtras

/// The hash `H` behind a Digest algorithm (RFC 7616 §3.3, RFC 8760).
public enum DigestHashFunction: String, Sendable, Hashable, CaseIterable {
    case md5 = "MD5"
    case sha256 = "SHA-256"
    /// FIPS 180-4 SHA-512/256 — not SHA-512 cut to 256 bits.
    case sha512_256 = "SHA-512-256"

    /// Length of a digest in lower-case hex characters.
    public var hexLength: Int {
        switch self {
        case .md5: 32
        case .sha256, .sha512_256: 64
        }
    }

    /// `H(data)` as lower-case hex.
    public func hex(_ data: some Sequence<UInt8>) -> String {
        let bytes = data.withContiguousStorageIfAvailable { hex(UnsafeRawBufferPointer($0)) }
        return bytes ?? Array(data).withUnsafeBytes { hex($0) }
    }

    /// `H(text)` over the UTF-8 octets of `text`, as lower-case hex.
    public func hex(_ text: String) -> String {
        var text = text
        return text.withUTF8 { hex(UnsafeRawBufferPointer($0)) }
    }

    func hex(_ buffer: UnsafeRawBufferPointer) -> String {
        switch self {
        case .md5: Self.hexDigest(Insecure.MD5.self, buffer)
        case .sha256: Self.hexDigest(SHA256.self, buffer)
        case .sha512_256: Self.hexDigest(SHA512256.self, buffer)
        }
    }

    /// `H(bytes)` as raw bytes.
    func digest(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { buffer in
            switch self {
            case .md5: Self.rawDigest(Insecure.MD5.self, buffer)
            case .sha256: Self.rawDigest(SHA256.self, buffer)
            case .sha512_256: Self.rawDigest(SHA512256.self, buffer)
            }
        }
    }

    private static func rawDigest<H: HashFunction>(_: H.Type, _ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = H()
        hasher.update(bufferPointer: buffer)
        return hasher.finalize().withUnsafeBytes { Array($0) }
    }

    private static func hexDigest<H: HashFunction>(_: H.Type, _ buffer: UnsafeRawBufferPointer) -> String {
        var hasher = H()
        hasher.update(bufferPointer: buffer)
        return hexString(hasher.finalize())
    }

    private static func hexString(_ digest: some Digest) -> String {
        digest.withUnsafeBytes { Hex.encode($0) }
    }
}
