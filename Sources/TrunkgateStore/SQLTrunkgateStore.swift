public import Foundation
public import TrunkgateModel

/// The shared implementation of ``TrunkgateStore`` over SQL. ``SQLiteStore`` and
/// ``PostgresStore`` are this class with their backend; every rule (tenant scoping, limits,
/// uniqueness mapping, the change feed) lives here once, so both databases behave alike.
///
/// - Every write is one transaction (``SQLBackend/write(_:)``); a thrown error rolls it back.
/// - Limit checks count and insert in the same transaction, after ``SQLBackend/lockAccount(_:_:)``.
/// - Every configuration-affecting write appends to `config_changes` in its transaction; after
///   the commit the new version is published to this process's listeners.
public class SQLTrunkgateStore: TrunkgateStore, @unchecked Sendable {
    // @unchecked: only immutable `let`s of Sendable types; subclasses add only `let`s too.
    let backend: any SQLBackend
    let notifier = ChangeNotifier()

    init(backend: any SQLBackend) {
        self.backend = backend
    }

    // MARK: - Transactions

    /// A write transaction in progress: statements plus change-feed bookkeeping.
    final class Tx {
        let ex: any SQLExecutor
        let backend: any SQLBackend
        private(set) var lastVersion: Int64?
        private var changeLockTaken = false

        init(ex: any SQLExecutor, backend: any SQLBackend) {
            self.ex = ex
            self.backend = backend
        }

        func query(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] { try await ex.query(sql, binds) }
        func execute(_ sql: String, _ binds: [SQLValue] = []) async throws { try await ex.execute(sql, binds) }
        func first(_ sql: String, _ binds: [SQLValue] = []) async throws -> SQLRow? { try await ex.first(sql, binds) }
        func scalarInt(_ sql: String, _ binds: [SQLValue] = []) async throws -> Int64 { try await ex.scalarInt(sql, binds) }
        func insertRows(_ head: String, columns: Int, rowsPerStatement: Int, _ binds: [SQLValue]) async throws {
            try await ex.insertRows(head, columns: columns, rowsPerStatement: rowsPerStatement, binds)
        }
        func lockAccount(_ sid: String) async throws { try await backend.lockAccount(ex, sid) }

        /// Appends one change row.
        func appendChange(account: String?, trunk: String?, kind: String, object: String? = nil) async throws {
            try await appendChanges(
                "INSERT INTO config_changes (account_sid, trunk_sid, kind, at, object_sid) VALUES (?, ?, ?, ?, ?) RETURNING version",
                [.opt(account), .opt(trunk), .text(kind), .date(Date()), .opt(object)])
        }

        /// Runs an `INSERT INTO config_changes … RETURNING version` (possibly many rows).
        func appendChanges(_ sql: String, _ binds: [SQLValue]) async throws {
            if !changeLockTaken {
                try await backend.willAppendConfigChanges(ex)
                changeLockTaken = true
            }
            for row in try await ex.query(sql, binds) {
                let v = row.int64(0)
                lastVersion = max(lastVersion ?? v, v)
            }
        }

        /// One `ip_acl` change per trunk using the ACL (assigned, or owning it).
        func appendACLChanges(account: String, acl: String) async throws {
            try await appendChanges(
                """
                INSERT INTO config_changes (account_sid, trunk_sid, kind, at)
                SELECT ?, sid, 'ip_acl', ? FROM trunks WHERE ip_acl_sid = ?
                UNION ALL
                SELECT ?, owner_trunk_sid, 'ip_acl', ? FROM ip_acls WHERE sid = ? AND owner_trunk_sid IS NOT NULL
                RETURNING version
                """,
                [.text(account), .date(Date()), .text(acl), .text(account), .date(Date()), .text(acl)])
        }
    }

    func write<R: Sendable>(_ body: @escaping @Sendable (Tx) async throws -> R) async throws(StoreError) -> R {
        let backend = self.backend
        let result: (R, Int64?)
        do {
            result = try await backend.write { ex in
                let tx = Tx(ex: ex, backend: backend)
                let value = try await body(tx)
                if let v = tx.lastVersion { try await backend.didAppendConfigChanges(ex, version: v) }
                return (value, tx.lastVersion)
            }
        } catch {
            throw mapError(error)
        }
        if let v = result.1 { notifier.publish(v) }
        return result.0
    }

    func read<R: Sendable>(snapshot: Bool = false, _ body: @escaping @Sendable (any SQLExecutor) async throws -> R) async throws(StoreError) -> R {
        do {
            return try await backend.read(snapshot: snapshot, body)
        } catch {
            throw mapError(error)
        }
    }

    func mapError(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        switch backend.classify(error) {
        case .unique(let constraint):
            switch constraint {
            case "trunks_domain_name_key":
                return StoreError(.conflict, code: "duplicate_domain_name", "a trunk with this domain_name already exists", field: "domain_name")
            case "credentials_trunk_user_key":
                return StoreError(.conflict, code: "duplicate_user_name", "this trunk already has a credential with this user_name", field: "user_name")
            case "phone_numbers_number_key":
                return StoreError(.conflict, code: "duplicate_phone_number", "this phone_number is already in use", field: "phone_number")
            default:
                return StoreError(.conflict, code: "duplicate", "an object with this id already exists")
            }
        case .foreignKey:
            return StoreError(.notFound, code: "not_found", "a referenced object does not exist")
        case .other(let text):
            return StoreError(.unavailable, code: "store_unavailable", text)
        }
    }

    // MARK: - Shared checks

    private static func requireAccount(_ tx: Tx, _ sid: String) async throws {
        guard try await tx.first("SELECT sid FROM accounts WHERE sid = ?", [.text(sid)]) != nil else {
            throw StoreError.notFound("account")
        }
    }

    private static func requireTrunk(_ tx: Tx, account: String, trunk: String) async throws {
        guard try await tx.first("SELECT sid FROM trunks WHERE sid = ? AND account_sid = ?", [.text(trunk), .text(account)]) != nil else {
            throw StoreError.notFound("trunk")
        }
    }

    /// An ACL assigned to a trunk must be an account-level ACL of the same account.
    private static func requireAssignableACL(_ tx: Tx, account: String, acl: String?) async throws {
        guard let acl else { return }
        let row = try await tx.first(
            "SELECT sid FROM ip_acls WHERE sid = ? AND account_sid = ? AND owner_trunk_sid IS NULL", [.text(acl), .text(account)])
        guard row != nil else {
            throw StoreError(.invalid, code: "unknown_ip_acl", "ip_acl_sid does not name an IP ACL of this account", field: "ip_acl_sid")
        }
    }

    private static func limit(_ count: Int64, _ max: Int, _ message: String) throws {
        if count >= Int64(max) { throw StoreError(.limitExceeded, code: "limit_exceeded", message) }
    }

    private static func page<T>(_ rows: [SQLRow], _ request: PageRequest, _ decode: (SQLRow) -> T, sid: (T) -> String) -> Page<T> {
        let items = rows.prefix(request.limit).map(decode)
        let next = rows.count > request.limit ? items.last.map(sid) : nil
        return Page(items: Array(items), nextCursor: next)
    }

    // MARK: - Row decoding

