import Testing

@testable import SIPMessage

/// The body and extension checks (RFC 3261 §8.2.2.3, §8.2.3, §21.4.13, §21.4.16).
@Suite struct SIPRequestValidatorTests {
    static func invite(_ extra: [String], body: String = "v=0\r\n") throws -> SIPMessage {
        var lines = [
            "INVITE sip:bob@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKv1",
            "From: <sip:alice@example.com>;tag=1",
            "To: <sip:bob@example.com>",
            "Call-ID: validator-1",
            "CSeq: 1 INVITE",
            "Max-Forwards: 70",
        ]
        lines += extra
        lines.append("Content-Length: \(body.utf8.count)")
        return try SIPMessage.parse(Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8))
    }

    @Test(arguments: [
        (["Content-Type: application/sdp"], nil),
        (["Content-Type: Application/SDP ; charset=utf-8"], nil),
        (["Content-Type: multipart/MIXED;boundary=x"], nil),
        (["Content-Type: text/plain"], 415),
        (["Content-Type: application/sdpx"], 415),
        (["Content-Type: application/sdp", "Accept: application/SDP;q=0.5, text/html"], nil),
        (["Content-Type: application/sdp", "Accept: application/*"], nil),
        (["Content-Type: application/sdp", "Accept: */*"], nil),
        (["Content-Type: application/sdp", "Accept: text/html"], 406),
        (["Content-Type: application/sdp", "Require: 100rel"], nil),
        (["Content-Type: application/sdp", "Require: 100rel, foo"], 420),
        (["Content-Type: application/sdp", "Proxy-Require: Timer, bar"], 420),
    ] as [([String], Int?)])
    func bodyAcceptAndExtensionChecks(headers: [String], status: Int?) throws {
        let rejection = SIPRequestValidator().check(try Self.invite(headers))
        #expect(rejection?.status == status, "\(headers)")
        if status == 420 {
            let unsupported = try #require(rejection?.header)
            #expect(unsupported.name == SIPHeaderName(.unsupported))
            #expect(unsupported.value == (headers.contains { $0.contains("foo") } ? "foo" : "bar"))
        }
        if status == 415 { #expect(rejection?.header?.name == SIPHeaderName(.accept)) }
    }

    /// Without a body the Content-Type is not judged.
    @Test func anEmptyBodyIsNotJudgedByItsType() throws {
        #expect(SIPRequestValidator().check(try Self.invite(["Content-Type: text/plain"], body: "")) == nil)
    }

    @Test(arguments: [
        ("application/sdp", "application/sdp"),
        ("  application/sdp ;a=b", "application/sdp"),
        ("text/plain;", "text/plain"),
        ("", ""),
        (";x", ""),
    ])
    func mediaRangeDropsParametersAndWhiteSpace(value: String, expected: String) {
        #expect(SIPRequestValidator.mediaRange(Substring(value)) == Substring(expected))
    }
}
