import TrunkgateModel

/// JSON Schemas (OpenAPI 3.1 / JSON Schema 2020-12) of every request and response body.
/// Request schemas are also what the server enforces for field names: a body may carry only
/// the `properties` its schema lists (others → 400 `unknown_field`).
enum Schemas {
    // MARK: builders

    static func str(_ description: String? = nil, min: Int? = nil, max: Int? = nil, pattern: String? = nil,
                    format: String? = nil, oneOf values: [String]? = nil, nullable: Bool = false) -> JSONValue {
        var o: [String: JSONValue] = ["type": nullable ? ["string", "null"] : "string"]
        if let description { o["description"] = .string(description) }
        if let min { o["minLength"] = .int(min) }
        if let max { o["maxLength"] = .int(max) }
        if let pattern { o["pattern"] = .string(pattern) }
        if let format { o["format"] = .string(format) }
        if let values { o["enum"] = .array(values.map { .string($0) } + (nullable ? [.null] : [])) }
        return .object(o)
    }

    static func int(_ description: String? = nil, min: Int? = nil, max: Int? = nil, nullable: Bool = false) -> JSONValue {
        var o: [String: JSONValue] = ["type": nullable ? ["integer", "null"] : "integer"]
        if let description { o["description"] = .string(description) }
        if let min { o["minimum"] = .int(min) }
        if let max { o["maximum"] = .int(max) }
        return .object(o)
    }

    static let bool: JSONValue = ["type": "boolean"]
    static let dateTime: JSONValue = ["type": "string", "format": "date-time"]
    static let nullableDateTime: JSONValue = ["type": ["string", "null"], "format": "date-time"]

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static func array(_ items: JSONValue, minItems: Int? = nil, unique: Bool = false, nullable: Bool = false) -> JSONValue {
        var o: [String: JSONValue] = ["type": nullable ? ["array", "null"] : "array", "items": items]
        if let minItems { o["minItems"] = .int(minItems) }
        if unique { o["uniqueItems"] = true }
        return .object(o)
    }

    /// An object schema. Request schemas are closed (`additionalProperties: false`).
    static func object(_ description: String? = nil, _ properties: [String: JSONValue], required: [String], closed: Bool = false) -> JSONValue {
        var o: [String: JSONValue] = [
            "type": "object",
            "properties": .object(properties),
            "required": .array(required.sorted().map { .string($0) }),
        ]
        if closed { o["additionalProperties"] = false }
        if let description { o["description"] = .string(description) }
        return .object(o)
    }

    static func sid(_ prefix: String, nullable: Bool = false) -> JSONValue {
        str(pattern: "^\(prefix)[0-9a-f]{32}$", nullable: nullable)
    }

    /// `{ "<key>": [items], "meta": {…} }` — the one shape of every list.
    static func list(_ key: String, of item: String) -> JSONValue {
        object(nil, [key: array(ref(item)), "meta": ref("ListMeta")], required: [key, "meta"])
    }

    // MARK: shared patterns

    static let trunkNamePattern = "^[A-Za-z0-9_]{1,16}$"
    static let userNamePattern = "^[A-Za-z0-9._-]{3,64}$"
    static let phonePattern = "^\\+[1-9][0-9]{7,14}$"
    static let algorithms = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"]
    static let authTypes = ["credential", "ip_acl", "ip_acl_and_credential"]

    // MARK: components