    static let accountColumns = "sid, name, created_at, webhook_url, webhook_events, webhook_secret_sealed"
    static func decodeAccount(_ r: SQLRow) -> Account {
        var webhook: WebhookSettings?
        if let url = r.optString(3), let sealed = r.optString(5) {
            let events = (r.optString(4) ?? "").split(separator: ",").compactMap { WebhookEventType(rawValue: String($0)) }
            webhook = WebhookSettings(url: url, events: events, secretSealed: sealed)
        }
        return Account(sid: r.string(0), name: r.string(1), createdAt: r.date(2), webhook: webhook)
    }

    static let apiKeyColumns = "sid, account_sid, token_hash, salt, created_at"
    static func decodeAPIKey(_ r: SQLRow) -> APIKey {
        APIKey(sid: r.string(0), accountSid: r.string(1), tokenHash: r.string(2), salt: r.string(3), createdAt: r.date(4))
    }

    static let trunkColumns =
        "sid, account_sid, trunk_name, domain_name, auth_type, realm, digest_algorithms, max_cps, max_concurrent_calls, ip_acl_sid, created_at, updated_at, restrict_caller_id"
    static func decodeTrunk(_ r: SQLRow) -> Trunk {
        let algorithms = r.string(6).split(separator: ",").map(String.init)
        return Trunk(
            sid: r.string(0), accountSid: r.string(1), trunkName: r.string(2), domainName: r.string(3),
            authType: AuthType(rawValue: r.string(4)) ?? .credential, realm: r.string(5), digestAlgorithms: algorithms,
            maxCPS: r.optInt(7), maxConcurrentCalls: r.optInt(8), ipACLSid: r.optString(9), restrictCallerID: (r.optInt(12) ?? 0) != 0,
            createdAt: r.date(10), updatedAt: r.date(11))
    }

    static let credentialColumns =
        "sid, account_sid, trunk_sid, user_name, friendly_name, ha1_md5, ha1_sha256, ha1_sha512_256, realm, created_at, last_used_at, last_used_ip"
    static func decodeCredential(_ r: SQLRow) -> Credential {
        Credential(
            sid: r.string(0), accountSid: r.string(1), trunkSid: r.string(2), userName: r.string(3), friendlyName: r.optString(4),
            ha1MD5: r.string(5), ha1SHA256: r.string(6), ha1SHA512_256: r.string(7), realm: r.string(8),
            createdAt: r.date(9), lastUsedAt: r.optDate(10), lastUsedIP: r.optString(11))
    }

    static let phoneNumberColumns = "sid, account_sid, trunk_sid, phone_number, created_at"
    static func decodePhoneNumber(_ r: SQLRow) -> PhoneNumber {
        PhoneNumber(sid: r.string(0), accountSid: r.string(1), trunkSid: r.string(2), phoneNumber: r.string(3), createdAt: r.date(4))
    }

    static let ipACLColumns = "sid, account_sid, name, owner_trunk_sid, created_at"
    static func decodeIPACL(_ r: SQLRow) -> IPACL {
        IPACL(sid: r.string(0), accountSid: r.string(1), name: r.string(2), ownerTrunkSid: r.optString(3), createdAt: r.date(4))
    }

    static let entryColumns = "sid, acl_sid, ip_address, cidr_prefix_length, description, created_at"
    static func decodeEntry(_ r: SQLRow) -> IPACLEntry {
        var e = IPACLEntry(sid: r.string(0), aclSid: r.string(1), cidr: Self.placeholderCIDR, description: r.optString(4), createdAt: r.date(5))
        e.ipAddress = r.string(2)
        e.cidrPrefixLength = r.int(3)
        return e
    }
    private static let placeholderCIDR = try! CIDR(address: "0.0.0.0", prefix: 0)

    static let destinationColumns = "sid, account_sid, trunk_sid, destination, priority, weight, auth_username, auth_password_sealed, created_at"
    static func decodeDestination(_ r: SQLRow) -> DestinationURI {
        DestinationURI(
            sid: r.string(0), accountSid: r.string(1), trunkSid: r.string(2), destination: r.string(3), priority: r.int(4), weight: r.int(5),
            authUsername: r.optString(6), authPasswordSealed: r.optString(7), createdAt: r.date(8))
    }

    static let authEventColumns =
        "seq, sid, account_sid, trunk_sid, time, source_ip, source_port, transport, method, request_uri, user_name, algorithm, credential_sid, result, reason"
    static func decodeAuthEvent(_ r: SQLRow) -> AuthEvent {
        AuthEvent(
            sid: r.string(1), accountSid: r.optString(2), trunkSid: r.optString(3), time: r.date(4), sourceIP: r.string(5), sourcePort: r.int(6),
            transport: r.string(7), method: r.string(8), requestURI: r.string(9), userName: r.optString(10), algorithm: r.optString(11),
            credentialSid: r.optString(12), result: AuthEvent.Result(rawValue: r.string(13)) ?? .rejected, reason: r.string(14))
    }

    static let callRecordColumns =
        "seq, sid, account_sid, trunk_sid, direction, from_uri, to_uri, start_time, answer_time, end_time, duration, hangup_cause, hangup_cause_code, auth_type, auth_user, source_ip"
    static func decodeCallRecord(_ r: SQLRow) -> CallRecord {
        var record = CallRecord(
            sid: r.string(1), accountSid: r.string(2), trunkSid: r.optString(3), direction: CallRecord.Direction(rawValue: r.string(4)) ?? .outbound,
            from: r.string(5), to: r.string(6), startTime: r.date(7), answerTime: r.optDate(8), endTime: r.date(9),
            hangupCause: r.string(11), hangupCauseCode: r.optInt(12), authType: r.optString(13), authUser: r.optString(14), sourceIP: r.optString(15))
        record.duration = r.int(10)
        return record
    }

    static let lockoutColumns = "account_sid, ip, locked_at, locked_until, failures"
    static func decodeLockout(_ r: SQLRow) -> Lockout {
        let account = r.string(0)
        return Lockout(ip: r.string(1), accountSid: account.isEmpty ? nil : account, lockedAt: r.date(2), until: r.date(3), failures: r.int(4))
    }

    static let registrationColumns =
        "sid, account_sid, trunk_sid, aor, contact, expires_at, q, call_id, cseq, credential_sid, source_ip, source_port, transport, user_agent, updated_at"
    /// `kept`: for the registrar's memory, its own strings in fresh storage (``SQLRow/keptString(_:)``;
    /// the account and trunk sids and the User-Agent are interned by the registrar).
    static func decodeRegistration(_ r: SQLRow, kept: Bool = false) -> RegistrationBinding {
        let text = kept ? r.keptString : r.string
        return RegistrationBinding(
            sid: text(0), accountSid: r.string(1), trunkSid: r.string(2), aor: text(3), contact: text(4), expiresAt: r.date(5),
            q: r.int(6), callID: text(7), cseq: r.int(8), credentialSid: r.isNull(9) ? nil : text(9), sourceIP: text(10), sourcePort: r.int(11),
            transport: r.string(12), userAgent: r.optString(13), updatedAt: r.date(14))
    }

    // MARK: - Accounts and API keys

