import SIPMessage
import Testing

@testable import SIPTransport

@Suite struct SIPBadRequestTests {
    static let error = SIPParseError(.invalidContentLength, at: "Content-Length", "not a number")

    static func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test func negativeContentLengthOfRFC4475GetsA400EchoingTheDialogHeaders() throws {
        let ncl = try ConformanceFile.bytes("rfc4475/ncl.dat")
        let response = try #require(Self.text(SIPBadRequest.response(to: ncl, error: Self.error)))
        let lines = response.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "SIP/2.0 400 Bad Request (Content-Length: not a number)")
        #expect(lines.contains("Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw"))
        #expect(lines.contains("From: sip:caller@example.net;tag=32394234"))
        #expect(lines.contains("Call-ID: ncl.0ha0isndaksdj2193423r542w35"))
        #expect(lines.contains("CSeq: 0 INVITE"))
        #expect(lines.contains { $0.hasPrefix("To: sip:j.user@example.com;tag=") && $0.count > 30 })
        #expect(!response.contains("Contact"))
        #expect(!response.contains("v=0"))
        #expect(response.hasSuffix("Content-Length: 0\r\n\r\n"))
        // What we send must itself be a valid SIP response.
        let parsed = try SIPMessage.parse(Array(response.utf8), framing: .stream)
        #expect(parsed.statusCode == 400)
        #expect(parsed.topVia?.branch == "z9hG4bKkdjuw")
    }

    @Test func compactFoldedAndRepeatedHeadersAreEchoedInOrder() throws {
        let request = """
            BYE sip:a@example.com SIP/2.0\r
            v: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bKa\r
            Via: SIP/2.0/UDP 192.0.2.2\r
              ;branch=z9hG4bKb\r
            t: <sip:a@example.com>;tag=x1\r
            f: <sip:b@example.com>;tag=y2\r
            i: call-1\r
            cseq: 7 BYE\r
            Content-Length: zz\r
            \r

            """
        let response = try #require(Self.text(SIPBadRequest.response(to: Array(request.utf8), error: Self.error)))
        #expect(
            response == """
                SIP/2.0 400 Bad Request (Content-Length: not a number)\r
                v: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bKa\r
                Via: SIP/2.0/UDP 192.0.2.2 ;branch=z9hG4bKb\r
                t: <sip:a@example.com>;tag=x1\r
                f: <sip:b@example.com>;tag=y2\r
                i: call-1\r
                cseq: 7 BYE\r
                Content-Length: 0\r
                \r

                """)
    }

    @Test(arguments: [
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",  // a response
        "ACK sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",  // never answered
        "OPTIONS sip:a@example.com SIP/2.0\r\nTo: <sip:a@example.com>\r\n\r\n",  // nowhere to send it
        "\u{0}\u{1}\u{2}garbage",
        "",
        " OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n",  // no method
    ])
    func noResponseWhenNoneIsPossible(input: String) {
        #expect(SIPBadRequest.response(to: Array(input.utf8), error: Self.error) == nil)
    }

    @Test func responseIsNeverMuchLargerThanTheInput() throws {
        let request = "X sip:a SIP/2.0\r\nv:a\r\nt:b\r\n\r\n"
        let response = try #require(SIPBadRequest.response(to: Array(request.utf8), error: Self.error))
        // Status line with reason (bounded to ~130), a To tag and Content-Length: 0.
        #expect(response.count <= request.utf8.count + 200)
    }
}
