#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time in whole Unix seconds, injected so tests control nonce expiry.
///
/// Wall time (not a monotonic clock) because a nonce issued on one node is checked on another:
/// the nodes' clocks must agree to within ``DigestAuthenticator/Configuration/maximumClockSkewSeconds``.
public protocol DigestClock: Sendable {
    func unixSeconds() -> Int64
}

/// The system's real-time clock.
public struct SystemDigestClock: DigestClock {
    public init() {}

    public func unixSeconds() -> Int64 {
        Int64(time(nil))
    }
}
