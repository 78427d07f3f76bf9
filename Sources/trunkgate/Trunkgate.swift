import ArgumentParser

@main
struct Trunkgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trunkgate",
        abstract: "Trunkgate: a SIP trunking edge with digest authentication and IP ACLs.",
        subcommands: [ServeCommand.self, AccountsCommand.self, CredentialsCommand.self, SIPCommand.self, DigestCommand.self]
    )
}
