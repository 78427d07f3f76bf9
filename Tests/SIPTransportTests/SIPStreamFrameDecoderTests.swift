import NIOCore
import NIOEmbedded
import NIOTestUtils
import SIPMessage
import Testing

@testable import SIPTransport

@Suite struct SIPStreamFrameDecoderTests {
    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static let options = """
        OPTIONS sip:edge.example.com SIP/2.0\r
        Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1\r
        Call-ID: a\r
        CSeq: 1 OPTIONS\r
        Content-Length: 0\r
        \r

        """
    static let inviteWithBody = """
        INVITE sip:bob@example.com SIP/2.0\r
        v: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK2\r
        content-length  :  \r
         14\r
        \r
        v=0\r
        o=- 1 1\r

        """
    static let compact = "REGISTER sip:example.com SIP/2.0\r\nl: 3\r\ni: b\r\n\r\nabc"
    static let bareLF = "MESSAGE sip:a@example.com SIP/2.0\nContent-Length: 2\n\nhi"
    /// The body holds CRLF CRLF and a fake Content-Length: framing must not look inside it.
    static let trickyBody: String = {
        let body = "\r\n\r\nContent-Length: 99\r\n\r\nX\r\n\r\n"
        return "MESSAGE sip:a@example.com SIP/2.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }()

    @Test func verifierAcceptsEverySplitOfValidMessagesAndPings() throws {
        let pairs: [(ByteBuffer, [SIPStreamFrame])] = [
            (Self.buffer(Self.options), [.message(Self.buffer(Self.options))]),
            (Self.buffer(Self.inviteWithBody), [.message(Self.buffer(Self.inviteWithBody))]),
            (Self.buffer(Self.compact), [.message(Self.buffer(Self.compact))]),
            (Self.buffer(Self.bareLF), [.message(Self.buffer(Self.bareLF))]),
            (Self.buffer(Self.trickyBody), [.message(Self.buffer(Self.trickyBody))]),
            (Self.buffer("\r\n\r\n"), [.keepalivePing]),
            (Self.buffer("\r\n\r\n" + Self.options), [.keepalivePing, .message(Self.buffer(Self.options))]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { SIPStreamFrameDecoder() }
    }

    @Test func bodyLengthIsTheDeclaredOne() {
        var decoder = SIPStreamFrameDecoder()
        var buffer = Self.buffer(Self.trickyBody + Self.options)
        guard case .message(let first) = decoder.nextFrame(&buffer) else {
            Issue.record("no first message")
            return
        }
        #expect(String(buffer: first).hasSuffix("X\r\n\r\n"))
        #expect(first.readableBytes == Self.trickyBody.utf8.count)
        #expect(decoder.nextFrame(&buffer) == .message(Self.buffer(Self.options)))
        #expect(decoder.nextFrame(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
    }

    @Test func loneCRLFBetweenMessagesIsSkippedWithoutPong() {
        var decoder = SIPStreamFrameDecoder()
        var buffer = Self.buffer("\r\n")
        #expect(decoder.nextFrame(&buffer) == nil)  // could still become a ping
        buffer.writeString(Self.options)
        #expect(decoder.nextFrame(&buffer) == .message(Self.buffer(Self.options)))
        #expect(decoder.nextFrame(&buffer) == nil)
    }

    /// Drip-feeds `input` one byte at a time and returns every frame produced.
    static func dripFeed(_ input: String, maxMessageSize: Int = SIPStreamFrameDecoder.defaultMaxMessageSize)
        -> [SIPStreamFrame]
    {
        var decoder = SIPStreamFrameDecoder(maxMessageSize: maxMessageSize)
        var buffer = ByteBuffer()
        var frames: [SIPStreamFrame] = []
        for byte in input.utf8 {
            buffer.writeInteger(byte)
            while let frame = decoder.nextFrame(&buffer) { frames.append(frame) }
        }
        return frames
    }

    static func wholeFeed(_ input: String, maxMessageSize: Int = SIPStreamFrameDecoder.defaultMaxMessageSize)
        -> [SIPStreamFrame]
    {
        var decoder = SIPStreamFrameDecoder(maxMessageSize: maxMessageSize)
        var buffer = Self.buffer(input)
        var frames: [SIPStreamFrame] = []
        while let frame = decoder.nextFrame(&buffer) { frames.append(frame) }
        return frames
    }

    static func framingError(_ frames: [SIPStreamFrame]) -> (SIPParseError, String)? {
        guard frames.count == 1, case .framingError(let error, let head) = frames[0] else { return nil }
        return (error, String(buffer: head))
    }

    @Test(arguments: [
        ("Content-Length: -999", "not a decimal number"),
        ("Content-Length: five", "not a decimal number"),
        ("Content-Length: 1 2", "not a decimal number"),
        ("Content-Length: 1234567890", "not a decimal number"),
        ("Content-Length:", "not a decimal number"),
        ("Content-Length: 0\r\nl: 4", "conflicting values"),
        ("Content-Lengthy: 0", "missing on a stream transport"),
        ("X-Note: no length", "missing on a stream transport"),
    ])
    func badContentLengthIsAFramingErrorWithTheHead(header: String, detail: String) throws {
        let head = "INVITE sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK3\r\n\(header)\r\n\r\n"
        let input = head + "v=0\r\nOPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n"
        for frames in [Self.wholeFeed(input), Self.dripFeed(input)] {
            let (error, echoed) = try #require(Self.framingError(frames))
            #expect(error.code == .invalidContentLength)
            #expect(error.detail.contains(detail))
            #expect(echoed == head)
        }
    }

    @Test func negativeContentLengthOfRFC4475IsAFramingError() throws {
        let ncl = try ConformanceFile.bytes("rfc4475/ncl.dat")
        var decoder = SIPStreamFrameDecoder()
        var buffer = ByteBuffer(bytes: ncl)
        let next = decoder.nextFrame(&buffer)
        let frame = try #require(next)
        guard case .framingError(let error, _) = frame else {
            Issue.record("expected a framing error, got \(frame)")
            return
        }
        #expect(error.code == .invalidContentLength)
    }

    @Test func declaredBodyOverTheLimitIsRefusedBeforeItArrives() throws {
        let input = "MESSAGE sip:a@example.com SIP/2.0\r\nContent-Length: 65536\r\n\r\nabc"
        for frames in [Self.wholeFeed(input), Self.dripFeed(input)] {
            let (error, head) = try #require(Self.framingError(frames))
            #expect(error.code == .messageTooLarge)
            #expect(head.hasSuffix("65536\r\n\r\n"))
        }
    }

    @Test func aMessageOfExactlyTheLimitPasses() {
        let headLength = "MESSAGE sip:a@example.com SIP/2.0\r\nContent-Length: 000\r\n\r\n".utf8.count
        let bodyLength = 1000 - headLength
        let input = "MESSAGE sip:a@example.com SIP/2.0\r\nContent-Length: \(bodyLength)\r\n\r\n"
            + String(repeating: "x", count: bodyLength)
        #expect(input.utf8.count == 1000)
        #expect(Self.wholeFeed(input, maxMessageSize: 1000) == [.message(Self.buffer(input))])
        #expect(Self.framingError(Self.wholeFeed(input, maxMessageSize: 999))?.0.code == .messageTooLarge)
    }

    @Test func endlessHeaderSectionIsCutAtTheLimit() throws {
        let input = "OPTIONS sip:a SIP/2.0\r\n" + String(repeating: "X-Filler: 0123456789\r\n", count: 200)
        for frames in [Self.wholeFeed(input, maxMessageSize: 1024), Self.dripFeed(input, maxMessageSize: 1024)] {
            let (error, head) = try #require(Self.framingError(frames))
            #expect(error.code == .messageTooLarge)
            #expect(head.utf8.count == 1024)
            #expect(head.hasPrefix("OPTIONS sip:a SIP/2.0\r\n"))
        }
    }

    @Test func afterAFramingErrorEverythingIsDiscarded() {
        var decoder = SIPStreamFrameDecoder()
        var buffer = Self.buffer("OPTIONS sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n")
        guard case .framingError = decoder.nextFrame(&buffer) else {
            Issue.record("expected a framing error")
            return
        }
        buffer.writeString(Self.options + "\r\n\r\n")
        #expect(decoder.nextFrame(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
    }

    @Test func truncatedMessageAtEndOfStreamIsDroppedWithoutLeftovers() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SIPStreamFrameDecoder()))
        try channel.writeInbound(Self.buffer(Self.options + "INVITE sip:a SIP/2.0\r\nContent-Length: 10\r\n\r\nv=0"))
        #expect(try channel.readInbound(as: SIPStreamFrame.self) == .message(Self.buffer(Self.options)))
        #expect(try channel.readInbound(as: SIPStreamFrame.self) == nil)
        #expect(try channel.finish().isClean)
    }

    /// A slow sender dripping a large header section byte by byte must cost linear time: the
    /// decoder resumes its search for the empty line where it stopped instead of rescanning.
    @Test func dripFedHeaderIsScannedOnce() {
        var decoder = SIPStreamFrameDecoder()
        var buffer = ByteBuffer()
        let head = "OPTIONS sip:a SIP/2.0\r\n" + String(repeating: "X-Filler: 0123456789abcdef\r\n", count: 100)
        for byte in head.utf8 {
            buffer.writeInteger(byte)
            #expect(decoder.nextFrame(&buffer) == nil)
        }
        #expect(decoder.headerSearchOffset == head.utf8.count - 2)
        buffer.writeString("Content-Length: 0\r\n\r\n")
        #expect(decoder.nextFrame(&buffer) == .message(Self.buffer(head + "Content-Length: 0\r\n\r\n")))
        #expect(decoder.headerSearchOffset == 0)
    }
}
