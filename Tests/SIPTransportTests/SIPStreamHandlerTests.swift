import Logging
import NIOCore
import NIOEmbedded
import SIPMessage
import Testing

@testable import SIPTransport

/// The answers to the messages of one TCP read burst go out in one flush, at the end of the
/// burst; outside a burst an answer is flushed at once.
@Suite struct SIPStreamHandlerTests {
    /// Counts the flushes that reach the socket side of the pipeline.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var flushes = 0

        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    static func frame(_ index: Int) -> SIPStreamFrame {
        .message(ByteBuffer(string: TestClient.options(branch: "flush\(index)", transport: "TCP")))
    }

    @Test func answersOfOneReadBurstAreFlushedTogetherAtItsEnd() throws {
        let handler = RecordingHandler()
        let channel = EmbeddedChannel()
        let counter = FlushCounter()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(
            SIPStreamHandler(transport: .tcp, handler: handler, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5099)).wait()

        for index in 0..<3 { channel.pipeline.syncOperations.fireChannelRead(NIOAny(Self.frame(index))) }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing is handled or flushed before the burst ends")
        channel.pipeline.syncOperations.fireChannelReadComplete()
        var answers: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { answers.append(String(buffer: buffer)) }
        #expect(answers.count == 3)
        #expect(counter.flushes == 1, "one flush for the burst's three answers")
        #expect(answers.allSatisfy { $0.hasPrefix("SIP/2.0 200 OK\r\n") })
        #expect(answers.enumerated().allSatisfy { index, answer in answer.contains("branch=z9hG4bKflush\(index)") }, "in order")

        // An answer written outside a read burst (e.g. a call's later response) is not held.
        channel.writeAndFlush(ByteBuffer(string: "late"), promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "late")
        #expect(counter.flushes == 2)
        _ = try channel.finish()
    }

    /// A framing error ends the burst without a read-complete: what was read before it is
    /// answered, the 400 follows, and all of it is flushed before the connection closes.
    @Test func aFramingErrorFlushesTheAnswersBeforeClosing() throws {
        let handler = RecordingHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            SIPStreamHandler(transport: .tcp, handler: handler, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5099)).wait()

        channel.pipeline.syncOperations.fireChannelRead(NIOAny(Self.frame(0)))
        let head = ByteBuffer(string: TestClient.options(branch: "bad", transport: "TCP")
            .replacing("Content-Length: 0", with: "Content-Length: x"))
        let error = SIPParseError(.invalidContentLength, at: "Content-Length", "not a number")
        channel.pipeline.syncOperations.fireChannelRead(NIOAny(SIPStreamFrame.framingError(error, head: head)))
        var answers: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { answers.append(String(buffer: buffer)) }
        #expect(answers.count >= 2, "\(answers)")
        #expect(answers.first?.hasPrefix("SIP/2.0 200 OK\r\n") == true)
        #expect(answers.dropFirst().first?.hasPrefix("SIP/2.0 400") == true)
        _ = try? channel.finish()
    }
}
