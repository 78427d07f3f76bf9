@testable import SIPDigest
import Testing

@Suite("Nonce-count replay store")
struct NonceCountStoreTests {
    let t0: Int64 = 1_750_000_000

    func nonce(_ n: Int) -> NonceIdentity { NonceIdentity(high: UInt64(bitPattern: Int64(n)) &* 0x9E37_79B9_7F4A_7C15, low: UInt64(bitPattern: Int64(n))) }

    @Test func windowAcceptsEachCountOnceInAnyOrderWithin64() {
        var window = NonceCountWindow(first: 5)
        // (count, accepted?)
        let steps: [(UInt32, Bool)] = [
            (5, false), (7, true), (6, true), (6, false), (1, true), (100, true),
            (37, true),  // 63 below the highest: still inside
            (36, false),  // 64 below: too old to tell, refused
            (37, false),
            (1000, true),  // a jump clears the window
            (100, false), (999, true),
        ]
        for (count, accepted) in steps {
            let result = window.record(count)
            #expect(result == accepted, "nc \(count)")
        }
    }

    @Test func storeRefusesReplaysPerNonce() {
        let store = SlidingWindowNonceCountStore(capacity: 64, shardCount: 2)
        let use = { (n: Int, nc: UInt32) in store.use(count: nc, of: nonce(n), issuedAt: t0, expiresAt: t0 + 300, now: t0) }
        #expect(use(1, 1) == .accepted)
        #expect(use(1, 1) == .replayed)
        #expect(use(1, 2) == .accepted)
        #expect(use(2, 1) == .accepted)  // another nonce has its own counts
        #expect(use(3, 0) == .accepted)  // no qop: single use
        #expect(use(3, 0) == .replayed)
    }

    @Test func memoryIsBoundedUnderAnyLoadAndEvictionNeverAcceptsAReplay() {
        let store = SlidingWindowNonceCountStore(capacity: 1024, shardCount: 8)
        #expect(store.capacity == 1024)
        // 200 000 distinct nonces, none expiring: far more than the capacity.
        for n in 0..<200_000 {
            let issuedAt = t0 + Int64(n / 1000)
            #expect(store.use(count: 1, of: nonce(n), issuedAt: issuedAt, expiresAt: issuedAt + 10_000, now: t0 + 200) == .accepted)
            if n % 10_000 == 0 { #expect(store.count <= store.capacity) }
        }
        #expect(store.count <= store.capacity)
        // Replays of every nonce: evicted ones are forgotten (refused as stale), kept ones replayed;
        // none is accepted.
        var verdicts: [NonceCountVerdict: Int] = [:]
        for n in 0..<200_000 {
            let issuedAt = t0 + Int64(n / 1000)
            verdicts[store.use(count: 1, of: nonce(n), issuedAt: issuedAt, expiresAt: issuedAt + 10_000, now: t0 + 200), default: 0] += 1
        }
        #expect(verdicts[.accepted] == nil)
        #expect(verdicts[.forgotten, default: 0] > 190_000)
        #expect(store.count <= store.capacity)
        // A nonce issued after everything evicted is still welcome.
        #expect(store.use(count: 1, of: nonce(-1), issuedAt: t0 + 300, expiresAt: t0 + 600, now: t0 + 300) == .accepted)
    }

    @Test func expiredEntriesAreDroppedAndTheirNoncesForgotten() {
        let store = SlidingWindowNonceCountStore(capacity: 100, shardCount: 1)
        for n in 0..<50 { _ = store.use(count: 1, of: nonce(n), issuedAt: t0, expiresAt: t0 + 300, now: t0) }
        #expect(store.count == 50)
        // Later traffic purges expired entries a few at a time.
        for n in 50..<80 { _ = store.use(count: 1, of: nonce(n), issuedAt: t0 + 400, expiresAt: t0 + 700, now: t0 + 400) }
        #expect(store.count == 30)
        // Even if a clock stepped back, a purged nonce cannot be replayed.
        #expect(store.use(count: 1, of: nonce(3), issuedAt: t0, expiresAt: t0 + 300, now: t0 + 10) == .forgotten)
    }

    @Test func concurrentUsesOfOneCountAcceptExactlyOne() async {
        let store = SlidingWindowNonceCountStore(capacity: 4096)
        let t0 = self.t0
        // Eight tasks race to use nc 1 and nc 2 of the same 1000 nonces.
        let accepted = await withTaskGroup(of: [NonceIdentity: Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var wins: [NonceIdentity: Int] = [:]
                    for n in 0..<1000 {
                        let identity = NonceIdentity(high: 7, low: UInt64(n))
                        for nc: UInt32 in [1, 2] where store.use(count: nc, of: identity, issuedAt: t0, expiresAt: t0 + 300, now: t0) == .accepted {
                            wins[identity, default: 0] += 1
                        }
                    }
                    return wins
                }
            }
            var total: [NonceIdentity: Int] = [:]
            for await wins in group { total.merge(wins, uniquingKeysWith: +) }
            return total
        }
        #expect(accepted.count == 1000)
        #expect(accepted.values.allSatisfy { $0 == 2 })
    }
}
