import Foundation
import Testing
@testable import TrunkgateModel

@Suite struct ValidationTests {
    @Test(arguments: ["a", "Trunk_1", "ABCDEFGHIJKLMNOP"]) func goodTrunkNames(_ s: String) throws {
        #expect(try Validation.trunkName(s) == s)
    }

    @Test(arguments: ["", "ABCDEFGHIJKLMNOPQ", "has space", "dash-no", "ünï"]) func badTrunkNames(_ s: String) {
        #expect(throws: ValidationError.self) { try Validation.trunkName(s) }
    }

    @Test(arguments: ["abc", "pbx.main-01_x", String(repeating: "u", count: 64)]) func goodUserNames(_ s: String) throws {
        #expect(try Validation.userName(s) == s)
    }

    @Test(arguments: ["ab", String(repeating: "u", count: 65), "a b c", "user@x", "colon:x"]) func badUserNames(_ s: String) {
        #expect(throws: ValidationError.self) { try Validation.userName(s) }
    }

    @Test func passwordRules() throws {
        try Validation.password("Sup3rSecretPass")
        let cases = ["Short1Aa", "alllowercase123", "ALLUPPERCASE123", "NoDigitsHereAtAll", String(repeating: "Aa1", count: 43)]
        for p in cases {
            do {
                try Validation.password(p)
                Issue.record("accepted \(p)")
            } catch {
                #expect(error.code == "invalid_password")
                #expect(error.field == "password")
                #expect(!error.message.contains(p), "the error must not echo the password")
            }
        }
    }

    @Test func phoneNumbers() throws {
        #expect(try Validation.phoneNumber("+14155550100") == "+14155550100")
        #expect(try Validation.phoneNumber("+12345678") == "+12345678")
        for bad in ["14155550100", "+1234567", "+1234567890123456", "+0123456789", "+1415555O100", "+1 415 555 0100"] {
            #expect(throws: ValidationError.self, "\(bad)") { try Validation.phoneNumber(bad) }
        }
    }

    @Test func domainNames() throws {
        #expect(try Validation.domainName("Trunk1.SIP.example.com") == "trunk1.sip.example.com")
        for bad in ["localhost", "192.0.2.1", "-a.example.com", "a..b.com", "under_score.example.com", ""] {
            #expect(throws: ValidationError.self, "\(bad)") { try Validation.domainName(bad) }
        }
    }

    @Test func sids() {
        let sid = SID.make(.trunk)
        #expect(sid.hasPrefix("TK"))
        #expect(SID.isValid(sid, .trunk))
        #expect(!SID.isValid(sid, .account))
        #expect(SID.make(.trunk) != sid)
    }
}

@Suite struct CIDRTests {
    @Test func parsesAndMatches() throws {
        let net = try CIDR(address: "203.0.113.0", prefix: 24)
        #expect(net.contains(IPAddress("203.0.113.77")!))
        #expect(!net.contains(IPAddress("203.0.114.1")!))
        // An IPv4-mapped IPv6 source matches an IPv4 entry.
        #expect(net.contains(IPAddress("::ffff:203.0.113.9")!))
        let v6 = try CIDR(address: "2001:db8::", prefix: 32)
        #expect(v6.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(!v6.contains(IPAddress("2001:db9::1")!))
        #expect(!v6.contains(IPAddress("203.0.113.1")!))
        let host = try CIDR(parsing: "127.0.0.2")
        #expect(host.prefix == 32)
        #expect(host.contains(IPAddress("127.0.0.2")!))
        #expect(!host.contains(IPAddress("127.0.0.3")!))
        #expect(try CIDR(address: "0.0.0.0", prefix: 0).contains(IPAddress("198.51.100.1")!))
    }

    @Test func refusesBadBlocks() {
        #expect(throws: ValidationError.self) { try CIDR(address: "203.0.113.5", prefix: 24) }  // host bits
        #expect(throws: ValidationError.self) { try CIDR(address: "sip.example.com", prefix: 32) }  // host name
        #expect(throws: ValidationError.self) { try CIDR(address: "10.0.0.0", prefix: 33) }
        #expect(throws: ValidationError.self) { try CIDR(address: "2001:db8::", prefix: 129) }
        #expect(throws: ValidationError.self) { try CIDR(address: "256.1.1.1", prefix: 32) }
        #expect(throws: ValidationError.self) { try CIDR(address: "1.2.3", prefix: 32) }
        #expect(throws: ValidationError.self) { try CIDR(address: "2001:db8:::1", prefix: 128) }
        do {
            _ = try CIDR(address: "203.0.113.5", prefix: 24)
        } catch {
            #expect(error.message.contains("203.0.113.0/24"), "the error suggests the network address")
        }
    }

