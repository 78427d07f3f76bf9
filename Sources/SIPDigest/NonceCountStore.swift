/// What a ``NonceCountStore`` decided about one use of a nonce-count.
public enum NonceCountVerdict: Sendable, Hashable {
    /// First use of this `nc` with this nonce: the request may proceed.
    case accepted
    /// This `nc` was already used with this nonce, or is too far below the highest one seen to
    /// tell: refuse (`replayed_nc`).
    case replayed
    /// The store no longer remembers this nonce's counts and cannot rule out a replay: refuse it
    /// as stale, so the client retries at once with a fresh nonce.
    case forgotten
}

/// Remembers which nonce-counts (`nc`) were used with each nonce, so that a replayed request is
/// refused (RFC 7616 §3.4, "nc").
///
/// Implementations must make ``use(count:of:issuedAt:expiresAt:now:)`` atomic per nonce and may
/// forget a nonce only by answering ``NonceCountVerdict/forgotten`` (never ``accepted``) for any
/// count of it that might have been used before. A store shared by the nodes of a cluster gives
/// the guarantee cluster-wide; ``SlidingWindowNonceCountStore`` gives it per node.
public protocol NonceCountStore: Sendable {
    /// Checks and records one use of `count` with `nonce`. Called only after the response was
    /// verified, so a forged request cannot burn a legitimate client's counts.
    /// - Parameters:
    ///   - count: the `nc` value; 0 stands for a request without `qop` (no `nc`), which makes
    ///     such a nonce single-use.
    ///   - issuedAt, expiresAt: Unix seconds; the record is useless after `expiresAt` because the
    ///     nonce itself is refused as stale from then on.
    func use(count: UInt32, of nonce: NonceIdentity, issuedAt: Int64, expiresAt: Int64, now: Int64) -> NonceCountVerdict
}