    static let all: [String: JSONValue] = [
        "Error": object("The one error shape of the API.", [
            "error": object(nil, [
                "code": str("Machine-readable code, e.g. invalid_password, not_found, rate_limited."),
                "message": str("Human-readable explanation; never contains a secret."),
                "field": str("The request field at fault, when there is one."),
            ], required: ["code", "message"]),
        ], required: ["error"]),
        "ListMeta": object(nil, [
            "page_size": int("The page size used.", min: 1, max: 1000),
            "next_page_token": str("Pass as page_token for the next page; null on the last page.", nullable: true),
        ], required: ["page_size", "next_page_token"]),
        "Health": object(nil, ["status": str(oneOf: ["ok"])], required: ["status"]),
        "Readiness": object(nil, [
            "status": str(oneOf: ["ready", "not_ready"]),
            "checks": object(nil, ["store": bool, "listeners": bool], required: ["store", "listeners"]),
        ], required: ["status", "checks"]),
        "OpenAPIDocument": object("This document.", [:], required: ["openapi", "info", "paths"]),

        // Account
        "Account": object("The account of the API key. webhook_secret appears only in the answer that created or rotated it.", [
            "sid": sid("AC"), "name": str(), "created_at": dateTime,
            "webhook_url": str("Where auth events and CDRs are POSTed, signed with X-Trunkgate-Signature.", nullable: true),
            "webhook_events": array(str(oneOf: WebhookEventType.allCases.map(\.rawValue))),
            "webhook_secret": str("The HMAC-SHA256 signing secret; shown once."),
        ], required: ["sid", "name", "created_at", "webhook_url", "webhook_events"]),
        "AccountUpdate": object("Partial update. Setting webhook_url on an account without one creates the signing secret (returned once); null removes the webhook.", [
            "webhook_url": str("An absolute http:// or https:// URL without user info or fragment, at most 2048 characters.", max: 2048, nullable: true),
            "webhook_events": array(str(oneOf: WebhookEventType.allCases.map(\.rawValue)), minItems: 1, unique: true),
            "rotate_webhook_secret": ["type": "boolean", "description": "true: replace the signing secret (the new one is returned once)."],
        ], required: [], closed: true),

        // Trunks
        "Trunk": object(nil, [
            "sid": sid("TK"), "account_sid": sid("AC"),
            "trunk_name": str(pattern: trunkNamePattern),
            "domain_name": str(),
            "auth_type": str(oneOf: authTypes),
            "realm": str(),
            "digest_algorithms": array(str(oneOf: algorithms)),
            "max_cps": int(min: 1, nullable: true),
            "max_concurrent_calls": int(min: 1, nullable: true),
            "ip_acl_sid": sid("AL", nullable: true),
            "restrict_caller_id": bool,
            "created_at": dateTime, "updated_at": dateTime,
        ], required: ["sid", "account_sid", "trunk_name", "domain_name", "auth_type", "realm", "digest_algorithms", "restrict_caller_id",
                      "created_at", "updated_at"]),
        "TrunkCreate": object(nil, [
            "trunk_name": str("1-16 characters of A-Z, a-z, 0-9 and _.", pattern: trunkNamePattern),
            "domain_name": str("The SIP domain customers send to; unique. Default: <trunk sid lower-cased>.<edge domain>. IP literals are refused.", max: 253, nullable: true),
            "auth_type": str("Default credential.", oneOf: authTypes, nullable: true),
            "realm": str("Digest realm. Default: domain_name. Printable ASCII without '\"' and '\\'.", min: 1, max: 128, nullable: true),
            "digest_algorithms": array(str(oneOf: algorithms), minItems: 1, unique: true, nullable: true),
            "max_cps": int(min: 1, max: 10_000, nullable: true),
            "max_concurrent_calls": int(min: 1, max: 100_000, nullable: true),
            "ip_acl_sid": str("An IP ACL of the same account (422 otherwise).", nullable: true),
            "restrict_caller_id": ["type": ["boolean", "null"], "description": "Outbound calls must use one of the trunk's DIDs as caller ID (From user); others get 403. Default false."],
        ], required: ["trunk_name"], closed: true),
        "TrunkUpdate": object("Partial update: absent fields are unchanged; null clears max_cps, max_concurrent_calls and ip_acl_sid. The realm cannot change while the trunk has credentials (their HA1 digests depend on it): 409 realm_in_use.", [
            "trunk_name": str(pattern: trunkNamePattern),
            "domain_name": str(max: 253),
            "auth_type": str(oneOf: authTypes),
            "realm": str(min: 1, max: 128),
            "digest_algorithms": array(str(oneOf: algorithms), minItems: 1, unique: true),
            "max_cps": int(min: 1, max: 10_000, nullable: true),
            "max_concurrent_calls": int(min: 1, max: 100_000, nullable: true),
            "ip_acl_sid": str(nullable: true),
            "restrict_caller_id": bool,
        ], required: [], closed: true),
        "TrunkList": list("trunks", of: "Trunk"),

        // Credentials
        "Credential": object("Never carries the password or its digests.", [
            "sid": sid("CR"), "account_sid": sid("AC"), "trunk_sid": sid("TK"),
            "user_name": str(pattern: userNamePattern),
            "friendly_name": str(nullable: true),
            "realm": str(),
            "created_at": dateTime,
            // Written once a minute (the latest use) and at shutdown; auth events hold every use.
            "last_used_at": str("The latest successful digest check, written up to a minute after it.", format: "date-time", nullable: true),
            "last_used_ip": str("The source address of that check.", nullable: true),
        ], required: ["sid", "account_sid", "trunk_sid", "user_name", "realm", "created_at"]),
        "CredentialCreate": object(nil, [
            "user_name": str("3-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'; unique within the trunk.", pattern: userNamePattern),
            "password": str("12-128 characters with an upper-case letter, a lower-case letter and a digit. Stored only as HA1 digests; never returned.", min: 12, max: 128),
            "friendly_name": str(max: 64, nullable: true),
        ], required: ["user_name", "password"], closed: true),
        "CredentialList": list("credentials", of: "Credential"),

        // Phone numbers
        "PhoneNumber": object(nil, [
            "sid": sid("PN"), "account_sid": sid("AC"), "trunk_sid": sid("TK"),
            "phone_number": str(pattern: phonePattern), "created_at": dateTime,
        ], required: ["sid", "account_sid", "trunk_sid", "phone_number", "created_at"]),
        "PhoneNumberCreate": object(nil, [
            "phone_number": str("E.164: '+' then 8-15 digits, the first not 0; unique across the whole system.", pattern: phonePattern),
        ], required: ["phone_number"], closed: true),
        "PhoneNumberList": list("phone_numbers", of: "PhoneNumber"),

        // Whitelisted IPs
        "WhitelistedIP": object("An entry of the ACL the trunk owns.", [
            "sid": sid("IP"), "account_sid": sid("AC"), "trunk_sid": sid("TK"),
            "ip": str(), "mask": int(min: 0, max: 128),
            "description": str(nullable: true),
            "created_at": dateTime,
        ], required: ["sid", "account_sid", "trunk_sid", "ip", "mask", "created_at"]),
        "WhitelistedIPCreate": object(nil, [
            "ip": str("An IPv4 or IPv6 address (host names are refused).", max: 45),
            "mask": int("CIDR prefix length, 0-32 (IPv4) or 0-128 (IPv6); host bits must be zero. Default: a single address.", min: 0, max: 128, nullable: true),
            "description": str(max: 255, nullable: true),
        ], required: ["ip"], closed: true),
        "WhitelistedIPList": list("whitelisted_ips", of: "WhitelistedIP"),

        // Destination URIs
        "DestinationURI": object("Never carries the outbound password; has_auth_password tells whether one is set.", [
            "sid": sid("DU"), "account_sid": sid("AC"), "trunk_sid": sid("TK"),
            "destination": str(), "priority": int(min: 0, max: 65535), "weight": int(min: 0, max: 65535),
            "auth_username": str(nullable: true), "has_auth_password": bool,
            "created_at": dateTime,
        ], required: ["sid", "account_sid", "trunk_sid", "destination", "priority", "weight", "has_auth_password", "created_at"]),
        "DestinationURICreate": object(nil, [
            "destination": str("[sip:|sips:]host[:port][;transport=udp|tcp|tls], host a DNS name, IPv4 address or [IPv6] address; e.g. agent.example.com:5061;transport=tls.", min: 1, max: 255),
            "priority": int("Lower is tried first. Default 10.", min: 0, max: 65535, nullable: true),
            "weight": int("Share within a priority. Default 10.", min: 0, max: 65535, nullable: true),
            "auth_username": str("Outbound user name used when the destination challenges (401/407).", min: 1, max: 64, nullable: true),
            "auth_password": str("Outbound password; requires auth_username. Stored encrypted with the server key; never returned.", min: 1, max: 128, nullable: true),
        ], required: ["destination"], closed: true),
        "DestinationURIList": list("destination_uris", of: "DestinationURI"),

        // IP ACLs
        "IPACL": object(nil, [
            "sid": sid("AL"), "account_sid": sid("AC"), "name": str(), "created_at": dateTime,
        ], required: ["sid", "account_sid", "name", "created_at"]),
        "IPACLCreate": object(nil, ["name": str(min: 1, max: 120)], required: ["name"], closed: true),
        "IPACLUpdate": object(nil, ["name": str(min: 1, max: 120)], required: ["name"], closed: true),
        "IPACLList": list("ip_acls", of: "IPACL"),
        "IPACLEntry": object(nil, [
            "sid": sid("IP"), "ip_acl_sid": sid("AL"),
            "ip_address": str(), "cidr_prefix_length": int(min: 0, max: 128),
            "description": str(nullable: true), "created_at": dateTime,
        ], required: ["sid", "ip_acl_sid", "ip_address", "cidr_prefix_length", "created_at"]),
        "IPACLEntryCreate": object(nil, [
            "ip_address": str("An IPv4 or IPv6 address (host names are refused).", max: 45),
            "cidr_prefix_length": int("0-32 (IPv4) or 0-128 (IPv6); host bits must be zero. Default: a single address.", min: 0, max: 128, nullable: true),
            "description": str(max: 255, nullable: true),
        ], required: ["ip_address"], closed: true),
        "IPACLEntryList": list("entries", of: "IPACLEntry"),

        // Read side
        "AuthEvent": object("One authentication decision of the edge; never carries a secret.", [
            "sid": sid("AE"), "account_sid": str(nullable: true), "trunk_sid": str(nullable: true),
            "time": dateTime, "source_ip": str(), "source_port": int(), "transport": str(), "method": str(),
            "request_uri": str(), "user_name": str(nullable: true), "algorithm": str(nullable: true),
            "credential_sid": str(nullable: true),
            "result": str(oneOf: ["allowed", "challenged", "rejected"]),
            "reason": str(),
        ], required: ["sid", "time", "source_ip", "source_port", "transport", "method", "request_uri", "result", "reason"]),
        "AuthEventList": list("auth_events", of: "AuthEvent"),
        "Lockout": object(nil, [
            "ip": str(), "account_sid": str(nullable: true), "locked_at": dateTime, "locked_until": dateTime, "failures": int(),
        ], required: ["ip", "locked_at", "locked_until", "failures"]),
        "LockoutList": list("lockouts", of: "Lockout"),
        "Registration": object("A registrar binding as stored: a refresh that changes only the expiry may reach the listing up to a minute late (the edge holds it at once).", [
            "sid": sid("RG"), "account_sid": sid("AC"), "trunk_sid": sid("TK"),
            "aor": str(), "contact": str(), "expires_at": dateTime, "q": int(min: 0, max: 1000),
            "call_id": str(), "cseq": int(), "credential_sid": str(nullable: true),
            "source_ip": str(), "source_port": int(), "transport": str(),
            "user_agent": str(nullable: true), "updated_at": dateTime,
        ], required: ["sid", "account_sid", "trunk_sid", "aor", "contact", "expires_at", "q", "call_id", "cseq", "source_ip", "source_port", "transport", "updated_at"]),
        "RegistrationList": list("registrations", of: "Registration"),
        "Call": object("A call detail record.", [
            "sid": sid("CA"), "account_sid": sid("AC"), "trunk_sid": str(nullable: true),
            "direction": str(oneOf: ["inbound", "outbound"]),
            "from": str(), "to": str(),
            "start_time": dateTime, "answer_time": nullableDateTime, "end_time": nullableDateTime,
            "duration": int(min: 0, nullable: true),
            "hangup_cause": str(nullable: true), "hangup_cause_code": int(nullable: true),
            "auth_type": str(nullable: true), "auth_user": str(nullable: true), "source_ip": str(nullable: true),
        ], required: ["sid", "account_sid", "direction", "from", "to", "start_time", "end_time", "duration", "hangup_cause"]),
        "CallList": list("calls", of: "Call"),
    ]

    /// The field names a request schema accepts.
    static func allowedFields(_ name: String) -> Set<String> {
        Set(all[name]?["properties"]?.objectValue?.keys.map { $0 } ?? [])
    }
}
