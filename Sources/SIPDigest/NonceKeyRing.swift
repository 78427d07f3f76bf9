/// The keys a node signs and verifies nonces with: one current key, plus retired keys that still
/// verify until the end of their overlap window.
///
/// Rotation: ``rotated(to:now:overlapSeconds:)`` makes a new key current; the old one keeps
/// verifying (never signing) for `overlapSeconds`, then stops. With an overlap at least as long as
/// the nonce lifetime, no unexpired nonce is ever refused because of a rotation.
public struct NonceKeyRing: Sendable {
    /// A retired key and the last Unix second at which it still verifies.
    public struct RetiredKey: Sendable {
        public let key: NonceKey
        public let verifiesUntil: Int64

        public init(key: NonceKey, verifiesUntil: Int64) {
            self.key = key
            self.verifiesUntil = verifiesUntil
        }
    }

    /// Signs new nonces and verifies.
    public private(set) var current: NonceKey
    /// Verify only, each until its `verifiesUntil`.
    public private(set) var retired: [RetiredKey]

    public init(current: NonceKey, retired: [RetiredKey] = []) throws(NonceKeyError) {
        var ids: Set<UInt32> = [current.id]
        for key in retired {
            guard ids.insert(key.key.id).inserted else { throw .duplicateKeyID }
        }
        self.current = current
        self.retired = retired
    }

    /// A ring whose current key is `newKey`; the previous current key verifies for
    /// `overlapSeconds` more; retired keys whose overlap has ended are dropped.
    public func rotated(to newKey: NonceKey, now: Int64, overlapSeconds: Int64) throws(NonceKeyError) -> NonceKeyRing {
        let kept = retired.filter { $0.verifiesUntil >= now }
        return try NonceKeyRing(
            current: newKey,
            retired: kept + [RetiredKey(key: current, verifiesUntil: now + overlapSeconds)]
        )
    }

    /// The key with that id if it may verify at `now`.
    func verifyingKey(id: UInt32, now: Int64) -> NonceKey? {
        if current.id == id { return current }
        return retired.first { $0.key.id == id && now <= $0.verifiesUntil }?.key
    }
}
