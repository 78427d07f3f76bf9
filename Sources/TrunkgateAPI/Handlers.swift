import Hummingbird
import Foundation
import TrunkgateModel

/// The endpoint handlers. Each validates everything before its single store write, so a
/// refused request changes nothing.
enum Handlers {
    // MARK: helpers

    static func created(_ call: APICall, _ value: some Encodable, sid: String) throws -> Response {
        var path = call.request.uri.path
        while path.hasSuffix("/") { path.removeLast() }
        return try Reply.json(.created, value, headers: [.location: "\(path)/\(sid)"])
    }

    static func requireTrunk(_ call: APICall) async throws -> Trunk {
        let sid = call.param("trunk_sid")
        guard SID.isValid(sid, .trunk), let trunk = try await call.store.trunk(account: call.accountSid, sid: sid) else {
            throw APIError.notFound("trunk")
        }
        return trunk
    }

    /// An account-level ACL (the ones holding trunks' whitelisted IPs are not reachable here).
    static func requireACL(_ call: APICall) async throws -> IPACL {
        let sid = call.param("ip_acl_sid")
        guard SID.isValid(sid, .ipACL), let acl = try await call.store.ipACL(account: call.accountSid, sid: sid), acl.ownerTrunkSid == nil else {
            throw APIError.notFound("ip acl")
        }
        return acl
    }

    static func validSid(_ call: APICall, _ name: String, _ prefix: SIDPrefix, _ what: String) throws(APIError) -> String {
        let sid = call.param(name)
        guard SID.isValid(sid, prefix) else { throw APIError.notFound(what) }
        return sid
    }

    /// `ip_acl_sid` in a trunk body: an account-level ACL of the same account, else 422.
    static func assignableACL(_ call: APICall, _ sid: String) async throws -> String {
        guard SID.isValid(sid, .ipACL), let acl = try await call.store.ipACL(account: call.accountSid, sid: sid), acl.ownerTrunkSid == nil else {
            throw APIError.unprocessable("ip_acl_not_found", "ip_acl_sid does not name an IP ACL of this account", field: "ip_acl_sid")
        }
        return acl.sid
    }

    // MARK: account

    static func getAccount(_ call: APICall) async throws -> Response {
        guard let account = try await call.store.account(call.accountSid) else { throw APIError.notFound("account") }
        return try Reply.json(.ok, AccountView(account, secret: nil))
    }

    static func updateAccount(_ call: APICall) async throws -> Response {
        guard let account = try await call.store.account(call.accountSid) else { throw APIError.notFound("account") }
        let b = call.json
        let url = try b.nullableString("webhook_url")
        let events = try b.stringArray("webhook_events").map { a throws(ValidationError) in try Rules.webhookEvents(a) }
        let rotate = try b.bool("rotate_webhook_secret") ?? false
        if case .null = b.field("webhook_events") { throw APIError.badRequest("invalid_type", "webhook_events cannot be null", field: "webhook_events") }
        var webhook = account.webhook
        var secret: String?
        switch url {
        case .some(.none):
            guard events == nil, !rotate else {
                throw APIError.unprocessable("webhook_url_required", "webhook_events and rotate_webhook_secret need a webhook_url", field: "webhook_url")
            }
            webhook = nil
        case .some(.some(let text)):
            let valid = try Rules.webhookURL(text)
            if webhook == nil {
                secret = WebhookSecrets.make()
                webhook = WebhookSettings(url: valid, events: WebhookEventType.defaults, secretSealed: try call.options.sealer.seal(secret!))
            } else {
                webhook?.url = valid
            }
        case .none:
            break
        }
        if events != nil || rotate, webhook == nil {
            throw APIError.unprocessable("webhook_url_required", "the account has no webhook_url; set one first", field: "webhook_url")
        }
        if let events { webhook?.events = events }
        if rotate, secret == nil {
            secret = WebhookSecrets.make()
            webhook?.secretSealed = try call.options.sealer.seal(secret!)
        }
        guard webhook != account.webhook else { return try Reply.json(.ok, AccountView(account, secret: nil)) }
        let stored = try await call.store.updateAccountWebhook(account: call.accountSid, webhook: webhook)
        return try Reply.json(.ok, AccountView(stored, secret: secret))
    }

