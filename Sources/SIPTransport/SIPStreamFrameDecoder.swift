public import NIOCore
public import SIPMessage

/// What ``SIPStreamFrameDecoder`` cuts out of a TCP or TLS byte stream.
public enum SIPStreamFrame: Sendable, Hashable {
    /// One whole SIP message: header section, empty line and exactly Content-Length body octets.
    case message(ByteBuffer)
    /// An RFC 5626 §4.4.1 keepalive ping (CRLF CRLF); the answer is one CRLF ("pong").
    case keepalivePing
    /// The stream cannot be framed any further (Content-Length missing, malformed or negative,
    /// or the message would exceed the size limit). `head` holds the start of the offending
    /// message (at most the size limit) so that a `400` can be built from it; the connection must
    /// be closed afterwards. The decoder discards everything that follows.
    case framingError(SIPParseError, head: ByteBuffer)
}

/// Frames SIP messages on a stream transport (RFC 3261 §18.3): the header section ends at the
/// first empty line and the body is exactly `Content-Length` octets, which is mandatory on
/// streams. Empty lines between messages are skipped; CRLF CRLF is reported as a keepalive
/// ping (RFC 5626). Messages larger than ``maxMessageSize`` are refused.
///
/// The decoder remembers how far it has searched for the end of the header section, so a
/// message that arrives in many small segments is scanned once, not once per segment.
public struct SIPStreamFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = SIPStreamFrame

    /// RFC 3261 sets no limit; the edge does (SPEC §3: messages up to 64 KiB).
    public static let defaultMaxMessageSize = 64 * 1024

    public let maxMessageSize: Int

    private enum State {
        /// Looking for the end of the header section; bytes before `searchedUpTo` (relative to
        /// the reader index) hold no CRLF CRLF.
        case header(searchedUpTo: Int)
        /// The header section is complete and the whole message is `total` octets.
        case body(total: Int)
        /// A framing error was reported: everything else on this connection is discarded.
        case failed
    }

    private var state: State = .header(searchedUpTo: 0)

    public init(maxMessageSize: Int = SIPStreamFrameDecoder.defaultMaxMessageSize) {
        precondition(maxMessageSize >= 16, "a SIP message needs more than 16 bytes")
        self.maxMessageSize = maxMessageSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        if let frame = nextFrame(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }
        // A message cut off by the end of the connection can never be completed: drop it.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        state = .header(searchedUpTo: 0)
        return .needMoreData
    }

    /// The framing itself, independent of a channel: takes the next frame off the front of
    /// `buffer`, or returns nil when more bytes are needed.
    public mutating func nextFrame(_ buffer: inout ByteBuffer) -> SIPStreamFrame? {
        while true {
            switch state {
            case .failed:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil

            case .body(let total):
                guard buffer.readableBytes >= total else { return nil }
                state = .header(searchedUpTo: 0)
                return .message(buffer.readSlice(length: total)!)

            case .header(let searchedUpTo):
                let view = buffer.readableBytesView
                // Empty lines before a message: CRLF CRLF is a ping, a lone CRLF (or LF) is skipped.
                if searchedUpTo == 0, view.first == .lf {
                    buffer.moveReaderIndex(forwardBy: 1)
                    continue
                }
                if searchedUpTo == 0, view.first == .cr {
                    guard view.count >= 2 else { return nil }
                    if view[view.startIndex + 1] == .lf {
                        guard view.count >= 3 else { return nil }  // CRLF alone or the start of a ping?
                        if view[view.startIndex + 2] == .cr {
                            guard view.count >= 4 else { return nil }
                            if view[view.startIndex + 3] == .lf {
                                buffer.moveReaderIndex(forwardBy: 4)
                                return .keepalivePing
                            }
                        }
                        buffer.moveReaderIndex(forwardBy: 2)
                        continue
                    }
                }
                guard let headerEnd = Self.endOfHeader(view, from: searchedUpTo) else {
                    if view.count > maxMessageSize {
                        return fail(
                            SIPParseError(.messageTooLarge, at: "Message", "header section exceeds \(maxMessageSize) bytes"),
                            &buffer, headLength: maxMessageSize)
                    }
                    // The last two bytes may be the start of the empty line.
                    state = .header(searchedUpTo: max(0, view.count - 2))
                    return nil
                }
                guard headerEnd <= maxMessageSize else {
                    return fail(
                        SIPParseError(.messageTooLarge, at: "Message", "header section exceeds \(maxMessageSize) bytes"),
                        &buffer, headLength: maxMessageSize)
                }
                let bodyLength: Int
                switch Self.contentLength(view.prefix(headerEnd)) {
                case .success(let length): bodyLength = length
                case .failure(let error): return fail(error, &buffer, headLength: headerEnd)
                }
                guard bodyLength <= maxMessageSize - headerEnd else {
                    return fail(
                        SIPParseError(.messageTooLarge, at: "Content-Length", "message exceeds \(maxMessageSize) bytes"),
                        &buffer, headLength: headerEnd)
                }
                state = .body(total: headerEnd + bodyLength)
            }
        }
    }

    /// Where the search for the end of the header section resumes (nil while a body is awaited
    /// or after a framing error).
    var headerSearchOffset: Int? {
        if case .header(let offset) = state { offset } else { nil }
    }

    private mutating func fail(_ error: SIPParseError, _ buffer: inout ByteBuffer, headLength: Int) -> SIPStreamFrame {
        let head = buffer.getSlice(at: buffer.readerIndex, length: min(headLength, buffer.readableBytes))!
        buffer.moveReaderIndex(to: buffer.writerIndex)
        state = .failed
        return .framingError(error, head: head)
    }

    /// Offset just past the empty line that ends the header section (CRLF CRLF; like the
    /// parser, bare LF line ends are accepted too), searching from `start`.
    private static func endOfHeader(_ view: ByteBufferView, from start: Int) -> Int? {
        var i = view.startIndex + start
        let end = view.endIndex
        while i + 1 < end {
            if view[i] == .lf {
                if view[i + 1] == .lf { return i + 2 - view.startIndex }
                if i + 2 < end, view[i + 1] == .cr, view[i + 2] == .lf { return i + 3 - view.startIndex }
            }
            i += 1
        }
        return nil
    }

    /// Reads the Content-Length (or compact `l`) of a header section (RFC 3261 §20.14): exactly
    /// one value of decimal digits; repeated headers must agree. Mandatory on streams (§18.3).
    static func contentLength(_ header: ByteBufferView.SubSequence) -> Result<Int, SIPParseError> {
        var found: Int?
        // Header fields with folding: a line starting with SP or HTAB continues the previous one.
        var fieldStart = header.firstIndex(of: .lf).map { $0 + 1 } ?? header.endIndex  // skip the start line
        while fieldStart < header.endIndex {
            var fieldEnd = header[fieldStart...].firstIndex(of: .lf) ?? header.endIndex
            while fieldEnd + 1 < header.endIndex, header[fieldEnd + 1] == .sp || header[fieldEnd + 1] == .htab {
                fieldEnd = header[(fieldEnd + 1)...].firstIndex(of: .lf) ?? header.endIndex
            }
            let field = header[fieldStart..<fieldEnd]
            fieldStart = fieldEnd + 1
            guard let colon = field.firstIndex(of: .colon) else { continue }
            var nameEnd = colon
            while nameEnd > field.startIndex, header[nameEnd - 1] == .sp || header[nameEnd - 1] == .htab { nameEnd -= 1 }
            guard Self.isContentLengthName(header[field.startIndex..<nameEnd]) else { continue }
            guard let length = Self.decimalValue(header[(colon + 1)..<fieldEnd]) else {
                return .failure(
                    SIPParseError(.invalidContentLength, at: "Content-Length", "not a decimal number from 0 to 999999999"))
            }
            if let earlier = found, earlier != length {
                return .failure(SIPParseError(.invalidContentLength, at: "Content-Length", "conflicting values"))
            }
            found = length
        }
        guard let found else {
            return .failure(SIPParseError(.invalidContentLength, at: "Content-Length", "missing on a stream transport"))
        }
        return .success(found)
    }

    /// The value of `LWS 1*DIGIT LWS` (up to nine digits), or nil.
    private static func decimalValue(_ value: ByteBufferView.SubSequence) -> Int? {
        let isLWS = { (byte: UInt8) in byte == .sp || byte == .htab || byte == .cr || byte == .lf }
        guard let first = value.firstIndex(where: { !isLWS($0) }),
            let last = value.lastIndex(where: { !isLWS($0) }),
            last - first < 9
        else { return nil }
        var result = 0
        for byte in value[first...last] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            result = result * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return result
    }

    private static func isContentLengthName(_ name: ByteBufferView.SubSequence) -> Bool {
        if name.count == 1 { return name.first! | 0x20 == UInt8(ascii: "l") }
        let expected = "content-length".utf8
        guard name.count == expected.count else { return false }
        return zip(name, expected).allSatisfy { ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 }
    }
}

extension UInt8 {
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let sp = UInt8(ascii: " ")
    fileprivate static let htab = UInt8(ascii: "\t")
    fileprivate static let colon = UInt8(ascii: ":")
}
