public import Foundation
public import SIPMessage
public import TrunkgateModel
import Synchronization

/// RFC 3261 §10.3 registrar for authenticated REGISTER requests: bindings with expiry,
/// Min-Expires/423, several contacts, `*` removal, q-values, refresh, and Call-ID/CSeq
/// ordering. Bindings live in memory for the hot path and are written behind to the store
/// (``pendingWrites``), from which they are loaded at start, so they survive a restart.
public final class Registrar: Sendable {
    public struct Policy: Sendable, Hashable {
        public var minExpires: UInt32 = 60
        public var maxExpires: UInt32 = 3600
        public var defaultExpires: UInt32 = 3600
        public var maxContactsPerAOR = 10
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
    private let bindings = Mutex<[String: [RegistrationBinding]]>([:])

    public init(policy: Policy = Policy(), queueCapacity: Int = 100_000) {
        self.policy = policy
        self.pendingWrites = BatchQueue(capacity: queueCapacity)
    }

    static func key(trunk: String, aor: String) -> String { trunk + "|" + aor }

    /// `sip:user@host` with the host lower-cased: the AOR a To URI names.
    public static func addressOfRecord(_ uri: SIPURI) -> String {
        let scheme = uri.scheme == .sips ? "sips" : "sip"
        if let user = uri.unescapedUser { return "\(scheme):\(user)@\(uri.normalizedHost)" }
        return "\(scheme):\(uri.normalizedHost)"
    }

    /// Loads stored bindings (at start).
    public func load(_ stored: [RegistrationBinding], now: Date) {
        bindings.withLock { table in
            for b in stored where b.expiresAt > now {
                table[Self.key(trunk: b.trunkSid, aor: b.aor), default: []].append(b)
            }
        }
    }

    /// Live bindings of a trunk (routing targets for inbound calls), best q first.
    public func bindings(trunk: String, now: Date) -> [RegistrationBinding] {
        bindings.withLock { table in
            table.filter { $0.key.hasPrefix(trunk + "|") }.values.joined().filter { $0.expiresAt > now }.sorted { $0.q > $1.q }
        }
    }

    public var count: Int { bindings.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Processes an authenticated REGISTER for `trunk`.
    public func register(_ request: SIPMessage, trunk: Trunk, credential: Credential?, source: RequestSource, now: Date) -> Result {
        guard let to = request.to, to.uri.isSIP, let callID = request.callID, let cseq = request.cseq else {
            return .badRequest("To must be a SIP address of record")
        }
        let aor = Self.addressOfRecord(to.uri)
        let key = Self.key(trunk: trunk.sid, aor: aor)
        let userAgent = request.header(.userAgent).map { String($0.prefix(200)) }
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
        let current: [RegistrationBinding] = bindings.withLock { table in
            var list = table[key] ?? []
            list.removeAll { $0.expiresAt <= now }
            if wildcard {
                // Only if this Call-ID/CSeq is not older than what each binding holds.
                list.removeAll { b in b.callID != String(callID) || Int(cseq.number) > b.cseq }
                writes.append(.delete(trunk: trunk.sid, aor: aor, contact: nil))
                for b in list { writes.append(.upsert(b)) }
            }
            for change in changes {
                if let i = list.firstIndex(where: { Self.sameContact($0.contact, change.contact) }) {
                    let existing = list[i]
                    // A request from the same Call-ID must have a higher CSeq (§10.3 step 7).
                    if existing.callID == String(callID), Int(cseq.number) <= existing.cseq { continue }
                    if change.expires == 0 {
                        list.remove(at: i)
                        writes.append(.delete(trunk: trunk.sid, aor: aor, contact: existing.contact))
                        continue
                    }
                    var b = existing
                    b.expiresAt = now.addingTimeInterval(TimeInterval(change.expires))
                    b.q = change.q
                    b.callID = String(callID)
                    b.cseq = Int(cseq.number)
                    b.credentialSid = credential?.sid
                    b.sourceIP = source.ip
                    b.sourcePort = source.port
                    b.transport = source.transport
                    b.userAgent = userAgent
                    b.updatedAt = now
                    list[i] = b
                    writes.append(.upsert(b))
                } else if change.expires > 0 {
                    if list.count >= policy.maxContactsPerAOR, let oldest = list.indices.min(by: { list[$0].updatedAt < list[$1].updatedAt }) {
                        writes.append(.delete(trunk: trunk.sid, aor: aor, contact: list[oldest].contact))
                        list.remove(at: oldest)
                    }
                    let b = RegistrationBinding(
                        accountSid: trunk.accountSid, trunkSid: trunk.sid, aor: aor, contact: change.contact,
                        expiresAt: now.addingTimeInterval(TimeInterval(change.expires)), q: change.q, callID: String(callID),
                        cseq: Int(cseq.number), credentialSid: credential?.sid, sourceIP: source.ip, sourcePort: source.port,
                        transport: source.transport, userAgent: userAgent, updatedAt: now)
                    list.append(b)
                    writes.append(.upsert(b))
                }
            }
            table[key] = list.isEmpty ? nil : list
            return list
        }
        for w in writes { pendingWrites.offer(w) }
        let contacts = current.map { b in
            let remaining = max(0, Int(b.expiresAt.timeIntervalSince(now).rounded()))
            let q = b.q == 1000 ? "" : ";q=\(Double(b.q) / 1000)"
            return "<\(b.contact)>;expires=\(remaining)\(q)"
        }
        return .ok(contacts: contacts)
    }

    /// Removes every binding registered with a credential (when it is deleted).
    public func removeBindings(credentialSid: String) {
        let removed: [RegistrationBinding] = bindings.withLock { table in
            var removed: [RegistrationBinding] = []
            for (key, list) in table {
                let keep = list.filter { $0.credentialSid != credentialSid }
                removed += list.filter { $0.credentialSid == credentialSid }
                table[key] = keep.isEmpty ? nil : keep
            }
            return removed
        }
        for b in removed { pendingWrites.offer(.delete(trunk: b.trunkSid, aor: b.aor, contact: b.contact)) }
    }

    /// Contact URIs compare by RFC 3261 §19.1.4 equivalence.
    static func sameContact(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let x = try? SIPURI(parsing: a), let y = try? SIPURI(parsing: b) else { return false }
        return x.isEquivalent(to: y)
    }
}