    // MARK: trunks

    static func createTrunk(_ call: APICall) async throws -> Response {
        let b = call.json
        let name = try Validation.trunkName(try b.string("trunk_name", required: true) ?? "")
        let sid = SID.make(.trunk)
        let domain: String
        if let d = try b.string("domain_name") {
            domain = try Validation.domainName(d)
        } else {
            domain = try Validation.domainName("\(sid.lowercased()).\(call.options.edgeDomain)")
        }
        let authType = try b.string("auth_type").map { s throws(ValidationError) in try Rules.authType(s) } ?? .credential
        let realm = try b.string("realm").map { s throws(ValidationError) in try Rules.realm(s) } ?? domain
        let algorithms = try b.stringArray("digest_algorithms").map { a throws(ValidationError) in try Rules.digestAlgorithms(a) }
            ?? Trunk.defaultDigestAlgorithms
        let maxCPS = try Validation.positive(try b.int("max_cps"), max: 10_000, field: "max_cps")
        let maxCalls = try Validation.positive(try b.int("max_concurrent_calls"), max: 100_000, field: "max_concurrent_calls")
        var aclSid: String?
        if let s = try b.string("ip_acl_sid") { aclSid = try await assignableACL(call, s) }
        let restrict = try b.bool("restrict_caller_id") ?? false
        let trunk = Trunk(
            sid: sid, accountSid: call.accountSid, trunkName: name, domainName: domain, authType: authType, realm: realm,
            digestAlgorithms: algorithms, maxCPS: maxCPS, maxConcurrentCalls: maxCalls, ipACLSid: aclSid, restrictCallerID: restrict)
        let stored = try await call.store.createTrunk(trunk, limits: call.options.limits)
        return try created(call, stored, sid: stored.sid)
    }

    static func listTrunks(_ call: APICall) async throws -> Response {
        let page = try call.pageRequest()
        return try Reply.list("trunks", try await call.store.trunks(account: call.accountSid, page: page), request: page)
    }

    static func getTrunk(_ call: APICall) async throws -> Response {
        try Reply.json(.ok, try await requireTrunk(call))
    }

    static func updateTrunk(_ call: APICall) async throws -> Response {
        var trunk = try await requireTrunk(call)
        let original = trunk
        let b = call.json
        if let s = try b.string("trunk_name") { trunk.trunkName = try Validation.trunkName(s) }
        if let s = try b.string("domain_name") { trunk.domainName = try Validation.domainName(s) }
        if let s = try b.string("auth_type") { trunk.authType = try Rules.authType(s) }
        if let s = try b.string("realm") { trunk.realm = try Rules.realm(s) }
        if let a = try b.stringArray("digest_algorithms") { trunk.digestAlgorithms = try Rules.digestAlgorithms(a) }
        if let v = try b.nullableInt("max_cps") { trunk.maxCPS = try Validation.positive(v, max: 10_000, field: "max_cps") }
        if let v = try b.nullableInt("max_concurrent_calls") {
            trunk.maxConcurrentCalls = try Validation.positive(v, max: 100_000, field: "max_concurrent_calls")
        }
        if let v = try b.bool("restrict_caller_id") { trunk.restrictCallerID = v }
        if let v = try b.nullableString("ip_acl_sid") {
            if let s = v { trunk.ipACLSid = try await assignableACL(call, s) } else { trunk.ipACLSid = nil }
        }
        for key in ["trunk_name", "domain_name", "auth_type", "realm", "digest_algorithms", "restrict_caller_id"] {
            if case .null = b.field(key) { throw APIError.badRequest("invalid_type", "\(key) cannot be null", field: key) }
        }
        guard trunk != original else { return try Reply.json(.ok, original) }
        if trunk.realm != original.realm {
            let existing = try await call.store.credentials(account: call.accountSid, trunk: trunk.sid, page: PageRequest(limit: 1))
            if !existing.items.isEmpty {
                throw APIError(
                    .conflict, "realm_in_use",
                    "the realm cannot change while the trunk has credentials (their digests depend on it); delete them first",
                    field: "realm")
            }
        }
        trunk.updatedAt = Date()
        return try Reply.json(.ok, try await call.store.updateTrunk(trunk))
    }

