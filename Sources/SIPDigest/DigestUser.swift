/// A stored credential as the verifier needs it: the user name and its HA1 values.
public struct DigestUser: Sendable, Hashable {
    public var name: String
    public var ha1: DigestHA1Set

    public init(name: String, ha1: DigestHA1Set) {
        self.name = name
        self.ha1 = ha1
    }
}
