public import Foundation
public import SIPMessage
public import TrunkgateModel
import Synchronization

/// RFC 3261 §10.3 registrar for authenticated REGISTER requests: bindings with expiry,
/// Min-Expires/423, several contacts, `*` removal, q-values, refresh, and Call-ID/CSeq
/// ordering. Bindings live in memory for the hot path and are written behind to the store
/// (``pendingWrites``), from which they are loaded at start, so they survive a restart.
///
/// A refresh that changes nothing but the expiry, Call-ID and CSeq, arriving while the expiry
/// the store holds is still most of an interval away (a UA re-registering far more often than
/// needed, a retry, a load generator), is not written at once: ``queueDeferredRefreshes(now:all:)``
/// writes the latest state of such a binding once it has waited ``Policy/maxRefreshDeferral``
/// (a minute, the period of Kamailio's usrloc write-back timer), or sooner when the expiry
/// the store holds gets short. Every new binding, removal and change of contact, source, q,
/// credential or User-Agent is written at once.
public final class Registrar: Sendable {
    public struct Policy: Sendable, Hashable {
        public var minExpires: UInt32 = 60
        public var maxExpires: UInt32 = 3600
        public var defaultExpires: UInt32 = 3600
        public var maxContactsPerAOR = 10
        /// A refresh that changes only the expiry is deferred while the store's expiry is at
        /// least this share of the new interval away. At 3/4 a UA refreshing at half its
        /// interval, as most do, is written at once, and a crash before the deferred write
        /// leaves a stored binding that lasts at least 3/4 of an interval.
        public var deferRefreshWhileStoredShare = 0.75
        /// The longest a deferred refresh waits before the sweep writes it, so that the store
        /// (and the API's listing, which reads it) is at most this far behind. A UA that
        /// re-registers every second is then written once a minute, not at every sweep.
        public var maxRefreshDeferral: TimeInterval = 60
        public init() {}
    }

    public typealias Write = RegistrationWrite

    public enum Result: Sendable {
        /// 200 OK with these Contact values (each with `;expires=`).
        case ok(contacts: [String])
        case intervalTooBrief(minExpires: UInt32)
        case badRequest(String)
    }

    public let policy: Policy
    /// Store writes waiting for the background writer.
    public let pendingWrites: BatchQueue<Write>

    /// A binding, the expiry the store holds for it (older after a deferred refresh), and when
    /// that was written.
    private struct Held: Sendable {
        var binding: RegistrationBinding
        var storedExpiresAt: Date
        var storedAt: Date
        init(_ binding: RegistrationBinding) {
            self.binding = binding
            self.storedExpiresAt = binding.expiresAt
            self.storedAt = binding.updatedAt
        }
        var isDeferred: Bool { storedExpiresAt != binding.expiresAt }

        mutating func markStored(at now: Date) {
            storedExpiresAt = binding.expiresAt
            storedAt = now
        }
    }

    /// Bindings by trunk sid, then AOR. Sharded by AOR so that REGISTERs on different cores
    /// rarely wait for each other; the trunk level lets inbound routing read one trunk's
    /// bindings without visiting the others'.
    private struct Table {
        var byTrunk: [String: [String: [Held]]] = [:]
        /// Strings that most bindings repeat (account and trunk sids, User-Agent), one copy each.
        var strings = StringInterner(capacity: 1024)
    }
    private final class Shard: Sendable {
        let table = Mutex(Table())
    }
    private let shards: [Shard]
    private let liveCount = Atomic<Int>(0)

    public init(policy: Policy = Policy(), queueCapacity: Int = 100_000, shardCount: Int = 16) {
        self.policy = policy
        self.pendingWrites = BatchQueue(capacity: queueCapacity)
        self.shards = (0..<max(1, shardCount)).map { _ in Shard() }
    }