    static func deleteTrunk(_ call: APICall) async throws -> Response {
        let sid = try validSid(call, "trunk_sid", .trunk, "trunk")
        try await call.store.deleteTrunk(account: call.accountSid, sid: sid)
        return Reply.noContent()
    }

    // MARK: credentials

    static func createCredential(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let b = call.json
        let userName = try Validation.userName(try b.string("user_name", required: true) ?? "")
        let password = try b.string("password", required: true) ?? ""
        try Rules.password(password)
        let friendly = try b.string("friendly_name").map { s throws(ValidationError) in try Rules.text(s, max: 64, field: "friendly_name") }
        let ha1 = CredentialDigests.ha1(userName: userName, realm: trunk.realm, password: password)
        let credential = Credential(
            accountSid: call.accountSid, trunkSid: trunk.sid, userName: userName, friendlyName: friendly,
            ha1MD5: ha1.md5, ha1SHA256: ha1.sha256, ha1SHA512_256: ha1.sha512_256, realm: trunk.realm)
        let stored = try await call.store.createCredential(credential, limits: call.options.limits)
        return try created(call, stored, sid: stored.sid)
    }

    static func listCredentials(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let page = try call.pageRequest()
        return try Reply.list("credentials", try await call.store.credentials(account: call.accountSid, trunk: trunk.sid, page: page), request: page)
    }

    static func getCredential(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let sid = try validSid(call, "credential_sid", .credential, "credential")
        guard let c = try await call.store.credential(account: call.accountSid, trunk: trunk.sid, sid: sid) else { throw APIError.notFound("credential") }
        return try Reply.json(.ok, c)
    }

    static func deleteCredential(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let sid = try validSid(call, "credential_sid", .credential, "credential")
        try await call.store.deleteCredential(account: call.accountSid, trunk: trunk.sid, sid: sid)
        return Reply.noContent()
    }

    // MARK: phone numbers

    static func createPhoneNumber(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let number = try Validation.phoneNumber(try call.json.string("phone_number", required: true) ?? "")
        let stored = try await call.store.createPhoneNumber(
            PhoneNumber(accountSid: call.accountSid, trunkSid: trunk.sid, phoneNumber: number), limits: call.options.limits)
        return try created(call, stored, sid: stored.sid)
    }

    static func listPhoneNumbers(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let page = try call.pageRequest()
        return try Reply.list("phone_numbers", try await call.store.phoneNumbers(account: call.accountSid, trunk: trunk.sid, page: page), request: page)
    }

    static func getPhoneNumber(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let sid = try validSid(call, "phone_number_sid", .phoneNumber, "phone number")
        guard let n = try await call.store.phoneNumber(account: call.accountSid, trunk: trunk.sid, sid: sid) else { throw APIError.notFound("phone number") }
        return try Reply.json(.ok, n)
    }

    static func deletePhoneNumber(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let sid = try validSid(call, "phone_number_sid", .phoneNumber, "phone number")
        try await call.store.deletePhoneNumber(account: call.accountSid, trunk: trunk.sid, sid: sid)
        return Reply.noContent()
    }

    // MARK: whitelisted IPs (entries of the trunk's own ACL)

    struct WhitelistedIP: Encodable {
        let entry: IPACLEntry
        let accountSid: String
        let trunkSid: String

        enum CodingKeys: String, CodingKey {
            case sid, ip, mask, description
            case accountSid = "account_sid"
            case trunkSid = "trunk_sid"
            case createdAt = "created_at"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(entry.sid, forKey: .sid)
            try c.encode(accountSid, forKey: .accountSid)
            try c.encode(trunkSid, forKey: .trunkSid)
            try c.encode(entry.ipAddress, forKey: .ip)
            try c.encode(entry.cidrPrefixLength, forKey: .mask)
            try c.encode(entry.description, forKey: .description)
            try c.encode(entry.createdAt, forKey: .createdAt)
        }
    }

