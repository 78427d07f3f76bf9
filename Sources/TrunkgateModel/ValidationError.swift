/// A rule a value broke: the API turns it into `{"error":{"code":…,"message":…,"field":…}}`
/// with status 400/422; the CLI prints it. Messages never contain secrets.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var field: String?

    public init(_ code: String, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