    public func createAccount(_ account: Account, key: APIKey) async throws(StoreError) {
        try await write { tx in
            try await tx.execute("INSERT INTO accounts (sid, name, created_at) VALUES (?, ?, ?)",
                                 [.text(account.sid), .text(account.name), .date(account.createdAt)])
            try await tx.execute("INSERT INTO api_keys (sid, account_sid, token_hash, salt, created_at) VALUES (?, ?, ?, ?, ?)",
                                 [.text(key.sid), .text(account.sid), .text(key.tokenHash), .text(key.salt), .date(key.createdAt)])
        }
    }

    public func account(_ sid: String) async throws(StoreError) -> Account? {
        try await read { ex in
            try await ex.first("SELECT \(Self.accountColumns) FROM accounts WHERE sid = ?", [.text(sid)]).map(Self.decodeAccount)
        }
    }

    public func updateAccountWebhook(account: String, webhook: WebhookSettings?) async throws(StoreError) -> Account {
        try await write { tx in
            try await tx.lockAccount(account)
            let rows = try await tx.query(
                "UPDATE accounts SET webhook_url = ?, webhook_events = ?, webhook_secret_sealed = ? WHERE sid = ? RETURNING \(Self.accountColumns)",
                [.opt(webhook?.url), .opt(webhook.map { $0.events.map(\.rawValue).joined(separator: ",") }), .opt(webhook?.secretSealed),
                 .text(account)])
            guard let row = rows.first else { throw StoreError.notFound("account") }
            try await tx.appendChange(account: account, trunk: nil, kind: "account")
            return Self.decodeAccount(row)
        }
    }

    public func apiKey(_ sid: String) async throws(StoreError) -> APIKey? {
        try await read { ex in
            try await ex.first("SELECT \(Self.apiKeyColumns) FROM api_keys WHERE sid = ?", [.text(sid)]).map(Self.decodeAPIKey)
        }
    }

    // MARK: - Trunks

    public func createTrunk(_ trunk: Trunk, limits: AccountLimits) async throws(StoreError) -> Trunk {
        var t = trunk
        t.domainName = trunk.domainName.lowercased()
        t.createdAt = normalized(trunk.createdAt)
        t.updatedAt = normalized(trunk.updatedAt)
        let stored = t
        return try await write { tx in
            try await tx.lockAccount(stored.accountSid)
            try await Self.requireAccount(tx, stored.accountSid)
            let count = try await tx.scalarInt("SELECT COUNT(*) FROM trunks WHERE account_sid = ?", [.text(stored.accountSid)])
            try Self.limit(count, limits.maxTrunks, "an account can have at most \(limits.maxTrunks) trunks")
            try await Self.requireAssignableACL(tx, account: stored.accountSid, acl: stored.ipACLSid)
            try await tx.execute(
                """
                INSERT INTO trunks (sid, account_sid, trunk_name, domain_name, auth_type, realm, digest_algorithms, max_cps,
                                    max_concurrent_calls, ip_acl_sid, created_at, updated_at, restrict_caller_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(stored.sid), .text(stored.accountSid), .text(stored.trunkName), .text(stored.domainName), .text(stored.authType.rawValue),
                 .text(stored.realm), .text(stored.digestAlgorithms.joined(separator: ",")), .opt(stored.maxCPS), .opt(stored.maxConcurrentCalls),
                 .opt(stored.ipACLSid), .date(stored.createdAt), .date(stored.updatedAt), .int(stored.restrictCallerID ? 1 : 0)])
            try await tx.appendChange(account: stored.accountSid, trunk: stored.sid, kind: "trunk")
            return stored
        }
    }

    public func trunk(account: String, sid: String) async throws(StoreError) -> Trunk? {
        try await read { ex in
            try await ex.first("SELECT \(Self.trunkColumns) FROM trunks WHERE sid = ? AND account_sid = ?", [.text(sid), .text(account)])
                .map(Self.decodeTrunk)
        }
    }

    public func trunks(account: String, page: PageRequest) async throws(StoreError) -> Page<Trunk> {
        try await read { ex in
            let rows = try await ex.query(
                "SELECT \(Self.trunkColumns) FROM trunks WHERE account_sid = ? AND sid > ? ORDER BY sid LIMIT ?",
                [.text(account), .text(page.after ?? ""), .int(page.limit + 1)])
            return Self.page(rows, page, Self.decodeTrunk, sid: \.sid)
        }
    }

    public func updateTrunk(_ trunk: Trunk) async throws(StoreError) -> Trunk {
        var t = trunk
        t.domainName = trunk.domainName.lowercased()
        t.updatedAt = normalized(Date())
        let stored = t
        return try await write { tx in
            try await tx.lockAccount(stored.accountSid)
            guard let row = try await tx.first("SELECT created_at FROM trunks WHERE sid = ? AND account_sid = ?",
                                               [.text(stored.sid), .text(stored.accountSid)]) else {
                throw StoreError.notFound("trunk")
            }
            try await Self.requireAssignableACL(tx, account: stored.accountSid, acl: stored.ipACLSid)
            try await tx.execute(
                """
                UPDATE trunks SET trunk_name = ?, domain_name = ?, auth_type = ?, realm = ?, digest_algorithms = ?, max_cps = ?,
                                  max_concurrent_calls = ?, ip_acl_sid = ?, updated_at = ?, restrict_caller_id = ?
                WHERE sid = ? AND account_sid = ?
                """,
                [.text(stored.trunkName), .text(stored.domainName), .text(stored.authType.rawValue), .text(stored.realm),
                 .text(stored.digestAlgorithms.joined(separator: ",")), .opt(stored.maxCPS), .opt(stored.maxConcurrentCalls),
                 .opt(stored.ipACLSid), .date(stored.updatedAt), .int(stored.restrictCallerID ? 1 : 0), .text(stored.sid), .text(stored.accountSid)])
            try await tx.appendChange(account: stored.accountSid, trunk: stored.sid, kind: "trunk")
            var result = stored
            result.createdAt = row.date(0)
            return result
        }
    }

    public func deleteTrunk(account: String, sid: String) async throws(StoreError) {
        try await write { tx in
            try await tx.lockAccount(account)
            // Credentials, numbers, destinations, bindings and the trunk's own ACL (with its
            // entries) go by ON DELETE CASCADE.
            let gone = try await tx.query("DELETE FROM trunks WHERE sid = ? AND account_sid = ? RETURNING sid", [.text(sid), .text(account)])
            guard !gone.isEmpty else { throw StoreError.notFound("trunk") }
            try await tx.appendChange(account: account, trunk: sid, kind: "trunk")
        }
    }

    // MARK: - Credentials

    public func createCredential(_ credential: Credential, limits: AccountLimits) async throws(StoreError) -> Credential {
        var c = credential
        c.createdAt = normalized(credential.createdAt)
        c.lastUsedAt = normalized(credential.lastUsedAt)
        let stored = c
        return try await write { tx in
            try await tx.lockAccount(stored.accountSid)
            try await Self.requireTrunk(tx, account: stored.accountSid, trunk: stored.trunkSid)
            let count = try await tx.scalarInt("SELECT COUNT(*) FROM credentials WHERE account_sid = ?", [.text(stored.accountSid)])
            try Self.limit(count, limits.maxCredentials, "an account can have at most \(limits.maxCredentials) credentials")
            try await Self.insertCredential(tx, stored)
            try await tx.appendChange(account: stored.accountSid, trunk: stored.trunkSid, kind: "credential", object: stored.sid)
            return stored
        }
    }

    public func createCredentials(_ credentials: [Credential], limits: AccountLimits) async throws(StoreError) {
        guard let first = credentials.first else { return }
        guard credentials.allSatisfy({ $0.accountSid == first.accountSid && $0.trunkSid == first.trunkSid }) else {
            throw StoreError(.invalid, code: "mixed_trunks", "a bulk import goes into one trunk")
        }
        let rows = credentials.map { c -> Credential in
            var c = c
            c.createdAt = normalized(c.createdAt)
            c.lastUsedAt = normalized(c.lastUsedAt)
            return c
        }
        try await write { tx in
            try await tx.lockAccount(first.accountSid)
            try await Self.requireTrunk(tx, account: first.accountSid, trunk: first.trunkSid)
            let count = try await tx.scalarInt("SELECT COUNT(*) FROM credentials WHERE account_sid = ?", [.text(first.accountSid)])
            try Self.limit(count + Int64(rows.count) - 1, limits.maxCredentials, "an account can have at most \(limits.maxCredentials) credentials")
            for c in rows { try await Self.insertCredential(tx, c) }
            // A batch of one is applied by the edge like a single create; a larger one reloads the trunk.
            try await tx.appendChange(account: first.accountSid, trunk: first.trunkSid, kind: "credential",
                                      object: rows.count == 1 ? rows[0].sid : nil)
        }
    }

    /// The one INSERT of a credential row (single create and bulk import).
    private static func insertCredential(_ tx: Tx, _ c: Credential) async throws {
        try await tx.execute(
            """
            INSERT INTO credentials (sid, account_sid, trunk_sid, user_name, friendly_name, ha1_md5, ha1_sha256, ha1_sha512_256, realm,
                                     created_at, last_used_at, last_used_ip)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(c.sid), .text(c.accountSid), .text(c.trunkSid), .text(c.userName), .opt(c.friendlyName),
             .text(c.ha1MD5), .text(c.ha1SHA256), .text(c.ha1SHA512_256), .text(c.realm), .date(c.createdAt),
             .opt(c.lastUsedAt), .opt(c.lastUsedIP)])
    }