    static func createWhitelistedIP(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let b = call.json
        let cidr = try Rules.cidr(address: try b.string("ip", required: true) ?? "", prefix: try b.int("mask"), addressField: "ip", prefixField: "mask")
        let description = try b.string("description").map { s throws(ValidationError) in try Rules.text(s, max: 255, field: "description") }
        guard let acl = try await call.store.trunkOwnedACL(account: call.accountSid, trunk: trunk.sid, create: true) else {
            throw APIError.notFound("trunk")
        }
        let entry = try await call.store.createIPACLEntry(
            IPACLEntry(aclSid: acl.sid, cidr: cidr, description: description), account: call.accountSid, limits: call.options.limits)
        return try created(call, WhitelistedIP(entry: entry, accountSid: call.accountSid, trunkSid: trunk.sid), sid: entry.sid)
    }

    static func listWhitelistedIPs(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let page = try call.pageRequest()
        guard let acl = try await call.store.trunkOwnedACL(account: call.accountSid, trunk: trunk.sid, create: false) else {
            return try Reply.list("whitelisted_ips", Page<WhitelistedIP>(items: [], nextCursor: nil), request: page)
        }
        let entries = try await call.store.ipACLEntries(account: call.accountSid, acl: acl.sid, page: page)
        let items = entries.items.map { WhitelistedIP(entry: $0, accountSid: call.accountSid, trunkSid: trunk.sid) }
        return try Reply.list("whitelisted_ips", Page(items: items, nextCursor: entries.nextCursor), request: page)
    }

    static func ownedEntry(_ call: APICall) async throws -> (Trunk, IPACL, String) {
        let trunk = try await requireTrunk(call)
        let sid = try validSid(call, "whitelisted_ip_sid", .ipACLEntry, "whitelisted ip")
        guard let acl = try await call.store.trunkOwnedACL(account: call.accountSid, trunk: trunk.sid, create: false) else {
            throw APIError.notFound("whitelisted ip")
        }
        return (trunk, acl, sid)
    }

    static func getWhitelistedIP(_ call: APICall) async throws -> Response {
        let (trunk, acl, sid) = try await ownedEntry(call)
        guard let e = try await call.store.ipACLEntry(account: call.accountSid, acl: acl.sid, sid: sid) else { throw APIError.notFound("whitelisted ip") }
        return try Reply.json(.ok, WhitelistedIP(entry: e, accountSid: call.accountSid, trunkSid: trunk.sid))
    }

    static func deleteWhitelistedIP(_ call: APICall) async throws -> Response {
        let (_, acl, sid) = try await ownedEntry(call)
        try await call.store.deleteIPACLEntry(account: call.accountSid, acl: acl.sid, sid: sid)
        return Reply.noContent()
    }

    // MARK: destination URIs

    static func createDestination(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let b = call.json
        let destination = try Rules.destination(try b.string("destination", required: true) ?? "")
        let priority = try b.int("priority") ?? 10
        guard (0...65535).contains(priority) else {
            throw APIError(ValidationError("invalid_priority", "priority must be 0-65535", field: "priority"))
        }
        let weight = try b.int("weight") ?? 10
        guard (0...65535).contains(weight) else {
            throw APIError(ValidationError("invalid_weight", "weight must be 0-65535", field: "weight"))
        }
        let user = try b.string("auth_username").map { s throws(ValidationError) in try Rules.authUsername(s) }
        let password = try b.string("auth_password").map { s throws(ValidationError) in try Rules.authPassword(s) }
        if password != nil, user == nil {
            throw APIError(ValidationError("auth_username_required", "auth_password needs auth_username", field: "auth_username"))
        }
        let sealed: String?
        do {
            sealed = try password.map { try call.options.sealer.seal($0) }
        } catch {
            call.context.logger.error("could not seal a destination password")
            throw APIError.internalError
        }
        let d = DestinationURI(
            accountSid: call.accountSid, trunkSid: trunk.sid, destination: destination, priority: priority, weight: weight,
            authUsername: user, authPasswordSealed: sealed)
        let stored = try await call.store.createDestination(d, limits: call.options.limits)
        return try created(call, stored, sid: stored.sid)
    }

