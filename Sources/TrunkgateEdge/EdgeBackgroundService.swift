import Foundation
public import Logging
public import ServiceLifecycle
public import TrunkgateModel

/// Everything the edge does off the SIP path, as one `Service`:
/// - keeps the configuration snapshot current: applies each committed change (one trunk
///   reloaded per change; an account-wide change reloads that account's trunks), woken by the
///   store's notifications and by a 1 s poll as a safety net;
/// - applies cluster-wide lockouts from the store and writes the ones decided here;
/// - writes auth events and registrar bindings in batches (deferred registration refreshes once
///   due, checked every ``deferredRefreshInterval``, and all of them at shutdown), and credential
///   use every ``credentialUseInterval`` and at shutdown.
public struct EdgeBackgroundService: Service {
    public let store: any TrunkgateStore
    public let handler: EdgeRequestHandler
    public let logger: Logger
    public var flushInterval: Duration = .milliseconds(250)
    public var pollInterval: Duration = .seconds(1)
    /// How often credential use (`last_used_at`, `last_used_ip`) is written. Each write
    /// rewrites a credential's row; at every flush a trunk of busy PBXs cost one row per
    /// credential every 250 ms. The auth events hold each use to the millisecond.
    public var credentialUseInterval: Duration = .seconds(60)
    /// How often the registrar's deferred refreshes are checked for the ones due (see ``Registrar``).
    public var deferredRefreshInterval: Duration = .seconds(10)
    public let metrics: EdgeMetricsPublisher
    /// Where auth events and CDRs go after they are stored (webhooks), and who hears of account
    /// changes; nil when nothing listens.
    public let events: (any EdgeEventSink)?

    public init(store: any TrunkgateStore, handler: EdgeRequestHandler, logger: Logger, events: (any EdgeEventSink)? = nil) {
        self.store = store
        self.handler = handler
        self.logger = logger
        self.metrics = EdgeMetricsPublisher(handler: handler)
        self.events = events
    }

    /// Loads the whole configuration, the active lockouts and the stored bindings (at start,
    /// before the listeners open).
    public static func loadInitialState(store: any TrunkgateStore, handler: EdgeRequestHandler) async throws {
        let now = Date()
        handler.configuration.replace(try await store.loadEdgeConfiguration())
        let locks = try await store.activeLockouts(now: now)
        handler.authorizer.lockouts.synchronize(active: Dictionary(locks.map { ($0.ip, $0.until) }, uniquingKeysWith: max), now: now)
        handler.registrar.load(try await store.activeRegistrations(now: now), now: now)
        returnFreedMemory()
    }

    /// Credentials from which a trunk's reload is worth returning the freed memory at once.
    static let bigTrunk = 10_000