    @Test func ipv6Formatting() {
        #expect(IPAddress("2001:0db8:0000:0000:0000:0000:0000:0001")?.description == "2001:db8::1")
        #expect(IPAddress("::1")?.description == "::1")
        #expect(IPAddress("::")?.description == "::")
        #expect(IPAddress("::ffff:192.0.2.1")?.unmapped == IPAddress("192.0.2.1"))
    }
}

@Suite struct SecretsTests {
    @Test func tokensAreHashedAndVerified() {
        let token = APIToken.generate()
        let key = APIToken.makeKey(accountSid: SID.make(.account), token: token)
        #expect(!key.tokenHash.contains(token))
        #expect(APIToken.verify(token, against: key))
        #expect(!APIToken.verify(token + "x", against: key))
        #expect(!APIToken.verify("", against: key))
        // Same token, different salt: different hashes.
        #expect(APIToken.makeKey(accountSid: "AC", token: token).tokenHash != key.tokenHash)
    }

    @Test func credentialJSONCarriesNoDigest() throws {
        let c = Credential(accountSid: "AC1", trunkSid: "TK1", userName: "pbx01", friendlyName: "PBX",
                           ha1MD5: "aaaa1111", ha1SHA256: "bbbb2222", ha1SHA512_256: "cccc3333", realm: "r")
        let json = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        #expect(json.contains("pbx01"))
        for secret in ["aaaa1111", "bbbb2222", "cccc3333", "ha1"] { #expect(!json.contains(secret)) }
    }

    @Test func sealerRoundTripsAndHidesSecret() throws {
        let sealer = SecretSealer(keyData: SecretSealer.generateKeyData())
        let sealed = try sealer.seal("Outbound-Pass-123")
        #expect(!sealed.contains("Outbound"))
        #expect(try sealer.open(sealed) == "Outbound-Pass-123")
        let other = SecretSealer(keyData: SecretSealer.generateKeyData())
        #expect(throws: (any Error).self) { try other.open(sealed) }
        let d = DestinationURI(accountSid: "AC", trunkSid: "TK", destination: "agent.example.com", authUsername: "u", authPasswordSealed: sealed)
        let json = String(decoding: try JSONEncoder().encode(d), as: UTF8.self)
        #expect(!json.contains(sealed))
        #expect(json.contains("\"has_auth_password\":true"))
    }
}

@Suite struct EdgeConfigurationTests {
    func trunk(_ name: String, domain: String, numbers: [String]) -> TrunkConfiguration {
        TrunkConfiguration(trunk: Trunk(accountSid: "AC1", trunkName: name, domainName: domain), credentials: [:], acl: [],
                           phoneNumbers: numbers, destinations: [])
    }

    @Test func incrementalApply() {
        let a = trunk("a", domain: "a.example.com", numbers: ["+15550000001"])
        let b = trunk("b", domain: "b.example.com", numbers: ["+15550000002"])
        var config = EdgeConfiguration(version: 1, trunks: [a, b])
        let before = config
        #expect(config.trunk(forDomain: "A.EXAMPLE.COM")?.trunk.sid == a.trunk.sid)
        #expect(config.trunk(forNumber: "+15550000002")?.trunk.sid == b.trunk.sid)
        // Moving trunk a to a new domain and number replaces its old entries.
        var moved = a
        moved.trunk.domainName = "a2.example.com"
        moved.phoneNumbers = ["+15550000003"]
        config.apply(trunkSid: a.trunk.sid, moved, version: 2)
        #expect(config.trunk(forDomain: "a.example.com") == nil)
        #expect(config.trunk(forDomain: "a2.example.com")?.trunk.sid == a.trunk.sid)
        #expect(config.trunk(forNumber: "+15550000001") == nil)
        #expect(config.version == 2)
        config.apply(trunkSid: b.trunk.sid, nil, version: 3)
        #expect(config.trunk(forDomain: "b.example.com") == nil)
        // The earlier snapshot is untouched (readers holding it see a consistent view).
        #expect(before.trunk(forDomain: "a.example.com") != nil && before.trunk(forDomain: "b.example.com") != nil)
    }
}
