/// Per-account limits (SPEC §1 defaults). Exceeding one is a 4xx with code `limit_exceeded`.
public struct AccountLimits: Sendable, Hashable {
    public var maxIPACLs = 100
    public var maxEntriesPerACL = 50
    public var maxCredentials = 200
    public var maxTrunks = 500
    public var maxPhoneNumbers = 10_000
    public var maxDestinationsPerTrunk = 50

    public init() {}

    public static let `default` = AccountLimits()
}
