import Hummingbird
import Foundation
import TrunkgateModel

/// The route table: the only list of endpoints. The router registers exactly these and the
/// OpenAPI document describes exactly these.
public enum APIRoutes {
    static let account = "/v1/accounts/{account_sid}"
    static let trunk = "\(account)/trunks/{trunk_sid}"
    static let acl = "\(account)/ip-acls/{ip_acl_sid}"

    static let pageQuery: [APIRoute.QueryParameter] = [
        .init(name: "page_size", description: "Items per page, 1-1000 (default 50).", schema: Schemas.int(min: 1, max: 1000)),
        .init(name: "page_token", description: "The next_page_token of the previous page.", schema: Schemas.str()),
    ]

    static func r(
        _ method: HTTPRequest.Method, _ path: String, _ operationID: String, _ summary: String, tag: String,
        access: APIRoute.Access = .account, description: String? = nil, body: String? = nil,
        query: [APIRoute.QueryParameter] = [], ok: Int = 200, schema: String?, okDescription: String? = nil,
        contentType: String = "application/json", errors: [Int] = [],
        _ handler: @escaping @Sendable (APICall) async throws -> Response
    ) -> APIRoute {
        APIRoute(
            method: method, path: path, operationID: operationID, summary: summary, description: description, tag: tag,
            access: access, requestSchema: body, query: query,
            success: .init(status: ok, description: okDescription ?? summary, schema: schema, contentType: contentType),
            extraErrors: errors, handler: handler)
    }