    public func credential(account: String, trunk: String, sid: String) async throws(StoreError) -> Credential? {
        try await read { ex in
            try await ex.first("SELECT \(Self.credentialColumns) FROM credentials WHERE sid = ? AND trunk_sid = ? AND account_sid = ?",
                               [.text(sid), .text(trunk), .text(account)]).map(Self.decodeCredential)
        }
    }

    public func credentials(account: String, trunk: String, page: PageRequest) async throws(StoreError) -> Page<Credential> {
        try await read { ex in
            let rows = try await ex.query(
                "SELECT \(Self.credentialColumns) FROM credentials WHERE trunk_sid = ? AND account_sid = ? AND sid > ? ORDER BY sid LIMIT ?",
                [.text(trunk), .text(account), .text(page.after ?? ""), .int(page.limit + 1)])
            return Self.page(rows, page, Self.decodeCredential, sid: \.sid)
        }
    }

    public func deleteCredential(account: String, trunk: String, sid: String) async throws(StoreError) {
        try await write { tx in
            let gone = try await tx.query("DELETE FROM credentials WHERE sid = ? AND trunk_sid = ? AND account_sid = ? RETURNING sid",
                                          [.text(sid), .text(trunk), .text(account)])
            guard !gone.isEmpty else { throw StoreError.notFound("credential") }
            try await tx.appendChange(account: account, trunk: trunk, kind: "credential", object: sid)
        }
    }

    public func recordCredentialUse(_ uses: [CredentialUse]) async throws(StoreError) {
        // Keep the latest use per credential; older ones in the batch change nothing.
        var latest: [String: CredentialUse] = [:]
        for u in uses where (latest[u.credentialSid]?.at ?? .distantPast) < u.at { latest[u.credentialSid] = u }
        guard !latest.isEmpty else { return }
        let batch = Array(latest.values)
        try await write { tx in
            // Many rows per statement: on SQLite every statement is prepared anew and hops to
            // the NIO thread pool and back, which cost more than the updates themselves.
            let chunk = 200
            var start = 0
            while start < batch.count {
                let slice = batch[start..<min(start + chunk, batch.count)]
                var binds: [SQLValue] = []
                binds.reserveCapacity(slice.count * 3)
                for u in slice { binds += [.text(u.credentialSid), .date(u.at), .text(u.ip)] }
                // VALUES columns are column1… in both SQLite and PostgreSQL.
                try await tx.execute(
                    """
                    UPDATE credentials SET last_used_at = v.column2, last_used_ip = v.column3
                    FROM (VALUES \(placeholderRows(columns: 3, rows: slice.count))) AS v
                    WHERE credentials.sid = v.column1 AND (credentials.last_used_at IS NULL OR credentials.last_used_at < v.column2)
                    """, binds)
                start += chunk
            }
        }
    }

    // MARK: - Phone numbers

    public func createPhoneNumber(_ number: PhoneNumber, limits: AccountLimits) async throws(StoreError) -> PhoneNumber {
        var n = number
        n.createdAt = normalized(number.createdAt)
        let stored = n
        return try await write { tx in
            try await tx.lockAccount(stored.accountSid)
            try await Self.requireTrunk(tx, account: stored.accountSid, trunk: stored.trunkSid)
            let count = try await tx.scalarInt("SELECT COUNT(*) FROM phone_numbers WHERE account_sid = ?", [.text(stored.accountSid)])
            try Self.limit(count, limits.maxPhoneNumbers, "an account can have at most \(limits.maxPhoneNumbers) phone numbers")
            try await tx.execute("INSERT INTO phone_numbers (sid, account_sid, trunk_sid, phone_number, created_at) VALUES (?, ?, ?, ?, ?)",
                                 [.text(stored.sid), .text(stored.accountSid), .text(stored.trunkSid), .text(stored.phoneNumber),
                                  .date(stored.createdAt)])
            try await tx.appendChange(account: stored.accountSid, trunk: stored.trunkSid, kind: "phone_number")
            return stored
        }
    }

    public func phoneNumber(account: String, trunk: String, sid: String) async throws(StoreError) -> PhoneNumber? {
        try await read { ex in
            try await ex.first("SELECT \(Self.phoneNumberColumns) FROM phone_numbers WHERE sid = ? AND trunk_sid = ? AND account_sid = ?",
                               [.text(sid), .text(trunk), .text(account)]).map(Self.decodePhoneNumber)
        }
    }

    public func phoneNumbers(account: String, trunk: String, page: PageRequest) async throws(StoreError) -> Page<PhoneNumber> {
        try await read { ex in
            let rows = try await ex.query(
                "SELECT \(Self.phoneNumberColumns) FROM phone_numbers WHERE trunk_sid = ? AND account_sid = ? AND sid > ? ORDER BY sid LIMIT ?",
                [.text(trunk), .text(account), .text(page.after ?? ""), .int(page.limit + 1)])
            return Self.page(rows, page, Self.decodePhoneNumber, sid: \.sid)
        }
    }