    static func listDestinations(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let page = try call.pageRequest()
        return try Reply.list("destination_uris", try await call.store.destinations(account: call.accountSid, trunk: trunk.sid, page: page), request: page)
    }

    static func getDestination(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let sid = try validSid(call, "destination_uri_sid", .destinationURI, "destination uri")
        guard let d = try await call.store.destination(account: call.accountSid, trunk: trunk.sid, sid: sid) else { throw APIError.notFound("destination uri") }
        return try Reply.json(.ok, d)
    }

    static func deleteDestination(_ call: APICall) async throws -> Response {
        let trunk = try await requireTrunk(call)
        let sid = try validSid(call, "destination_uri_sid", .destinationURI, "destination uri")
        try await call.store.deleteDestination(account: call.accountSid, trunk: trunk.sid, sid: sid)
        return Reply.noContent()
    }

    // MARK: IP ACLs

    static func createACL(_ call: APICall) async throws -> Response {
        let name = try Rules.aclName(try call.json.string("name", required: true) ?? "")
        let stored = try await call.store.createIPACL(IPACL(accountSid: call.accountSid, name: name), limits: call.options.limits)
        return try created(call, stored, sid: stored.sid)
    }

    static func listACLs(_ call: APICall) async throws -> Response {
        let page = try call.pageRequest()
        return try Reply.list("ip_acls", try await call.store.ipACLs(account: call.accountSid, page: page), request: page)
    }

    static func getACL(_ call: APICall) async throws -> Response {
        try Reply.json(.ok, try await requireACL(call))
    }

    static func updateACL(_ call: APICall) async throws -> Response {
        var acl = try await requireACL(call)
        let name = try Rules.aclName(try call.json.string("name", required: true) ?? "")
        guard name != acl.name else { return try Reply.json(.ok, acl) }
        acl.name = name
        return try Reply.json(.ok, try await call.store.updateIPACL(acl))
    }

    static func deleteACL(_ call: APICall) async throws -> Response {
        let acl = try await requireACL(call)
        try await call.store.deleteIPACL(account: call.accountSid, sid: acl.sid)
        return Reply.noContent()
    }

    static func createEntry(_ call: APICall) async throws -> Response {
        let acl = try await requireACL(call)
        let b = call.json
        let cidr = try Rules.cidr(
            address: try b.string("ip_address", required: true) ?? "", prefix: try b.int("cidr_prefix_length"),
            addressField: "ip_address", prefixField: "cidr_prefix_length")
        let description = try b.string("description").map { s throws(ValidationError) in try Rules.text(s, max: 255, field: "description") }
        let stored = try await call.store.createIPACLEntry(
            IPACLEntry(aclSid: acl.sid, cidr: cidr, description: description), account: call.accountSid, limits: call.options.limits)
        return try created(call, stored, sid: stored.sid)
    }

    static func listEntries(_ call: APICall) async throws -> Response {
        let acl = try await requireACL(call)
        let page = try call.pageRequest()
        return try Reply.list("entries", try await call.store.ipACLEntries(account: call.accountSid, acl: acl.sid, page: page), request: page)
    }

    static func getEntry(_ call: APICall) async throws -> Response {
        let acl = try await requireACL(call)
        let sid = try validSid(call, "entry_sid", .ipACLEntry, "ip acl entry")
        guard let e = try await call.store.ipACLEntry(account: call.accountSid, acl: acl.sid, sid: sid) else { throw APIError.notFound("ip acl entry") }
        return try Reply.json(.ok, e)
    }