    private func shard(aor: String) -> Shard {
        var hasher = Hasher()
        hasher.combine(aor)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    /// Adds `delta` bindings to the live count (kept apart so that metrics need not walk the table).
    private func adjustCount(_ delta: Int) {
        if delta != 0 { liveCount.add(delta, ordering: .relaxed) }
    }

    /// `sip:user@host` with the host lower-cased: the AOR a To URI names.
    public static func addressOfRecord(_ uri: SIPURI) -> String {
        let scheme = uri.scheme == .sips ? "sips" : "sip"
        if let user = uri.unescapedUser { return "\(scheme):\(user)@\(uri.normalizedHost)" }
        return "\(scheme):\(uri.normalizedHost)"
    }

    /// Loads stored bindings (at start).
    public func load(_ stored: [RegistrationBinding], now: Date) {
        var loaded = 0
        for var b in stored where b.expiresAt > now {
            shard(aor: b.aor).table.withLock { table in
                b.accountSid = table.strings.intern(b.accountSid)
                b.trunkSid = table.strings.intern(b.trunkSid)
                b.userAgent = b.userAgent.map { table.strings.intern($0) }
                table.byTrunk[b.trunkSid, default: [:]][b.aor, default: []].append(Held(b))
            }
            loaded += 1
        }
        adjustCount(loaded)
    }

    /// Live bindings of a trunk (routing targets for inbound calls), best q first.
    public func bindings(trunk: String, now: Date) -> [RegistrationBinding] {
        var found: [RegistrationBinding] = []
        for shard in shards {
            shard.table.withLock { table in
                guard let byAOR = table.byTrunk[trunk] else { return }
                for list in byAOR.values { found += list.lazy.map(\.binding).filter { $0.expiresAt > now } }
            }
        }
        return found.sorted { $0.q > $1.q }
    }

    /// Bindings held (expired ones count until a REGISTER for their AOR sweeps them).
    public var count: Int { liveCount.load(ordering: .relaxed) }

    /// Processes an authenticated REGISTER for `trunk`.
    public func register(_ request: SIPMessage, trunk: Trunk, credential: EdgeCredential?, source: RequestSource, now: Date) -> Result {
        guard let to = request.to, to.uri.isSIP, let callID = request.callID, let cseq = request.cseq else {
            return .badRequest("To must be a SIP address of record")
        }
        let aor = Self.addressOfRecord(to.uri)
        let userAgentText = request.header(.userAgent).map { String($0.prefix(200)) }
        let headerExpires = request.expires

        // Validate before touching anything (RFC 3261 §10.3 steps 6-7).
        let wildcard = request.contacts.contains { $0 == .wildcard }
        if wildcard {
            guard request.contacts.count == 1, headerExpires == 0 else {
                return .badRequest("Contact: * needs Expires: 0 and no other Contact")
            }
        }
        var changes: [(contact: String, expires: UInt32, q: Int)] = []
        for contact in request.contacts {
            guard let address = contact.address else { continue }
            var expires = contact.expires ?? headerExpires ?? policy.defaultExpires
            if expires != 0, expires < policy.minExpires { return .intervalTooBrief(minExpires: policy.minExpires) }
            expires = min(expires, policy.maxExpires)
            changes.append((String(address.uri.raw), expires, contact.qValue ?? 1000))
        }

        var writes: [Write] = []
        let callIDText = String(callID)
        let (current, delta): ([Held], Int) = shard(aor: aor).table.withLock { table in
            let userAgent = userAgentText.map { table.strings.intern($0) }
            // Edited in place (the dictionaries' modify accessors): a copy taken out would make
            // the edit copy the list, and taking it out and putting it back costs a delete and
            // an insert per REGISTER.
            func edit(_ list: inout [Held]) -> ([Held], Int) {
                let before = list.count
                list.removeAll { $0.binding.expiresAt <= now }
                if wildcard {
                    // Only if this Call-ID/CSeq is not older than what each binding holds.
                    list.removeAll { h in h.binding.callID != callIDText || Int(cseq.number) > h.binding.cseq }
                    writes.append(.delete(trunk: trunk.sid, aor: aor, contact: nil))
                    for i in list.indices {
                        list[i].markStored(at: now)
                        writes.append(.upsert(list[i].binding))
                    }
                }
                for change in changes {
                    if let i = list.firstIndex(where: { Self.sameContact($0.binding.contact, change.contact) }) {
                        let existing = list[i].binding
                        // A request from the same Call-ID must have a higher CSeq (§10.3 step 7).
                        if existing.callID == callIDText, Int(cseq.number) <= existing.cseq { continue }
                        if change.expires == 0 {
                            list.remove(at: i)
                            writes.append(.delete(trunk: trunk.sid, aor: aor, contact: existing.contact))
                            continue
                        }
                        var b = existing
                        b.expiresAt = now.addingTimeInterval(TimeInterval(change.expires))
                        b.q = change.q
                        b.callID = callIDText
                        b.cseq = Int(cseq.number)
                        b.credentialSid = credential?.sid
                        b.sourceIP = source.ip
                        b.sourcePort = source.port
                        b.transport = source.transport
                        b.userAgent = userAgent
                        b.updatedAt = now
                        // Call-ID and CSeq only order this UA's requests: a stored older pair after a
                        // crash merely accepts a late retransmission. What routes and revokes must not wait.
                        let onlyExpiry = b.q == existing.q && b.credentialSid == existing.credentialSid
                            && b.sourceIP == existing.sourceIP && b.sourcePort == existing.sourcePort
                            && b.transport == existing.transport && b.userAgent == existing.userAgent
                        list[i].binding = b
                        let storedFor = list[i].storedExpiresAt.timeIntervalSince(now)
                        if onlyExpiry, storedFor >= policy.deferRefreshWhileStoredShare * TimeInterval(change.expires) { continue }
                        list[i].markStored(at: now)
                        writes.append(.upsert(b))
                    } else if change.expires > 0 {
                        if list.count >= policy.maxContactsPerAOR,
                            let oldest = list.indices.min(by: { list[$0].binding.updatedAt < list[$1].binding.updatedAt }) {
                            writes.append(.delete(trunk: trunk.sid, aor: aor, contact: list[oldest].binding.contact))
                            list.remove(at: oldest)
                        }
                        let b = RegistrationBinding(
                            accountSid: trunk.accountSid, trunkSid: trunk.sid, aor: aor, contact: change.contact,
                            expiresAt: now.addingTimeInterval(TimeInterval(change.expires)), q: change.q, callID: callIDText,
                            cseq: Int(cseq.number), credentialSid: credential?.sid, sourceIP: source.ip, sourcePort: source.port,
                            transport: source.transport, userAgent: userAgent, updatedAt: now)
                        list.append(Held(b))
                        writes.append(.upsert(b))
                    }
                }
                return (list, list.count - before)
            }
            let edited = edit(&table.byTrunk[trunk.sid, default: [:]][aor, default: []])
            if edited.0.isEmpty {
                table.byTrunk[trunk.sid]?[aor] = nil
                if table.byTrunk[trunk.sid]?.isEmpty == true { table.byTrunk[trunk.sid] = nil }
            }
            return edited
        }
        adjustCount(delta)
        for w in writes { pendingWrites.offer(w) }
        let contacts = current.map { held in
            let b = held.binding
            let remaining = max(0, Int(b.expiresAt.timeIntervalSince(now).rounded()))
            let q = b.q == 1000 ? "" : ";q=\(Double(b.q) / 1000)"
            return "<\(b.contact)>;expires=\(remaining)\(q)"
        }
        return .ok(contacts: contacts)
    }

    /// Removes every binding registered with a credential (when it is deleted).
    public func removeBindings(credentialSid: String) {
        var removed: [RegistrationBinding] = []
        for shard in shards {
            shard.table.withLock { table in
                for (trunk, aor) in Self.keys(of: table, where: { $0.binding.credentialSid == credentialSid }) {
                    guard let list = table.byTrunk[trunk]?[aor] else { continue }
                    removed += list.lazy.map(\.binding).filter { $0.credentialSid == credentialSid }
                    let keep = list.filter { $0.binding.credentialSid != credentialSid }
                    table.byTrunk[trunk]?[aor] = keep.isEmpty ? nil : keep
                    if table.byTrunk[trunk]?.isEmpty == true { table.byTrunk[trunk] = nil }
                }
            }
        }
        adjustCount(-removed.count)
        for b in removed { pendingWrites.offer(.delete(trunk: b.trunkSid, aor: b.aor, contact: b.contact)) }
    }

    /// Queues the latest state of every binding whose refresh was deferred and is due (it has
    /// waited ``Policy/maxRefreshDeferral``, or the stored expiry is less than
    /// ``Policy/deferRefreshWhileStoredShare`` of its interval away), or of every deferred
    /// one when `all`; returns how many. The background service calls it every few seconds, and
    /// once more with `all` at shutdown.
    @discardableResult
    public func queueDeferredRefreshes(now: Date, all: Bool = false) -> Int {
        let policy = policy
        func isDue(_ h: Held) -> Bool {
            guard h.isDeferred else { return false }
            if all || now.timeIntervalSince(h.storedAt) >= policy.maxRefreshDeferral { return true }
            let interval = h.binding.expiresAt.timeIntervalSince(h.binding.updatedAt)
            return h.storedExpiresAt.timeIntervalSince(now) < policy.deferRefreshWhileStoredShare * interval
        }
        var queued = 0
        for shard in shards {
            let due: [RegistrationBinding] = shard.table.withLock { table in
                var found: [RegistrationBinding] = []
                func mark(_ list: inout [Held]) {
                    for i in list.indices where isDue(list[i]) {
                        found.append(list[i].binding)
                        list[i].markStored(at: now)
                    }
                }
                for (trunk, aor) in Self.keys(of: table, where: isDue) {
                    // Edited in place: a copy taken out would be copied again to be changed.
                    mark(&table.byTrunk[trunk, default: [:]][aor, default: []])
                }
                return found
            }
            // Offered outside the lock: the queue has a lock of its own.
            for b in due { pendingWrites.offer(.upsert(b)) }
            queued += due.count
        }
        return queued
    }

    /// The (trunk, AOR) keys holding a binding that matches, collected before anything changes:
    /// writing to the table while iterating it would copy it whole (100,000 bindings).
    private static func keys(of table: Table, where matches: (Held) -> Bool) -> [(trunk: String, aor: String)] {
        var keys: [(trunk: String, aor: String)] = []
        for (trunk, byAOR) in table.byTrunk {
            for (aor, list) in byAOR where list.contains(where: matches) { keys.append((trunk, aor)) }
        }
        return keys
    }

    /// Contact URIs compare by RFC 3261 §19.1.4 equivalence.
    static func sameContact(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let x = try? SIPURI(parsing: a), let y = try? SIPURI(parsing: b) else { return false }
        return x.isEquivalent(to: y)
    }
}