    public func deletePhoneNumber(account: String, trunk: String, sid: String) async throws(StoreError) {
        try await write { tx in
            let gone = try await tx.query("DELETE FROM phone_numbers WHERE sid = ? AND trunk_sid = ? AND account_sid = ? RETURNING sid",
                                          [.text(sid), .text(trunk), .text(account)])
            guard !gone.isEmpty else { throw StoreError.notFound("phone number") }
            try await tx.appendChange(account: account, trunk: trunk, kind: "phone_number")
        }
    }

    // MARK: - IP ACLs and entries

    public func createIPACL(_ acl: IPACL, limits: AccountLimits) async throws(StoreError) -> IPACL {
        var a = acl
        a.createdAt = normalized(acl.createdAt)
        let stored = a
        return try await write { tx in
            try await tx.lockAccount(stored.accountSid)
            try await Self.requireAccount(tx, stored.accountSid)
            if let owner = stored.ownerTrunkSid {
                try await Self.requireTrunk(tx, account: stored.accountSid, trunk: owner)
            } else {
                let count = try await tx.scalarInt("SELECT COUNT(*) FROM ip_acls WHERE account_sid = ? AND owner_trunk_sid IS NULL",
                                                   [.text(stored.accountSid)])
                try Self.limit(count, limits.maxIPACLs, "an account can have at most \(limits.maxIPACLs) IP ACLs")
            }
            try await tx.execute("INSERT INTO ip_acls (sid, account_sid, name, owner_trunk_sid, created_at) VALUES (?, ?, ?, ?, ?)",
                                 [.text(stored.sid), .text(stored.accountSid), .text(stored.name), .opt(stored.ownerTrunkSid),
                                  .date(stored.createdAt)])
            // A new ACL has no entries and serves no trunk yet: no configuration change.
            return stored
        }
    }

    public func ipACL(account: String, sid: String) async throws(StoreError) -> IPACL? {
        try await read { ex in
            try await ex.first("SELECT \(Self.ipACLColumns) FROM ip_acls WHERE sid = ? AND account_sid = ?", [.text(sid), .text(account)])
                .map(Self.decodeIPACL)
        }
    }

    public func ipACLs(account: String, page: PageRequest) async throws(StoreError) -> Page<IPACL> {
        try await read { ex in
            let rows = try await ex.query(
                """
                SELECT \(Self.ipACLColumns) FROM ip_acls
                WHERE account_sid = ? AND owner_trunk_sid IS NULL AND sid > ? ORDER BY sid LIMIT ?
                """,
                [.text(account), .text(page.after ?? ""), .int(page.limit + 1)])
            return Self.page(rows, page, Self.decodeIPACL, sid: \.sid)
        }
    }

    public func updateIPACL(_ acl: IPACL) async throws(StoreError) -> IPACL {
        try await write { tx in
            // Only the name is mutable; it does not affect the edge, so no configuration change.
            let rows = try await tx.query("UPDATE ip_acls SET name = ? WHERE sid = ? AND account_sid = ? RETURNING \(Self.ipACLColumns)",
                                          [.text(acl.name), .text(acl.sid), .text(acl.accountSid)])
            guard let row = rows.first else { throw StoreError.notFound("IP ACL") }
            return Self.decodeIPACL(row)
        }
    }

    public func deleteIPACL(account: String, sid: String) async throws(StoreError) {
        try await write { tx in
            try await tx.lockAccount(account)
            guard let row = try await tx.first("SELECT owner_trunk_sid FROM ip_acls WHERE sid = ? AND account_sid = ?",
                                               [.text(sid), .text(account)]) else {
                throw StoreError.notFound("IP ACL")
            }
            let users = try await tx.scalarInt("SELECT COUNT(*) FROM trunks WHERE ip_acl_sid = ?", [.text(sid)])
            if users > 0 {
                throw StoreError(.conflict, code: "ip_acl_in_use",
                                 "the IP ACL is assigned to \(users) trunk\(users == 1 ? "" : "s"); unassign it before deleting it")
            }
            if let owner = row.optString(0) {
                // A trunk's whitelisted IPs: dropping them changes that trunk's configuration.
                try await tx.appendChange(account: account, trunk: owner, kind: "ip_acl")
            }
            try await tx.execute("DELETE FROM ip_acls WHERE sid = ? AND account_sid = ?", [.text(sid), .text(account)])
        }
    }

    public func trunkOwnedACL(account: String, trunk: String, create: Bool) async throws(StoreError) -> IPACL? {
        let select = "SELECT \(Self.ipACLColumns) FROM ip_acls WHERE owner_trunk_sid = ? AND account_sid = ?"
        if !create {
            return try await read { ex in try await ex.first(select, [.text(trunk), .text(account)]).map(Self.decodeIPACL) }
        }
        return try await write { tx in
            try await tx.lockAccount(account)
            try await Self.requireTrunk(tx, account: account, trunk: trunk)
            if let row = try await tx.first(select, [.text(trunk), .text(account)]) { return Self.decodeIPACL(row) }
            let acl = IPACL(accountSid: account, name: "whitelisted IPs of \(trunk)", ownerTrunkSid: trunk, createdAt: normalized(Date()))
            try await tx.execute("INSERT INTO ip_acls (sid, account_sid, name, owner_trunk_sid, created_at) VALUES (?, ?, ?, ?, ?)",
                                 [.text(acl.sid), .text(account), .text(acl.name), .text(trunk), .date(acl.createdAt)])
            return acl
        }
    }

