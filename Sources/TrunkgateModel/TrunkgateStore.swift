public import Foundation

/// The one seam between the control/data planes and storage. Two real implementations live
/// in the TrunkgateStore module (SQLite, PostgreSQL) and run the same test suite.
///
/// Rules every implementation keeps:
/// - Every write is one transaction; an error leaves nothing changed.
/// - Uniqueness is enforced by the database: `domain_name` system-wide, `user_name` within a
///   trunk, `phone_number` system-wide (→ `.conflict`).
/// - Reads and deletes are scoped by `accountSid`: another account's object is `.notFound`.
/// - Every committed configuration change appends a ``ConfigChange`` and wakes
///   ``configChanges()`` listeners (in-process for SQLite, LISTEN/NOTIFY for PostgreSQL).
public protocol TrunkgateStore: Sendable {
    // Accounts and API keys
    func createAccount(_ account: Account, key: APIKey) async throws(StoreError)
    func account(_ sid: String) async throws(StoreError) -> Account?
    func apiKey(_ sid: String) async throws(StoreError) -> APIKey?
    /// Sets or (nil) removes the account's webhook; a config change of kind `account`.
    func updateAccountWebhook(account: String, webhook: WebhookSettings?) async throws(StoreError) -> Account

    // Trunks
    func createTrunk(_ trunk: Trunk, limits: AccountLimits) async throws(StoreError) -> Trunk
    func trunk(account: String, sid: String) async throws(StoreError) -> Trunk?
    func trunks(account: String, page: PageRequest) async throws(StoreError) -> Page<Trunk>
    /// Replaces the mutable fields (name, domain, auth type, realm, algorithms, limits, ACL).
    func updateTrunk(_ trunk: Trunk) async throws(StoreError) -> Trunk
    /// Deletes the trunk with its credentials, numbers, destinations, own ACL and bindings.
    func deleteTrunk(account: String, sid: String) async throws(StoreError)

    // Credentials
    func createCredential(_ credential: Credential, limits: AccountLimits) async throws(StoreError) -> Credential
    /// Bulk import into one trunk: one transaction (all or nothing), one limit check, one config
    /// change. Every credential must name the same account and trunk.
    func createCredentials(_ credentials: [Credential], limits: AccountLimits) async throws(StoreError)
    func credential(account: String, trunk: String, sid: String) async throws(StoreError) -> Credential?
    func credentials(account: String, trunk: String, page: PageRequest) async throws(StoreError) -> Page<Credential>
    func deleteCredential(account: String, trunk: String, sid: String) async throws(StoreError)
    /// Batched `last_used_at` / `last_used_ip` updates (not a config change).
    func recordCredentialUse(_ uses: [CredentialUse]) async throws(StoreError)

    // Phone numbers
    func createPhoneNumber(_ number: PhoneNumber, limits: AccountLimits) async throws(StoreError) -> PhoneNumber
    func phoneNumber(account: String, trunk: String, sid: String) async throws(StoreError) -> PhoneNumber?
    func phoneNumbers(account: String, trunk: String, page: PageRequest) async throws(StoreError) -> Page<PhoneNumber>
    func deletePhoneNumber(account: String, trunk: String, sid: String) async throws(StoreError)

    // IP ACLs and entries
    func createIPACL(_ acl: IPACL, limits: AccountLimits) async throws(StoreError) -> IPACL
    func ipACL(account: String, sid: String) async throws(StoreError) -> IPACL?
    /// Account-level ACLs only (not the ones holding a trunk's whitelisted IPs).
    func ipACLs(account: String, page: PageRequest) async throws(StoreError) -> Page<IPACL>
    func updateIPACL(_ acl: IPACL) async throws(StoreError) -> IPACL
    /// `.conflict` (code `ip_acl_in_use`) while a trunk has it assigned.
    func deleteIPACL(account: String, sid: String) async throws(StoreError)
    /// The ACL holding a trunk's whitelisted IPs, created on first use when `create`.
    func trunkOwnedACL(account: String, trunk: String, create: Bool) async throws(StoreError) -> IPACL?
    func createIPACLEntry(_ entry: IPACLEntry, account: String, limits: AccountLimits) async throws(StoreError) -> IPACLEntry
    func ipACLEntry(account: String, acl: String, sid: String) async throws(StoreError) -> IPACLEntry?
    func ipACLEntries(account: String, acl: String, page: PageRequest) async throws(StoreError) -> Page<IPACLEntry>
    func deleteIPACLEntry(account: String, acl: String, sid: String) async throws(StoreError)

