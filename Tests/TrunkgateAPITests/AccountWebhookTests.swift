import Foundation
import Testing
import TrunkgateAPI
import TrunkgateModel

/// `GET/POST/PATCH /v1/accounts/{sid}`: the webhook settings, their rules, and the signing
/// secret shown once and stored only sealed.
@Suite("API account webhook")
struct AccountWebhookTests {
    @Test(arguments: StoreBackend.all)
    func webhookLifecycle(_ backend: StoreBackend) async throws {
        try await withAPI(backend) { api in
            let initial = try await api.get(api.path())
            expectDocumented(initial, "getAccount")
            #expect(initial["sid"]?.stringValue == api.account.sid)
            #expect(initial["webhook_url"]?.isNull == true)
            #expect(initial["webhook_events"] == .array([]))
            #expect(initial["webhook_secret"] == nil)

            // Setting a URL creates the secret, returned this once, with the default events.
            let set = try await api.post(api.path(), ["webhook_url": "https://hooks.example.com/trunkgate?x=1"])
            expectDocumented(set, "updateAccount")
            let secret = try #require(set["webhook_secret"]?.stringValue)
            #expect(secret.hasPrefix("whsec_") && secret.count >= 40)
            #expect(set["webhook_url"]?.stringValue == "https://hooks.example.com/trunkgate?x=1")
            #expect(set["webhook_events"] == .array(["auth.rejected", "call.ended"]))
            let stored = try #require(try await api.store.account(api.account.sid)?.webhook)
            #expect(stored.secretSealed != secret && !stored.secretSealed.contains(secret), "the secret is stored sealed only")
            #expect(try api.options.sealer.open(stored.secretSealed) == secret)
            let fetched = try await api.get(api.path())
            #expect(fetched["webhook_secret"] == nil, "never shown again")
            #expect(fetched["webhook_url"] == set["webhook_url"])

            // Changing URL or events keeps the secret; rotating replaces it.
            let patched = try await api.call("PATCH", api.path(), json: ["webhook_url": "http://hooks.example.com/v2", "webhook_events": ["call.ended", "auth.challenged"]])
            expectDocumented(patched, "patchAccount")
            #expect(patched["webhook_secret"] == nil)
            #expect(patched["webhook_events"] == .array(["call.ended", "auth.challenged"]))
            #expect(try api.options.sealer.open(try #require(try await api.store.account(api.account.sid)?.webhook).secretSealed) == secret)
            let rotated = try await api.post(api.path(), ["rotate_webhook_secret": true])
            let newSecret = try #require(rotated["webhook_secret"]?.stringValue)
            #expect(newSecret != secret)
            #expect(try api.options.sealer.open(try #require(try await api.store.account(api.account.sid)?.webhook).secretSealed) == newSecret)
            #expect(try await api.store.configChanges(after: 0, limit: 10_000).contains { $0.kind == "account" && $0.accountSid == api.account.sid },
                    "a change the edges hear of")

            // Bad input: the right error and nothing changed.
            for bad in ["ftp://hooks.example.com/", "hooks.example.com/x", "https://user:pw@hooks.example.com/", "https://hooks.example.com/#frag",
                        "https:///nohost", "https://hooks.example.com/ space", String(repeating: "a", count: 2100)] {
                try await api.expectRefused(422, "invalid_webhook_url", field: "webhook_url") {
                    try await api.post(api.path(), ["webhook_url": .string(bad)])
                }
            }
            try await api.expectRefused(422, "invalid_webhook_events", field: "webhook_events") {
                try await api.post(api.path(), ["webhook_events": ["call.ended", "call.ended"]])
            }
            try await api.expectRefused(422, "invalid_webhook_events", field: "webhook_events") {
                try await api.post(api.path(), ["webhook_events": ["call.started"]])
            }
            try await api.expectRefused(400, "invalid_type", field: "webhook_events") {
                try await api.post(api.path(), ["webhook_events": .null])
            }
            try await api.expectRefused(400, "unknown_field", field: "webhook_secret") {
                try await api.post(api.path(), ["webhook_secret": "whsec_mine"])
            }

            // null removes the webhook (and its secret).
            let removed = try await api.post(api.path(), ["webhook_url": .null])
            #expect(removed["webhook_url"]?.isNull == true && removed["webhook_events"] == .array([]))
            #expect(try await api.store.account(api.account.sid)?.webhook == nil)
            try await api.expectRefused(422, "webhook_url_required", field: "webhook_url") {
                try await api.post(api.path(), ["rotate_webhook_secret": true])
            }
            try await api.expectRefused(422, "webhook_url_required", field: "webhook_url") {
                try await api.post(api.path(), ["webhook_events": ["call.ended"]])
            }
        }
    }
}