    public func createIPACLEntry(_ entry: IPACLEntry, account: String, limits: AccountLimits) async throws(StoreError) -> IPACLEntry {
        var e = entry
        e.createdAt = normalized(entry.createdAt)
        let stored = e
        return try await write { tx in
            try await tx.lockAccount(account)
            guard try await tx.first("SELECT sid FROM ip_acls WHERE sid = ? AND account_sid = ?", [.text(stored.aclSid), .text(account)]) != nil
            else { throw StoreError.notFound("IP ACL") }
            let count = try await tx.scalarInt("SELECT COUNT(*) FROM ip_acl_entries WHERE acl_sid = ?", [.text(stored.aclSid)])
            try Self.limit(count, limits.maxEntriesPerACL, "an IP ACL can have at most \(limits.maxEntriesPerACL) entries")
            try await tx.execute(
                "INSERT INTO ip_acl_entries (sid, acl_sid, ip_address, cidr_prefix_length, description, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(stored.sid), .text(stored.aclSid), .text(stored.ipAddress), .int(stored.cidrPrefixLength), .opt(stored.description),
                 .date(stored.createdAt)])
            try await tx.appendACLChanges(account: account, acl: stored.aclSid)
            return stored
        }
    }

    private static let entryScope = "EXISTS (SELECT 1 FROM ip_acls a WHERE a.sid = ip_acl_entries.acl_sid AND a.account_sid = ?)"

    public func ipACLEntry(account: String, acl: String, sid: String) async throws(StoreError) -> IPACLEntry? {
        try await read { ex in
            try await ex.first("SELECT \(Self.entryColumns) FROM ip_acl_entries WHERE sid = ? AND acl_sid = ? AND \(Self.entryScope)",
                               [.text(sid), .text(acl), .text(account)]).map(Self.decodeEntry)
        }
    }

    public func ipACLEntries(account: String, acl: String, page: PageRequest) async throws(StoreError) -> Page<IPACLEntry> {
        try await read { ex in
            let rows = try await ex.query(
                "SELECT \(Self.entryColumns) FROM ip_acl_entries WHERE acl_sid = ? AND \(Self.entryScope) AND sid > ? ORDER BY sid LIMIT ?",
                [.text(acl), .text(account), .text(page.after ?? ""), .int(page.limit + 1)])
            return Self.page(rows, page, Self.decodeEntry, sid: \.sid)
        }
    }

    public func deleteIPACLEntry(account: String, acl: String, sid: String) async throws(StoreError) {
        try await write { tx in
            let gone = try await tx.query("DELETE FROM ip_acl_entries WHERE sid = ? AND acl_sid = ? AND \(Self.entryScope) RETURNING sid",
                                          [.text(sid), .text(acl), .text(account)])
            guard !gone.isEmpty else { throw StoreError.notFound("IP ACL entry") }
            try await tx.appendACLChanges(account: account, acl: acl)
        }
    }

    // MARK: - Destination URIs

    public func createDestination(_ destination: DestinationURI, limits: AccountLimits) async throws(StoreError) -> DestinationURI {
        var d = destination
        d.createdAt = normalized(destination.createdAt)
        let stored = d
        return try await write { tx in
            try await tx.lockAccount(stored.accountSid)
            try await Self.requireTrunk(tx, account: stored.accountSid, trunk: stored.trunkSid)
            let count = try await tx.scalarInt("SELECT COUNT(*) FROM destinations WHERE trunk_sid = ?", [.text(stored.trunkSid)])
            try Self.limit(count, limits.maxDestinationsPerTrunk, "a trunk can have at most \(limits.maxDestinationsPerTrunk) destination URIs")
            try await tx.execute(
                """
                INSERT INTO destinations (sid, account_sid, trunk_sid, destination, priority, weight, auth_username, auth_password_sealed, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(stored.sid), .text(stored.accountSid), .text(stored.trunkSid), .text(stored.destination), .int(stored.priority),
                 .int(stored.weight), .opt(stored.authUsername), .opt(stored.authPasswordSealed), .date(stored.createdAt)])
            try await tx.appendChange(account: stored.accountSid, trunk: stored.trunkSid, kind: "destination")
            return stored
        }
    }

    public func destination(account: String, trunk: String, sid: String) async throws(StoreError) -> DestinationURI? {
        try await read { ex in
            try await ex.first("SELECT \(Self.destinationColumns) FROM destinations WHERE sid = ? AND trunk_sid = ? AND account_sid = ?",
                               [.text(sid), .text(trunk), .text(account)]).map(Self.decodeDestination)
        }
    }

    public func destinations(account: String, trunk: String, page: PageRequest) async throws(StoreError) -> Page<DestinationURI> {
        try await read { ex in
            let rows = try await ex.query(
                "SELECT \(Self.destinationColumns) FROM destinations WHERE trunk_sid = ? AND account_sid = ? AND sid > ? ORDER BY sid LIMIT ?",
                [.text(trunk), .text(account), .text(page.after ?? ""), .int(page.limit + 1)])
            return Self.page(rows, page, Self.decodeDestination, sid: \.sid)
        }
    }

    public func deleteDestination(account: String, trunk: String, sid: String) async throws(StoreError) {
        try await write { tx in
            let gone = try await tx.query("DELETE FROM destinations WHERE sid = ? AND trunk_sid = ? AND account_sid = ? RETURNING sid",
                                          [.text(sid), .text(trunk), .text(account)])
            guard !gone.isEmpty else { throw StoreError.notFound("destination URI") }
            try await tx.appendChange(account: account, trunk: trunk, kind: "destination")
        }
    }

    // MARK: - Auth events

    public func appendAuthEvents(_ events: [AuthEvent]) async throws(StoreError) {
        guard !events.isEmpty else { return }
        var binds: [SQLValue] = []
        binds.reserveCapacity(events.count * 14)
        for e in events {
            // One append per value: `+= [...]` would build and free a temporary array per row.
            binds.append(.text(e.sid)); binds.append(.opt(e.accountSid)); binds.append(.opt(e.trunkSid))
            binds.append(.date(e.time)); binds.append(.text(e.sourceIP)); binds.append(.int(e.sourcePort))
            binds.append(.text(e.transport)); binds.append(.text(e.method)); binds.append(.text(e.requestURI))
            binds.append(.opt(e.userName)); binds.append(.opt(e.algorithm)); binds.append(.opt(e.credentialSid))
            binds.append(.text(e.result.rawValue)); binds.append(.text(e.reason))
        }
        try await write { [binds] tx in
            // 250 rows, 3,500 binds a statement: within SQLite's and PostgreSQL's limits.
            try await tx.insertRows(
                """
                INSERT INTO auth_events (sid, account_sid, trunk_sid, time, source_ip, source_port, transport, method, request_uri,
                                         user_name, algorithm, credential_sid, result, reason)
                """, columns: 14, rowsPerStatement: 250, binds)
        }
    }

    /// Append-only tables (auth events, CDRs) page newest first by `seq`; the cursor is the
    /// last `seq` of the previous page.
    static func sequenceCursor(_ page: PageRequest) throws(StoreError) -> Int64 {
        guard let cursor = page.after else { return Int64.max }
        guard let c = Int64(cursor), c > 0 else {
            throw StoreError(.invalid, code: "invalid_cursor", "the page cursor is not valid", field: "page_token")
        }
        return c
    }

    /// Runs `sql` (selecting `seq` first, filtered by `seq < cursor`) newest first, one row more
    /// than the page to know whether another page follows.
    private func newestFirst<T: Sendable>(_ sql: String, _ binds: [SQLValue], _ page: PageRequest,
                                          _ decode: @escaping @Sendable (SQLRow) -> T) async throws(StoreError) -> Page<T> {
        let finalSQL = sql + " ORDER BY seq DESC LIMIT ?", finalBinds = binds + [.int(page.limit + 1)]
        return try await read { ex in
            let rows = try await ex.query(finalSQL, finalBinds)
            let kept = rows.prefix(page.limit)
            let next = rows.count > page.limit ? kept.last.map { String($0.int64(0)) } : nil
            return Page(items: kept.map(decode), nextCursor: next)
        }
    }

    public func authEvents(_ query: AuthEventQuery, page: PageRequest) async throws(StoreError) -> Page<AuthEvent> {
        let before = try Self.sequenceCursor(page)
        var sql = "SELECT \(Self.authEventColumns) FROM auth_events WHERE account_sid = ? AND seq < ?"
        var binds: [SQLValue] = [.text(query.accountSid), .int(before)]
        if let v = query.trunkSid { sql += " AND trunk_sid = ?"; binds.append(.text(v)) }
        if let v = query.sourceIP { sql += " AND source_ip = ?"; binds.append(.text(v)) }
        if let v = query.userName { sql += " AND user_name = ?"; binds.append(.text(v)) }
        if let v = query.result { sql += " AND result = ?"; binds.append(.text(v.rawValue)) }
        if let v = query.reason { sql += " AND reason = ?"; binds.append(.text(v)) }
        if let v = query.since { sql += " AND time >= ?"; binds.append(.date(v)) }
        if let v = query.until { sql += " AND time <= ?"; binds.append(.date(v)) }
        return try await newestFirst(sql, binds, page, Self.decodeAuthEvent)
    }

    // MARK: - Call records

    public func appendCallRecords(_ records: [CallRecord]) async throws(StoreError) {
        guard !records.isEmpty else { return }
        var binds: [SQLValue] = []
        binds.reserveCapacity(records.count * 15)
        for c in records {
            binds += [.text(c.sid), .text(c.accountSid), .opt(c.trunkSid), .text(c.direction.rawValue), .text(c.from), .text(c.to),
                      .date(c.startTime), .opt(c.answerTime), .date(c.endTime), .int(c.duration),
                      .text(c.hangupCause), .opt(c.hangupCauseCode), .opt(c.authType), .opt(c.authUser),
                      .opt(c.sourceIP)]
        }
        try await write { [binds] tx in
            try await tx.insertRows(
                """
                INSERT INTO call_records (sid, account_sid, trunk_sid, direction, from_uri, to_uri, start_time, answer_time, end_time,
                                          duration, hangup_cause, hangup_cause_code, auth_type, auth_user, source_ip)
                """, columns: 15, rowsPerStatement: 100, binds)
        }
    }

    public func callRecords(_ query: CallRecordQuery, page: PageRequest) async throws(StoreError) -> Page<CallRecord> {
        let before = try Self.sequenceCursor(page)
        var sql = "SELECT \(Self.callRecordColumns) FROM call_records WHERE account_sid = ? AND seq < ?"
        var binds: [SQLValue] = [.text(query.accountSid), .int(before)]
        if let v = query.trunkSid { sql += " AND trunk_sid = ?"; binds.append(.text(v)) }
        if let v = query.direction { sql += " AND direction = ?"; binds.append(.text(v.rawValue)) }
        if let v = query.since { sql += " AND start_time >= ?"; binds.append(.date(v)) }
        if let v = query.until { sql += " AND start_time <= ?"; binds.append(.date(v)) }
        return try await newestFirst(sql, binds, page, Self.decodeCallRecord)
    }

    // MARK: - Lockouts

    public func upsertLockout(_ lockout: Lockout) async throws(StoreError) {
        try await write { tx in
            try await tx.execute(
                """
                INSERT INTO lockouts (account_sid, ip, locked_at, locked_until, failures) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (account_sid, ip) DO UPDATE SET locked_at = excluded.locked_at, locked_until = excluded.locked_until,
                                                            failures = excluded.failures
                """,
                [.text(lockout.accountSid ?? ""), .text(lockout.ip), .date(lockout.lockedAt), .date(lockout.until), .int(lockout.failures)])
            // Housekeeping: lockouts that ended a day ago are history.
            try await tx.execute("DELETE FROM lockouts WHERE locked_until < ?", [.date(Date().addingTimeInterval(-86_400))])
            try await tx.appendChange(account: lockout.accountSid, trunk: nil, kind: "lockout")
        }
    }

    public func lockouts(account: String, now: Date) async throws(StoreError) -> [Lockout] {
        try await read { ex in
            try await ex.query("SELECT \(Self.lockoutColumns) FROM lockouts WHERE account_sid = ? AND locked_until > ? ORDER BY ip",
                               [.text(account), .date(now)]).map(Self.decodeLockout)
        }
    }

    public func activeLockouts(now: Date) async throws(StoreError) -> [Lockout] {
        try await read { ex in
            try await ex.query("SELECT \(Self.lockoutColumns) FROM lockouts WHERE locked_until > ? ORDER BY account_sid, ip", [.date(now)])
                .map(Self.decodeLockout)
        }
    }

    public func deleteLockout(account: String, ip: String) async throws(StoreError) -> Bool {
        try await write { tx in
            let gone = try await tx.query("DELETE FROM lockouts WHERE account_sid = ? AND ip = ? RETURNING ip", [.text(account), .text(ip)])
            guard !gone.isEmpty else { return false }
            try await tx.appendChange(account: account, trunk: nil, kind: "lockout")
            return true
        }
    }

    // MARK: - Registrar bindings

    public func upsertRegistration(_ binding: RegistrationBinding) async throws(StoreError) {
        try await applyRegistrationWrites([.upsert(binding)])
    }

    public func deleteRegistrations(trunk: String, aor: String, contact: String?) async throws(StoreError) {
        try await applyRegistrationWrites([.delete(trunk: trunk, aor: aor, contact: contact)])
    }

    /// The registrar's write-behind batch in one transaction: one commit per flush, not one per
    /// REGISTER (a commit costs a WAL write and, on SQLite, an fsync).
    public func applyRegistrationWrites(_ writes: [RegistrationWrite]) async throws(StoreError) {
        guard !writes.isEmpty else { return }
        try await write { tx in
            // Runs of upserts go out as multi-row statements (one prepare and one thread-pool hop
            // per chunk, not per binding). Within a run only the last upsert of a binding counts
            // (PostgreSQL refuses to update one row twice in a statement), under the sid of the
            // first (the row it would have inserted); deletes end a run, so
            // the order of upserts and deletes is kept.
            var run: [RegistrationBinding] = []
            var positions: [RegistrationKey: Int] = [:]
            func flushRun() async throws {
                let chunk = 100
                var start = 0
                while start < run.count {
                    let slice = run[start..<min(start + chunk, run.count)]
                    var binds: [SQLValue] = []
                    binds.reserveCapacity(slice.count * 15)
                    for b in slice {
                        binds += [.text(b.sid), .text(b.accountSid), .text(b.trunkSid), .text(b.aor), .text(b.contact), .date(b.expiresAt), .int(b.q),
                                  .text(b.callID), .int(b.cseq), .opt(b.credentialSid), .text(b.sourceIP), .int(b.sourcePort), .text(b.transport),
                                  .opt(b.userAgent), .date(b.updatedAt)]
                    }
                    try await tx.execute(
                        """
                        INSERT INTO registrations (sid, account_sid, trunk_sid, aor, contact, expires_at, q, call_id, cseq, credential_sid, source_ip,
                                                   source_port, transport, user_agent, updated_at)
                        VALUES \(placeholderRows(columns: 15, rows: slice.count))
                        ON CONFLICT (trunk_sid, aor, contact) DO UPDATE SET
                            expires_at = excluded.expires_at, q = excluded.q, call_id = excluded.call_id, cseq = excluded.cseq,
                            credential_sid = excluded.credential_sid, source_ip = excluded.source_ip, source_port = excluded.source_port,
                            transport = excluded.transport, user_agent = excluded.user_agent, updated_at = excluded.updated_at
                        """, binds)
                    start += chunk
                }
                run.removeAll(keepingCapacity: true)
                positions.removeAll(keepingCapacity: true)
            }
            for w in writes {
                guard case .delete(let trunk, let aor, let contact) = w else {
                    guard case .upsert(let b) = w else { continue }
                    let key = RegistrationKey(trunk: b.trunkSid, aor: b.aor, contact: b.contact)
                    if let i = positions[key] {
                        // As if applied one by one: a row inserted by the earlier upsert keeps its sid.
                        var merged = b
                        merged.sid = run[i].sid
                        run[i] = merged
                    } else {
                        positions[key] = run.count
                        run.append(b)
                    }
                    continue
                }
                try await flushRun()
                if let contact {
                    try await tx.execute("DELETE FROM registrations WHERE trunk_sid = ? AND aor = ? AND contact = ?",
                                         [.text(trunk), .text(aor), .text(contact)])
                } else {
                    try await tx.execute("DELETE FROM registrations WHERE trunk_sid = ? AND aor = ?", [.text(trunk), .text(aor)])
                }
            }
            try await flushRun()
        }
    }

    private struct RegistrationKey: Hashable {
        var trunk: String
        var aor: String
        var contact: String
    }

    public func registrations(account: String, trunk: String?, page: PageRequest) async throws(StoreError) -> Page<RegistrationBinding> {
        try await read { ex in
            var sql = "SELECT \(Self.registrationColumns) FROM registrations WHERE account_sid = ?"
            var binds: [SQLValue] = [.text(account)]
            if let trunk { sql += " AND trunk_sid = ?"; binds.append(.text(trunk)) }
            sql += " AND sid > ? ORDER BY sid LIMIT ?"
            binds += [.text(page.after ?? ""), .int(page.limit + 1)]
            let rows = try await ex.query(sql, binds)
            return Self.page(rows, page, { Self.decodeRegistration($0) }, sid: \.sid)
        }
    }

    public func activeRegistrations(now: Date) async throws(StoreError) -> [RegistrationBinding] {
        try await read { ex in
            try await ex.query("SELECT \(Self.registrationColumns) FROM registrations WHERE expires_at > ? ORDER BY sid", [.date(now)])
                .map { Self.decodeRegistration($0, kept: true) }
        }
    }

    // MARK: - Edge configuration and change feed

    /// Builds every trunk's configuration from six queries in one read snapshot, so the
    /// version and the contents agree.
    public func loadEdgeConfiguration() async throws(StoreError) -> EdgeConfiguration {
        try await read(snapshot: true) { ex in
            let version = try await ex.scalarInt("SELECT COALESCE(MAX(version), 0) FROM config_changes")
            let configs = try await Self.loadConfigurations(ex, trunk: nil)
            return EdgeConfiguration(version: version, trunks: configs)
        }
    }

    public func loadTrunkConfiguration(sid: String) async throws(StoreError) -> TrunkConfiguration? {
        try await read(snapshot: true) { ex in
            try await Self.loadConfigurations(ex, trunk: sid).first
        }
    }

    /// All trunks (`trunk == nil`) or one, each with its credentials, ACL, numbers and destinations.
    private static func loadConfigurations(_ ex: any SQLExecutor, trunk: String?) async throws -> [TrunkConfiguration] {
        let filter = trunk == nil ? "" : " WHERE trunk_sid = ?"
        let binds: [SQLValue] = trunk.map { [.text($0)] } ?? []
        let trunks = try await ex.query("SELECT \(trunkColumns) FROM trunks" + (trunk == nil ? "" : " WHERE sid = ?") + " ORDER BY sid", binds)
            .map(Self.decodeTrunk)
        guard !trunks.isEmpty else { return [] }

        // Only the columns the edge reads (EdgeCredential): a trunk may hold 100,000 of them.
        var credentials: [String: [String: EdgeCredential]] = [:]
        for row in try await ex.query("SELECT trunk_sid, sid, user_name, ha1_md5, ha1_sha256, ha1_sha512_256 FROM credentials" + filter, binds) {
            let c = EdgeCredential(sid: row.keptString(1), userName: row.keptString(2), ha1MD5: row.keptString(3), ha1SHA256: row.keptString(4),
                                   ha1SHA512_256: row.keptString(5))
            credentials[row.string(0), default: [:]][c.userName] = c
        }
        var numbers: [String: [String]] = [:]
        for row in try await ex.query("SELECT trunk_sid, phone_number FROM phone_numbers" + filter + " ORDER BY phone_number", binds) {
            numbers[row.string(0), default: []].append(row.string(1))
        }
        var destinations: [String: [DestinationURI]] = [:]
        for row in try await ex.query("SELECT \(destinationColumns) FROM destinations" + filter + " ORDER BY priority, sid", binds) {
            let d = Self.decodeDestination(row)
            destinations[d.trunkSid, default: []].append(d)
        }
        // The assigned ACL's entries plus the trunk's own (whitelisted IPs).
        let assignedFilter = trunk == nil ? "" : " WHERE t.sid = ?"
        let ownedFilter = trunk == nil ? "" : " AND a.owner_trunk_sid = ?"
        var acls: [String: [CIDR]] = [:]
        for row in try await ex.query(
            """
            SELECT t.sid, e.ip_address, e.cidr_prefix_length, e.sid FROM trunks t JOIN ip_acl_entries e ON e.acl_sid = t.ip_acl_sid\(assignedFilter)
            UNION ALL
            SELECT a.owner_trunk_sid, e.ip_address, e.cidr_prefix_length, e.sid FROM ip_acls a JOIN ip_acl_entries e ON e.acl_sid = a.sid
            WHERE a.owner_trunk_sid IS NOT NULL\(ownedFilter)
            ORDER BY 1, 4
            """, binds + binds)
        {
            // Entries were validated on the way in; one that no longer parses is skipped, never widened.
            if let cidr = try? CIDR(address: row.string(1), prefix: row.int(2)) { acls[row.string(0), default: []].append(cidr) }
        }
        return trunks.map { t in
            TrunkConfiguration(trunk: t, credentials: credentials[t.sid] ?? [:], acl: acls[t.sid] ?? [],
                               phoneNumbers: numbers[t.sid] ?? [], destinations: destinations[t.sid] ?? [])
        }
    }

    public func currentConfigVersion() async throws(StoreError) -> Int64 {
        try await read { ex in try await ex.scalarInt("SELECT COALESCE(MAX(version), 0) FROM config_changes") }
    }

    public func configChanges(after version: Int64, limit: Int) async throws(StoreError) -> [ConfigChange] {
        try await read { ex in
            try await ex.query(
                "SELECT version, account_sid, trunk_sid, kind, object_sid FROM config_changes WHERE version > ? ORDER BY version LIMIT ?",
                [.int(version), .int(max(1, limit))])
                .map { ConfigChange(version: $0.int64(0), accountSid: $0.optString(1), trunkSid: $0.optString(2), kind: $0.string(3),
                                    objectSid: $0.optString(4)) }
        }
    }

    public func configChangeNotifications() -> AsyncStream<Int64> {
        notifier.stream()
    }

    public func ping() async -> Bool {
        await backend.ping()
    }

    public func close() async throws {
        notifier.finishAll()
        try await backend.close()
    }
}