    // Destination URIs
    func createDestination(_ destination: DestinationURI, limits: AccountLimits) async throws(StoreError) -> DestinationURI
    func destination(account: String, trunk: String, sid: String) async throws(StoreError) -> DestinationURI?
    func destinations(account: String, trunk: String, page: PageRequest) async throws(StoreError) -> Page<DestinationURI>
    func deleteDestination(account: String, trunk: String, sid: String) async throws(StoreError)

    // Auth events (append-only, batched by the edge)
    func appendAuthEvents(_ events: [AuthEvent]) async throws(StoreError)
    /// Newest first; the cursor is opaque.
    func authEvents(_ query: AuthEventQuery, page: PageRequest) async throws(StoreError) -> Page<AuthEvent>

    // Call detail records (append-only, batched by the edge)
    func appendCallRecords(_ records: [CallRecord]) async throws(StoreError)
    /// Newest first; the cursor is opaque.
    func callRecords(_ query: CallRecordQuery, page: PageRequest) async throws(StoreError) -> Page<CallRecord>

    // Lockouts (cluster-wide)
    func upsertLockout(_ lockout: Lockout) async throws(StoreError)
    func lockouts(account: String, now: Date) async throws(StoreError) -> [Lockout]
    func activeLockouts(now: Date) async throws(StoreError) -> [Lockout]
    /// True when one was removed.
    func deleteLockout(account: String, ip: String) async throws(StoreError) -> Bool

    // Registrar bindings
    func upsertRegistration(_ binding: RegistrationBinding) async throws(StoreError)
    /// Removes bindings of an AOR on a trunk: the one with `contact`, or all when nil.
    func deleteRegistrations(trunk: String, aor: String, contact: String?) async throws(StoreError)
    func registrations(account: String, trunk: String?, page: PageRequest) async throws(StoreError) -> Page<RegistrationBinding>
    func activeRegistrations(now: Date) async throws(StoreError) -> [RegistrationBinding]
    /// A batch of registrar writes, in order, as one transaction.
    func applyRegistrationWrites(_ writes: [RegistrationWrite]) async throws(StoreError)

    // The edge's configuration and its change feed
    func loadEdgeConfiguration() async throws(StoreError) -> EdgeConfiguration
    func loadTrunkConfiguration(sid: String) async throws(StoreError) -> TrunkConfiguration?
    func currentConfigVersion() async throws(StoreError) -> Int64
    /// Changes committed after `version`, oldest first, at most `limit`.
    func configChanges(after version: Int64, limit: Int) async throws(StoreError) -> [ConfigChange]
    /// Yields (best effort, possibly coalesced) whenever a change commits, on this node or
    /// (PostgreSQL) any node. Consumers also poll ``currentConfigVersion()`` as a safety net.
    func configChangeNotifications() -> AsyncStream<Int64>

    /// True when the database answers.
    func ping() async -> Bool
    func close() async throws
}

/// One committed configuration change: which trunk's configuration to reload (nil trunk
/// with a non-nil account means "every trunk of the account", e.g. an ACL change).
public struct ConfigChange: Sendable, Hashable {
    public var version: Int64
    public var accountSid: String?
    public var trunkSid: String?
    /// What changed, e.g. `trunk`, `credential`, `ip_acl`, `phone_number`, `destination`, `lockout`.
    public var kind: String
    /// The one object changed, when the change is about one (a `credential` created or deleted
    /// through the API): the edge applies it alone instead of reloading the trunk.
    public var objectSid: String?

    public init(version: Int64, accountSid: String?, trunkSid: String?, kind: String, objectSid: String? = nil) {
        self.version = version
        self.accountSid = accountSid
        self.trunkSid = trunkSid
        self.kind = kind
        self.objectSid = objectSid
    }
}

/// One write of the registrar's write-behind queue.
public enum RegistrationWrite: Sendable, Hashable {
    case upsert(RegistrationBinding)
    /// Removes the binding with `contact`, or every binding of the AOR when nil.
    case delete(trunk: String, aor: String, contact: String?)
}
