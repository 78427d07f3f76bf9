public import SIPMessage

/// A `400 Bad Request` for bytes that did not parse as a SIP message.
///
/// A message that failed to parse cannot be answered through ``SIPMessage/makeResponse(status:reason:)``,
/// yet RFC 3261 §8.2 and RFC 4475 want a `400` whenever a response can reach the sender. This
/// takes the few header fields a response must echo (Via, From, To, Call-ID, CSeq; §8.2.6.2)
/// from the raw header lines, without interpreting them, and adds a To tag when there is none.
///
/// No response is possible, and nil is returned, when the bytes are a response (`SIP/…`), an
/// `ACK` (never answered), or carry no Via. The result is never much larger than the input,
/// so answering junk cannot amplify it.
public enum SIPBadRequest {
    public static func response(to bytes: [UInt8], error: SIPParseError) -> [UInt8]? {
        let head = headerSection(bytes)
        var lines = unfoldedLines(head)
        guard let startLine = lines.first, let method = requestMethod(startLine), method != "ACK" else {
            return nil
        }
        lines.removeFirst()

        var echoed: [ArraySlice<UInt8>] = []
        var hasVia = false
        var toIndex: Int?
        for line in lines {
            guard let name = headerName(line) else { continue }
            switch name {
            case "via", "v": hasVia = true
            case "to", "t": toIndex = echoed.count
            case "from", "f", "call-id", "i", "cseq": break
            default: continue
            }
            echoed.append(line)
        }
        guard hasVia else { return nil }

        var out: [UInt8] = []
        out.reserveCapacity(160 + echoed.reduce(0) { $0 + $1.count + 2 })
        out.append(contentsOf: "SIP/2.0 400 \(error.reasonPhrase)\r\n".utf8)
        for (index, line) in echoed.enumerated() {
            out.append(contentsOf: line)
            if index == toIndex, !containsTag(line) {
                out.append(contentsOf: ";tag=\(SIPMessage.randomTag())".utf8)
            }
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Content-Length: 0\r\n\r\n".utf8)
        return out
    }

    /// The bytes before the first empty line (all of them when there is none).
    private static func headerSection(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var i = bytes.startIndex
        while i + 3 < bytes.endIndex {
            if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 {
                return bytes[..<i]
            }
            i += 1
        }
        return bytes[...]
    }

    /// Header lines with folding undone; CR and LF never appear in a returned line. Bare LF
    /// line ends are accepted (this is a best effort on a message already known to be bad).
    private static func unfoldedLines(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        func emit(_ end: Int) {
            var line = head[start..<end]
            if line.last == 13 { line = line.dropLast() }
            if let first = line.first, first == 32 || first == 9, !lines.isEmpty {
                // A continuation line: LWS joins it to the previous one.
                var joined = Array(lines.removeLast())
                joined.append(32)
                joined.append(contentsOf: line.drop(while: { $0 == 32 || $0 == 9 }))
                lines.append(joined[...])
            } else if !line.isEmpty {
                lines.append(line)
            }
        }
        while i < head.endIndex {
            if head[i] == 10 {
                emit(i)
                start = i + 1
            }
            i += 1
        }
        emit(head.endIndex)
        // A stray CR inside a line must not reach the output.
        return lines.map { $0.contains(13) ? ArraySlice($0.filter { $0 != 13 }) : $0 }
    }

    /// The method of a request line `METHOD SP Request-URI SP SIP-Version`, or nil.
    private static func requestMethod(_ line: ArraySlice<UInt8>) -> String? {
        guard !line.starts(with: "SIP/".utf8), let space = line.firstIndex(of: 32), space > line.startIndex,
            line[line.startIndex..<space].allSatisfy({ $0 > 32 && $0 < 127 })
        else { return nil }
        return String(decoding: line[line.startIndex..<space], as: UTF8.self)
    }

    /// The lower-cased header name of a header line, or nil if it has no colon.
    private static func headerName(_ line: ArraySlice<UInt8>) -> String? {
        guard let colon = line.firstIndex(of: 58) else { return nil }
        var name = line[line.startIndex..<colon]
        while let last = name.last, last == 32 || last == 9 { name = name.dropLast() }
        guard !name.isEmpty, name.count <= 16 else { return nil }
        return String(decoding: name, as: UTF8.self).lowercased()
    }

    private static func containsTag(_ line: ArraySlice<UInt8>) -> Bool {
        String(decoding: line, as: UTF8.self).lowercased().filter { $0 != " " && $0 != "\t" }.contains(";tag=")
    }
}
