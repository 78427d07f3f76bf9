import ArgumentParser
import Foundation
import SIPDigest
import TrunkgateModel

/// `trunkgate credentials import`: bulk-loads digest credentials into a trunk, e.g. when
/// moving a PBX fleet over from a Kamailio subscriber table. Each password is turned into
/// its three HA1 values here and then forgotten; the store never sees it.
struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Manage digest credentials from the command line.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import user;password lines (SIPp injection-file format) into a trunk.",
            discussion: """
                FILE holds one credential per line, `user_name;password` (further fields are \
                ignored; a first line SEQUENTIAL/RANDOM/USER is skipped). Every line is checked \
                against the same rules as the API before anything is written. The account limit \
                on credentials applies unless --max-credentials raises it. Prints a JSON summary.
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "The account that owns the trunk (AC…).")
        var account: String

        @Option(help: "The trunk (TK…).")
        var trunk: String

        @Option(help: ArgumentHelp("The credentials file.", valueName: "file"))
        var file: String

        @Option(help: "Highest number of credentials the account may have after the import (default: the account limit, 200).")
        var maxCredentials: Int?

        static let batchSize = 5_000

        func run() async throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw AdminFailure("cannot read \(file)")
            }
            var entries: [(String, String)] = []
            var seen = Set<String>()
            for (index, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                if index == 0, ["SEQUENTIAL", "RANDOM", "USER"].contains(line.uppercased()) { continue }
                let fields = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
                guard fields.count >= 2 else { throw AdminFailure("\(file):\(index + 1): expected user_name;password") }
                do {
                    let user = try Validation.userName(fields[0])
                    try Validation.password(fields[1])
                    guard seen.insert(user).inserted else { throw AdminFailure("\(file):\(index + 1): \(user) appears twice") }
                    entries.append((user, fields[1]))
                } catch let error as TrunkgateModel.ValidationError {
                    // The message names the rule, never the password.
                    throw AdminFailure("\(file):\(index + 1): \(error.message)")
                }
            }
            let (store, _) = try await store.open()
            do {
                guard let trunk = try await store.trunk(account: account, sid: trunk) else {
                    throw AdminFailure("no trunk \(self.trunk) in account \(account)")
                }
                var limits = AccountLimits.default
                if let maxCredentials { limits.maxCredentials = maxCredentials }
                // In batches, each one transaction with one configuration change: the edge reloads
                // the trunk once per batch, not once per credential.
                var created = 0
                var batch: [Credential] = []
                batch.reserveCapacity(Self.batchSize)
                func flush() async throws {
                    guard !batch.isEmpty else { return }
                    do {
                        try await store.createCredentials(batch, limits: limits)
                    } catch {
                        throw AdminFailure("\(batch.first!.userName)…\(batch.last!.userName): \(error) (\(created) credentials were imported before this batch)")
                    }
                    created += batch.count
                    batch.removeAll(keepingCapacity: true)
                }
                for (user, password) in entries {
                    let ha1 = DigestHA1Set.compute(username: user, realm: trunk.realm, password: password)
                    batch.append(Credential(
                        accountSid: account, trunkSid: trunk.sid, userName: user, friendlyName: nil,
                        ha1MD5: ha1.md5 ?? "", ha1SHA256: ha1.sha256 ?? "", ha1SHA512_256: ha1.sha512_256 ?? "", realm: trunk.realm))
                    if batch.count == Self.batchSize { try await flush() }
                }
                try await flush()
                try await store.close()
                print("{\"trunk_sid\":\"\(trunk.sid)\",\"imported\":\(created)}")
            } catch {
                try? await store.close()
                throw error
            }
        }
    }
}