    static func deleteEntry(_ call: APICall) async throws -> Response {
        let acl = try await requireACL(call)
        let sid = try validSid(call, "entry_sid", .ipACLEntry, "ip acl entry")
        try await call.store.deleteIPACLEntry(account: call.accountSid, acl: acl.sid, sid: sid)
        return Reply.noContent()
    }

    // MARK: read side

    static func parseTime(_ s: String, field: String) throws(APIError) -> Date {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        throw APIError.badRequest("invalid_\(field)", "\(field) must be an RFC 3339 time such as 2025-01-31T12:00:00Z", field: field)
    }

    static func listAuthEvents(_ call: APICall) async throws -> Response {
        let page = try sequencePageRequest(call)
        var q = AuthEventQuery(accountSid: call.accountSid)
        q.trunkSid = call.query("trunk_sid")
        if let ip = call.query("source_ip") {
            guard let parsed = IPAddress(ip) else {
                throw APIError.badRequest("invalid_source_ip", "source_ip must be an IPv4 or IPv6 address", field: "source_ip")
            }
            q.sourceIP = parsed.description
        }
        q.userName = call.query("user_name")
        if let r = call.query("result") {
            guard let result = AuthEvent.Result(rawValue: r) else {
                throw APIError.badRequest("invalid_result", "result must be allowed, challenged or rejected", field: "result")
            }
            q.result = result
        }
        q.reason = call.query("reason")
        if let s = call.query("since") { q.since = try parseTime(s, field: "since") }
        if let s = call.query("until") { q.until = try parseTime(s, field: "until") }
        return try Reply.list("auth_events", try await call.store.authEvents(q, page: page), request: page)
    }

    static func listLockouts(_ call: APICall) async throws -> Response {
        let page = try call.pageRequest()
        let all = try await call.store.lockouts(account: call.accountSid, now: call.options.now()).sorted { $0.ip < $1.ip }
        let rest = page.after.map { after in all.filter { $0.ip > after } } ?? all
        let items = Array(rest.prefix(page.limit))
        let next = rest.count > page.limit ? items.last?.ip : nil
        return try Reply.list("lockouts", Page(items: items, nextCursor: next), request: page)
    }

    static func deleteLockout(_ call: APICall) async throws -> Response {
        let raw = call.param("ip")
        guard let ip = IPAddress(raw) else {
            throw APIError.notFound("lockout")
        }
        var removed = try await call.store.deleteLockout(account: call.accountSid, ip: ip.description)
        if !removed, raw != ip.description {
            removed = try await call.store.deleteLockout(account: call.accountSid, ip: raw)
        }
        guard removed else { throw APIError.notFound("lockout") }
        return Reply.noContent()
    }

    static func listRegistrations(_ call: APICall) async throws -> Response {
        let page = try call.pageRequest()
        let trunk = call.query("trunk_sid")
        return try Reply.list("registrations", try await call.store.registrations(account: call.accountSid, trunk: trunk, page: page), request: page)
    }

    /// Auth events and CDRs page by their sequence number (newest first), not by sid.
    static func sequencePageRequest(_ call: APICall) throws -> PageRequest {
        let page = try call.pageRequest()
        if let after = page.after, (Int64(after) ?? 0) <= 0 {
            throw APIError.badRequest("invalid_page_token", "page_token is not a token this API issued", field: "page_token")
        }
        return page
    }

    static func listCalls(_ call: APICall) async throws -> Response {
        let page = try sequencePageRequest(call)
        var q = CallRecordQuery(accountSid: call.accountSid)
        q.trunkSid = call.query("trunk_sid")
        if let d = call.query("direction") {
            guard let direction = CallRecord.Direction(rawValue: d) else {
                throw APIError.badRequest("invalid_direction", "direction must be inbound or outbound", field: "direction")
            }
            q.direction = direction
        }
        if let s = call.query("since") { q.since = try parseTime(s, field: "since") }
        if let s = call.query("until") { q.until = try parseTime(s, field: "until") }
        return try Reply.list("calls", try await call.store.callRecords(q, page: page), request: page)
    }
}
