import ArgumentParser
import Foundation
import TrunkgateAPI
import TrunkgateModel

/// `trunkgate accounts create --name NAME` (SPEC §4): bootstraps an account and its first API
/// key. The token is printed once, here, and stored only as a salted hash.
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Manage accounts (tenants).",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account and its first API key.",
            discussion: """
                Prints {"account_sid":…,"key":…,"token":…}. The token is shown only this once; \
                use it with the key as HTTP Basic credentials (key:token) or as a Bearer token.
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "The account's name (1–120 characters).")
        var name: String

        func run() async throws {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 120, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw AdminFailure("--name must be 1–120 printable characters")
            }
            let (store, _) = try await store.open()
            let account = Account(name: trimmed)
            // A self-identifying token (`tg_<key sid>_<secret>`), so `Authorization: Bearer <token>`
            // alone names the key; the store keeps only its salted hash.
            let (key, token) = APICredentials.issue(accountSid: account.sid)
            do {
                try await store.createAccount(account, key: key)
                try await store.close()
            } catch {
                try? await store.close()
                throw AdminFailure("cannot create the account: \(error)")
            }
            let output: [String: String] = ["account_sid": account.sid, "key": key.sid, "token": token]
            let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
