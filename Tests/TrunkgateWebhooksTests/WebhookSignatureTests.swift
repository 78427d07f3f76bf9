import Foundation
import Testing
import TrunkgateModel
@testable import TrunkgateWebhooks

@Suite("Webhook signature and address policy")
struct WebhookSignatureTests {
    /// The expected value was computed with Python's `hmac` module (an independent
    /// implementation): hmac.new(b"whsec_test", b'1764550800.{"id":"x"}', sha256).
    @Test func signatureMatchesAnIndependentHMAC() {
        let body = Data(#"{"id":"x"}"#.utf8)
        let signature = WebhookSignature.sign(body: body, timestamp: 1_764_550_800, secret: "whsec_test")
        #expect(signature == "sha256=d244d36f9ed64da9a23a69dd524dfa30e7ca6cae403d3ee8ea629eb94478fb4e")
        let at = Date(timeIntervalSince1970: 1_764_550_900)
        #expect(WebhookSignature.verify(signature: signature, body: body, timestamp: 1_764_550_800, secret: "whsec_test", now: at))
        #expect(!WebhookSignature.verify(signature: signature, body: Data(#"{"id":"y"}"#.utf8), timestamp: 1_764_550_800, secret: "whsec_test", now: at),
                "another body")
        #expect(!WebhookSignature.verify(signature: signature, body: body, timestamp: 1_764_550_801, secret: "whsec_test", now: at),
                "the timestamp is covered")
        #expect(!WebhookSignature.verify(signature: signature, body: body, timestamp: 1_764_550_800, secret: "whsec_tesu", now: at), "another key")
        #expect(!WebhookSignature.verify(signature: signature, body: body, timestamp: 1_764_550_800, secret: "whsec_test",
                                         now: Date(timeIntervalSince1970: 1_764_551_200)), "too old")
    }

    @Test func eventBodyCarriesTheRecordAndNoSecret() throws {
        let record = CallRecord(accountSid: "AC1", trunkSid: "TK1", direction: .outbound, from: "sip:a@b", to: "sip:c@d",
                                startTime: Date(timeIntervalSince1970: 0), answerTime: nil, endTime: Date(timeIntervalSince1970: 5),
                                hangupCause: "sip_auth_failed", hangupCauseCode: 4210, authType: "credential", authUser: "pbx", sourceIP: "192.0.2.1")
        let body = try WebhookEvent(type: .callEnded, accountSid: "AC1", createdAt: record.endTime, data: .call(record)).encoded()
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(json["type"] as? String == "call.ended")
        #expect(json["id"] as? String == record.sid)
        let data = try #require(json["data"] as? [String: Any])
        #expect(data["hangup_cause_code"] as? Int == 4210 && data["auth_user"] as? String == "pbx")
    }

    @Test func privateRangesAreRefused() async {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"] {
            #expect(!WebhookDispatcher.isPublic(IPAddress(ip)!), "\(ip)")
        }
        for ip in ["8.8.8.8", "203.0.113.5", "2001:db8::1", "172.32.0.1"] {
            #expect(WebhookDispatcher.isPublic(IPAddress(ip)!), "\(ip)")
        }
        #expect(await WebhookDispatcher.resolvesToPublicAddresses("localhost") == false)
        #expect(await WebhookDispatcher.resolvesToPublicAddresses("[::1]") == false)
        #expect(await WebhookDispatcher.resolvesToPublicAddresses("no-such-host.invalid") == nil)
    }
}