    /// Hands the memory freed after a bulk load (the store's rows, the previous snapshot) back
    /// to the system: glibc keeps it in its arenas otherwise, and RSS stays at the load's peak.
    static func returnFreedMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.syncLoop() }
            group.addTask { await self.notificationLoop() }
            group.addTask { await self.flushLoop() }
            group.addTask { await self.deferredRefreshLoop() }
            group.addTask { await self.credentialUseLoop() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        // What was queued or deferred before shutdown still reaches the store.
        handler.registrar.queueDeferredRefreshes(now: Date(), all: true)
        await flush()
        await flushCredentialUses()
    }

    private func notificationLoop() async {
        for await _ in store.configChangeNotifications() {
            if Task.isCancelled { return }
            await syncOnce()
        }
    }

    private func syncLoop() async {
        var polls = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: pollInterval)
            await syncOnce()
            await syncLockouts()
            // Once a minute: what bursts of traffic freed (expired transactions, written-behind
            // batches) goes back to the system instead of staying in glibc's arenas.
            polls += 1
            if polls % 60 == 0 { Self.returnFreedMemory() }
        }
    }

    /// Queues what the registrar deferred; the flush loop writes it.
    private func deferredRefreshLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: deferredRefreshInterval)
            handler.registrar.queueDeferredRefreshes(now: Date())
        }
    }

    private func credentialUseLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: credentialUseInterval)
            await flushCredentialUses()
        }
    }

    /// Writes the latest use of every credential used since the last time (in a task of its
    /// own, like ``flush()``: the drained uses exist nowhere else).
    public func flushCredentialUses() async {
        let store = store, handler = handler, logger = logger
        await Task {
            let uses = handler.credentialUses.drain()
            guard !uses.isEmpty else { return }
            do { try await store.recordCredentialUse(uses) } catch {
                logger.warning("edge flush of credential use failed", metadata: ["error": "\(error)"])
            }
        }.value
    }

    private func flushLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: flushInterval)
            await flush()
            metrics.publish()
        }
    }

    /// Applies committed changes after the snapshot's version.
    public func syncOnce() async {
        do {
            let version = handler.configuration.current.version
            let changes = try await store.configChanges(after: version, limit: 1000)
            guard let last = changes.last else { return }
            if changes.count >= 1000 {
                handler.configuration.replace(try await store.loadEdgeConfiguration())
                handler.calls?.endRevokedCalls(in: handler.configuration.current)
                Self.returnFreedMemory()
                return
            }
            var trunks = Set<String>()
            var accounts = Set<String>()
            var lockoutsChanged = false
            // One credential created or deleted through the API: applied alone, without reloading
            // its trunk (a trunk may hold 100,000 credentials).
            var single: [(trunk: String, account: String, credential: String)] = []
            for c in changes {
                if c.kind == "lockout" { lockoutsChanged = true; continue }
                if c.kind == "account" {
                    // Account settings (the webhook) are not part of the trunk snapshot.
                    if let account = c.accountSid { events?.accountChanged(account) }
                    continue
                }
                if c.kind == "credential", let credential = c.objectSid, let t = c.trunkSid, let a = c.accountSid {
                    single.append((t, a, credential))
                    continue
                }
                if let t = c.trunkSid { trunks.insert(t) } else if let a = c.accountSid { accounts.insert(a) }
            }
            if !accounts.isEmpty {
                for (sid, t) in handler.configuration.current.trunksBySid where accounts.contains(t.trunk.accountSid) { trunks.insert(sid) }
                // New trunks of those accounts appear through their own `trunk` change.
            }
            // The credentials' current state (nil: deleted); their trunks reloaded whole anyway are skipped.
            var credentials: [(trunk: String, sid: String, Credential?)] = []
            for s in single where !trunks.contains(s.trunk) {
                credentials.append((s.trunk, s.credential, try await store.credential(account: s.account, trunk: s.trunk, sid: s.credential)))
            }
            var loaded: [(String, TrunkConfiguration?)] = []
            for sid in trunks { loaded.append((sid, try await store.loadTrunkConfiguration(sid: sid))) }
            var fallback = Set<String>()
            handler.configuration.update { config in
                for (sid, t) in loaded { config.apply(trunkSid: sid, t, version: last.version) }
                for c in credentials where !fallback.contains(c.trunk) {
                    if !config.applyCredential(trunkSid: c.trunk, credentialSid: c.sid, c.2) { fallback.insert(c.trunk) }
                }
                if fallback.isEmpty { config.setVersion(last.version) }
            }
            if !fallback.isEmpty {
                // A trunk the snapshot does not have yet, or a user name moving between credentials.
                var reloaded: [(String, TrunkConfiguration?)] = []
                for sid in fallback { reloaded.append((sid, try await store.loadTrunkConfiguration(sid: sid))) }
                handler.configuration.update { config in
                    for (sid, t) in reloaded { config.apply(trunkSid: sid, t, version: last.version) }
                    config.setVersion(last.version)
                }
            }
            // Calls authenticated with a credential deleted just now end at once (BYE both legs).
            if !trunks.isEmpty || !credentials.isEmpty { handler.calls?.endRevokedCalls(in: handler.configuration.current) }
            // A big trunk was read again (a bulk import's batch, a trunk or ACL change): its rows
            // and the replaced snapshot were garbage a moment ago, up to 100 MB with 100,000
            // credentials. Only then: the walk of every arena holds each one's lock meanwhile.
            if loaded.contains(where: { ($0.1?.credentials.count ?? 0) >= Self.bigTrunk }) { Self.returnFreedMemory() }
            if lockoutsChanged { await syncLockouts() }
        } catch {
            if Task.isCancelled { return }  // shutting down
            logger.warning("configuration sync failed; retrying", metadata: ["error": "\(error)"])
        }
    }

    func syncLockouts() async {
        let now = Date()
        guard let locks = try? await store.activeLockouts(now: now) else { return }
        handler.authorizer.lockouts.synchronize(active: Dictionary(locks.map { ($0.ip, $0.until) }, uniquingKeysWith: max), now: now)
    }

    /// Drains every queue into the store.
    ///
    /// The drained items exist nowhere else, so the writes run in a task of their own that the
    /// caller's cancellation (the flush loop is cancelled at shutdown) cannot interrupt halfway.
    public func flush() async {
        let this = self
        await Task { await this.flushQueues() }.value
    }

    private func flushQueues() async {
        do {
            let authEvents = handler.authEvents.drain()
            metrics.record(authEvents)
            if !authEvents.isEmpty { try await store.appendAuthEvents(authEvents) }
            for lockout in handler.lockoutWrites.drain() {
                try await store.upsertLockout(lockout)
                handler.authorizer.lockouts.markStored(lockout.ip)
            }
            let records = handler.callRecords.drain()
            if !records.isEmpty { try await store.appendCallRecords(records) }
            // Only after they are stored: a webhook never announces what the API cannot show.
            if let events, !authEvents.isEmpty || !records.isEmpty { events.deliver(authEvents: authEvents, callRecords: records) }
            let writes = handler.registrar.pendingWrites.drain()
            if !writes.isEmpty { try await store.applyRegistrationWrites(writes) }
        } catch {
            logger.warning("edge flush failed", metadata: ["error": "\(error)"])
        }
    }
}

#if os(Linux)
/// glibc's `malloc_trim` (malloc.h is not part of Swift's Glibc module).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
