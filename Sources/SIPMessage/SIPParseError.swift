/// Why a message (or a piece of one) could not be parsed.
///
/// A typed value the edge can turn into `400 Bad Request` with a precise reason phrase
/// (``reasonPhrase``). It never carries more of the input than a short excerpt, so echoing it
/// back cannot amplify what a client sent.
public struct SIPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case messageTooLarge = "message_too_large"
        case tooManyHeaders = "too_many_headers"
        case headerTooLong = "header_too_long"
        case truncated = "truncated"
        case invalidUTF8 = "invalid_utf8"
        case invalidStartLine = "invalid_start_line"
        case invalidMethod = "invalid_method"
        case invalidVersion = "invalid_version"
        case invalidStatusCode = "invalid_status_code"
        case invalidRequestURI = "invalid_request_uri"
        case invalidHeaderName = "invalid_header_name"
        case invalidHeaderValue = "invalid_header_value"
        case invalidURI = "invalid_uri"
        case invalidContentLength = "invalid_content_length"
        case bodyLengthMismatch = "body_length_mismatch"
        case invalidAuthorization = "invalid_authorization"
    }

    public var code: Code
    /// The header (canonical long name) or part of the message where the problem is, e.g.
    /// `"Via"`, `"Request-Line"`, `"Content-Length"`.
    public var location: String
    /// A short human explanation; never contains more than a few bytes of the input.
    public var detail: String

    public init(_ code: Code, at location: String, _ detail: String) {
        self.code = code
        self.location = location
        self.detail = detail
    }

    /// A reason phrase for a `400` response: ASCII only, no CR/LF, bounded length.
    public var reasonPhrase: String {
        var text = "Bad Request (\(location): \(detail))"
        text = String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F ? Character($0) : "?" })
        if text.utf8.count > 120 { text = String(text.prefix(117)) + "..." }
        return text
    }

    public var description: String { "\(location): \(detail) [\(code.rawValue)]" }
}
