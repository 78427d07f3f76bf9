#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random numbers from the kernel's CSPRNG, drawn 4 KiB at a time.
///
/// `SystemRandomNumberGenerator` makes one `getrandom` system call per 8 bytes; the edge needs
/// random bits for every challenge nonce, To tag and event id, and one call per 512 numbers
/// costs a fraction of one per number. The bytes are the kernel's either way. Each thread
/// draws from a buffer of its own (``ThreadShards``): every event loop takes numbers per message.
public enum RandomPool {
    private static let pools = ThreadShards { Buffer() }

    /// A uniformly random 64-bit number.
    public static func next() -> UInt64 {
        pools.withCurrent { $0.next() }
    }

    private struct Buffer: Sendable {
        private var bytes = [UInt8](repeating: 0, count: 4096)
        private var used = 4096

        mutating func next() -> UInt64 {
            if used + 8 > bytes.count {
                #if canImport(Glibc) || canImport(Darwin)
                bytes.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                #else
                var generator = SystemRandomNumberGenerator()
                for index in bytes.indices { bytes[index] = generator.next() }
                #endif
                used = 0
            }
            defer { used += 8 }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: used, as: UInt64.self) }
        }
    }
}