    /// Every endpoint of the API.
    public static let all: [APIRoute] = [
        // Operations
        r(.get, "/healthz", "getHealth", "Liveness", tag: "operations", access: .open, schema: "Health") { _ in
            try Reply.json(.ok, JSONValue.object(["status": "ok"]))
        },
        r(.get, "/readyz", "getReadiness", "Readiness: the store answers and the listeners are up", tag: "operations", access: .open,
          schema: "Readiness", errors: [503], Operations.readiness),
        r(.get, "/metrics", "getMetrics", "Prometheus metrics (text exposition format)", tag: "operations", access: .open,
          schema: nil, contentType: "text/plain", Operations.metrics),
        r(.get, "/v1/openapi.json", "getOpenAPIDocument", "This API's OpenAPI 3.1 document", tag: "operations", access: .open,
          schema: "OpenAPIDocument", Operations.openAPI),

        // Account
        r(.get, account, "getAccount", "Fetch the account (and its webhook settings)", tag: "account", schema: "Account", Handlers.getAccount),
        r(.post, account, "updateAccount", "Set, change or remove the account's webhook", tag: "account",
          description: "Auth events and call records are POSTed to webhook_url as JSON, signed: X-Trunkgate-Signature: sha256=hex(HMAC-SHA256(secret, X-Trunkgate-Timestamp + \".\" + body)). Failed deliveries are retried with exponential backoff.",
          body: "AccountUpdate", schema: "Account", Handlers.updateAccount),
        r(.patch, account, "patchAccount", "Same as POST", tag: "account", body: "AccountUpdate", schema: "Account", Handlers.updateAccount),

        // Trunks
        r(.post, "\(account)/trunks", "createTrunk", "Create a trunk", tag: "trunks", body: "TrunkCreate", ok: 201, schema: "Trunk",
          errors: [409], Handlers.createTrunk),
        r(.get, "\(account)/trunks", "listTrunks", "List trunks", tag: "trunks", query: pageQuery, schema: "TrunkList", Handlers.listTrunks),
        r(.get, trunk, "getTrunk", "Fetch a trunk", tag: "trunks", schema: "Trunk", Handlers.getTrunk),
        r(.post, trunk, "updateTrunk", "Update a trunk (partial)", tag: "trunks", body: "TrunkUpdate", schema: "Trunk", errors: [409],
          Handlers.updateTrunk),
        r(.patch, trunk, "patchTrunk", "Update a trunk (partial; same as POST)", tag: "trunks", body: "TrunkUpdate", schema: "Trunk",
          errors: [409], Handlers.updateTrunk),
        r(.delete, trunk, "deleteTrunk", "Delete a trunk with its credentials, numbers, destinations and whitelisted IPs", tag: "trunks",
          ok: 204, schema: nil, Handlers.deleteTrunk),

        // Credentials
        r(.post, "\(trunk)/credentials", "createCredential", "Create a digest credential", tag: "credentials",
          description: "The password is stored only as HA1 digests (MD5, SHA-256, SHA-512-256 of user_name:realm:password) and is never returned.",
          body: "CredentialCreate", ok: 201, schema: "Credential", errors: [409], Handlers.createCredential),
        r(.get, "\(trunk)/credentials", "listCredentials", "List a trunk's credentials", tag: "credentials", query: pageQuery,
          schema: "CredentialList", Handlers.listCredentials),
        r(.get, "\(trunk)/credentials/{credential_sid}", "getCredential", "Fetch a credential", tag: "credentials", schema: "Credential",
          Handlers.getCredential),
        r(.delete, "\(trunk)/credentials/{credential_sid}", "deleteCredential", "Delete (rotate out) a credential", tag: "credentials",
          ok: 204, schema: nil, Handlers.deleteCredential),

        // Phone numbers
        r(.post, "\(trunk)/phone-numbers", "createPhoneNumber", "Map a phone number (DID) to the trunk", tag: "phone-numbers",
          body: "PhoneNumberCreate", ok: 201, schema: "PhoneNumber", errors: [409], Handlers.createPhoneNumber),
        r(.get, "\(trunk)/phone-numbers", "listPhoneNumbers", "List a trunk's phone numbers", tag: "phone-numbers", query: pageQuery,
          schema: "PhoneNumberList", Handlers.listPhoneNumbers),
        r(.get, "\(trunk)/phone-numbers/{phone_number_sid}", "getPhoneNumber", "Fetch a phone number", tag: "phone-numbers",
          schema: "PhoneNumber", Handlers.getPhoneNumber),
        r(.delete, "\(trunk)/phone-numbers/{phone_number_sid}", "deletePhoneNumber", "Remove a phone number", tag: "phone-numbers",
          ok: 204, schema: nil, Handlers.deletePhoneNumber),

        // Whitelisted IPs
        r(.post, "\(trunk)/whitelisted-ips", "createWhitelistedIP", "Whitelist an address or block for the trunk", tag: "whitelisted-ips",
          body: "WhitelistedIPCreate", ok: 201, schema: "WhitelistedIP", errors: [409], Handlers.createWhitelistedIP),
        r(.get, "\(trunk)/whitelisted-ips", "listWhitelistedIPs", "List a trunk's whitelisted IPs", tag: "whitelisted-ips", query: pageQuery,
          schema: "WhitelistedIPList", Handlers.listWhitelistedIPs),
        r(.get, "\(trunk)/whitelisted-ips/{whitelisted_ip_sid}", "getWhitelistedIP", "Fetch a whitelisted IP", tag: "whitelisted-ips",
          schema: "WhitelistedIP", Handlers.getWhitelistedIP),
        r(.delete, "\(trunk)/whitelisted-ips/{whitelisted_ip_sid}", "deleteWhitelistedIP", "Remove a whitelisted IP", tag: "whitelisted-ips",
          ok: 204, schema: nil, Handlers.deleteWhitelistedIP),

        // Destination URIs
        r(.post, "\(trunk)/destination-uris", "createDestinationURI", "Add an inbound destination", tag: "destination-uris",
          description: "auth_password is stored encrypted with the server key and never returned.",
          body: "DestinationURICreate", ok: 201, schema: "DestinationURI", errors: [409], Handlers.createDestination),
        r(.get, "\(trunk)/destination-uris", "listDestinationURIs", "List a trunk's destinations", tag: "destination-uris", query: pageQuery,
          schema: "DestinationURIList", Handlers.listDestinations),
        r(.get, "\(trunk)/destination-uris/{destination_uri_sid}", "getDestinationURI", "Fetch a destination", tag: "destination-uris",
          schema: "DestinationURI", Handlers.getDestination),
        r(.delete, "\(trunk)/destination-uris/{destination_uri_sid}", "deleteDestinationURI", "Remove a destination", tag: "destination-uris",
          ok: 204, schema: nil, Handlers.deleteDestination),

        // IP ACLs
        r(.post, "\(account)/ip-acls", "createIPACL", "Create an IP access-control list", tag: "ip-acls", body: "IPACLCreate", ok: 201,
          schema: "IPACL", errors: [409], Handlers.createACL),
        r(.get, "\(account)/ip-acls", "listIPACLs", "List IP ACLs", tag: "ip-acls", query: pageQuery, schema: "IPACLList", Handlers.listACLs),
        r(.get, acl, "getIPACL", "Fetch an IP ACL", tag: "ip-acls", schema: "IPACL", Handlers.getACL),
        r(.post, acl, "updateIPACL", "Rename an IP ACL", tag: "ip-acls", body: "IPACLUpdate", schema: "IPACL", errors: [409], Handlers.updateACL),
        r(.patch, acl, "patchIPACL", "Rename an IP ACL (same as POST)", tag: "ip-acls", body: "IPACLUpdate", schema: "IPACL", errors: [409],
          Handlers.updateACL),
        r(.delete, acl, "deleteIPACL", "Delete an IP ACL (409 ip_acl_in_use while a trunk has it assigned)", tag: "ip-acls", ok: 204,
          schema: nil, errors: [409], Handlers.deleteACL),
        r(.post, "\(acl)/entries", "createIPACLEntry", "Add an address or block to an IP ACL", tag: "ip-acls", body: "IPACLEntryCreate",
          ok: 201, schema: "IPACLEntry", errors: [409], Handlers.createEntry),
        r(.get, "\(acl)/entries", "listIPACLEntries", "List an IP ACL's entries", tag: "ip-acls", query: pageQuery,
          schema: "IPACLEntryList", Handlers.listEntries),
        r(.get, "\(acl)/entries/{entry_sid}", "getIPACLEntry", "Fetch an IP ACL entry", tag: "ip-acls", schema: "IPACLEntry",
          Handlers.getEntry),
        r(.delete, "\(acl)/entries/{entry_sid}", "deleteIPACLEntry", "Remove an IP ACL entry", tag: "ip-acls", ok: 204, schema: nil,
          Handlers.deleteEntry),

        // Read side
        r(.get, "\(account)/auth-events", "listAuthEvents", "List authentication decisions of the edge, newest first", tag: "auth-events",
          query: pageQuery + [
              .init(name: "trunk_sid", description: "Only this trunk's events.", schema: Schemas.str()),
              .init(name: "source_ip", description: "Only events from this address.", schema: Schemas.str()),
              .init(name: "user_name", description: "Only events for this user name.", schema: Schemas.str()),
              .init(name: "result", description: "allowed, challenged or rejected.", schema: Schemas.str(oneOf: ["allowed", "challenged", "rejected"])),
              .init(name: "reason", description: "e.g. wrong_password, ip_not_in_acl, locked_out.", schema: Schemas.str()),
              .init(name: "since", description: "RFC 3339 time; events at or after it.", schema: Schemas.str(format: "date-time")),
              .init(name: "until", description: "RFC 3339 time; events at or before it.", schema: Schemas.str(format: "date-time")),
          ], schema: "AuthEventList", Handlers.listAuthEvents),
        r(.get, "\(account)/lockouts", "listLockouts", "List source IPs locked out of the account's trunks", tag: "lockouts", query: pageQuery,
          schema: "LockoutList", Handlers.listLockouts),
        r(.delete, "\(account)/lockouts/{ip}", "deleteLockout", "Clear a lockout", tag: "lockouts", ok: 204, schema: nil,
          Handlers.deleteLockout),
        r(.get, "\(account)/registrations", "listRegistrations", "List registrar bindings", tag: "registrations",
          query: pageQuery + [.init(name: "trunk_sid", description: "Only this trunk's bindings.", schema: Schemas.str())],
          schema: "RegistrationList", Handlers.listRegistrations),
        r(.get, "\(account)/calls", "listCalls", "List call detail records, newest first", tag: "calls",
          description: "One record per call routed by the edge, written when the call ends.",
          query: pageQuery + [
              .init(name: "trunk_sid", description: "Only this trunk's calls.", schema: Schemas.str()),
              .init(name: "direction", description: "inbound or outbound.", schema: Schemas.str(oneOf: ["inbound", "outbound"])),
              .init(name: "since", description: "RFC 3339 time; calls that started at or after it.", schema: Schemas.str(format: "date-time")),
              .init(name: "until", description: "RFC 3339 time; calls that started at or before it.", schema: Schemas.str(format: "date-time")),
          ], schema: "CallList", Handlers.listCalls),
    ]

    /// The routes whose template matches a concrete path (for 405 answers).
    static func routes(matching path: String) -> [APIRoute] {
        all.filter { $0.matches(path: path) }
    }
}
