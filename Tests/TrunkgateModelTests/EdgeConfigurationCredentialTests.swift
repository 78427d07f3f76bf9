import Foundation
import Testing
import TrunkgateModel

@Suite struct EdgeConfigurationCredentialTests {
    func credential(_ user: String, sid: String) -> Credential {
        Credential(sid: sid, accountSid: "AC1", trunkSid: "TK1", userName: user, friendlyName: nil,
                   ha1MD5: "m-\(user)", ha1SHA256: "s-\(user)", ha1SHA512_256: "t-\(user)", realm: "r")
    }

    @Test func oneCredentialIsAddedOrRemovedWithoutTouchingTheRest() {
        let trunk = Trunk(sid: "TK1", accountSid: "AC1", trunkName: "t", domainName: "t.example.com")
        let base = EdgeConfiguration(version: 1, trunks: [
            TrunkConfiguration(trunk: trunk, credentials: ["alice": EdgeCredential(credential("alice", sid: "CR1"))], acl: [], phoneNumbers: [], destinations: []),
        ])
        var next = base
        let added = next.applyCredential(trunkSid: "TK1", credentialSid: "CR2", credential("bob", sid: "CR2"))
        #expect(added)
        #expect(next.trunksBySid["TK1"]?.credentials.keys.sorted() == ["alice", "bob"])
        #expect(base.trunksBySid["TK1"]?.credentials.count == 1, "the old snapshot is unchanged (copy-on-write)")
        let removed = next.applyCredential(trunkSid: "TK1", credentialSid: "CR1", nil)
        #expect(removed && next.trunksBySid["TK1"]?.credentials.keys.sorted() == ["bob"])
        let unknownRemoved = next.applyCredential(trunkSid: "TK1", credentialSid: "CR9", nil)
        #expect(unknownRemoved, "deleting an unknown one is a no-op")
        let unknownTrunk = next.applyCredential(trunkSid: "TK2", credentialSid: "CR3", credential("carol", sid: "CR3"))
        #expect(!unknownTrunk, "unknown trunk: reload instead")
        let takenName = next.applyCredential(trunkSid: "TK1", credentialSid: "CR4", credential("bob", sid: "CR4"))
        #expect(!takenName, "a user name held by another credential: reload instead")
        #expect(next.trunksBySid["TK1"]?.credentials["bob"]?.sid == "CR2")
    }

    /// The snapshot keeps HA1s lower-cased (the verifier hashes them as lower-case hex text) and
    /// only the fields the SIP path reads.
    @Test func edgeCredentialKeepsLowerCasedHA1sAndTheSid() {
        var c = credential("alice", sid: "CR1")
        c.ha1MD5 = "ABCDEF0123456789ABCDEF0123456789"
        c.ha1SHA256 = String(repeating: "a1", count: 32)
        let e = EdgeCredential(c)
        #expect(e.sid == "CR1" && e.userName == "alice")
        #expect(e.ha1MD5 == "abcdef0123456789abcdef0123456789")
        #expect(e.ha1SHA256 == c.ha1SHA256 && e.ha1SHA512_256 == "t-alice")
    }
}
