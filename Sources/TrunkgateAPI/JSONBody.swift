import Foundation

/// A request body that parsed as a JSON object and carries only known fields.
struct JSONBody: Sendable {
    enum Field: Sendable {
        case absent
        case null
        case value(JSONValue)
    }

    let object: [String: JSONValue]

    init(object: [String: JSONValue]) { self.object = object }

    /// Parses `data` as a JSON object whose keys are all in `allowed` (unknown fields are
    /// refused with 400 `unknown_field`, so a misspelt field is never silently ignored).
    init(data: Data, allowed: Set<String>) throws(APIError) {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw APIError.badRequest("invalid_json", "the request body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw APIError.badRequest("invalid_body", "the request body must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.badRequest("unknown_field", "unknown field '\(Self.printable(unknown))'", field: Self.printable(unknown))
        }
        self.object = object
    }

    func field(_ key: String) -> Field {
        switch object[key] {
        case nil: .absent
        case .null?: .null
        case let v?: .value(v)
        }
    }

    var isEmpty: Bool { object.isEmpty }

    /// A string field; `null` counts as absent.
    func string(_ key: String, required: Bool = false) throws(APIError) -> String? {
        switch field(key) {
        case .absent, .null:
            if required { throw APIError.badRequest("missing_field", "\(key) is required", field: key) }
            return nil
        case .value(.string(let s)):
            return s
        case .value:
            throw APIError.badRequest("invalid_type", "\(key) must be a string", field: key)
        }
    }

    /// An integer field; `null` counts as absent.
    func int(_ key: String, required: Bool = false) throws(APIError) -> Int? {
        switch field(key) {
        case .absent, .null:
            if required { throw APIError.badRequest("missing_field", "\(key) is required", field: key) }
            return nil
        case .value(let v):
            return try Self.integer(v, key)
        }
    }

    /// A boolean field; `null` counts as absent.
    func bool(_ key: String) throws(APIError) -> Bool? {
        switch field(key) {
        case .absent, .null: return nil
        case .value(.bool(let b)): return b
        case .value: throw APIError.badRequest("invalid_type", "\(key) must be true or false", field: key)
        }
    }

    /// For partial updates: absent → nil (unchanged), `null` → .some(nil) (clear), value → .some(value).
    func nullableString(_ key: String) throws(APIError) -> String?? {
        switch field(key) {
        case .absent: return nil
        case .null: return .some(nil)
        case .value(.string(let s)): return .some(s)
        case .value: throw APIError.badRequest("invalid_type", "\(key) must be a string or null", field: key)
        }
    }

    func nullableInt(_ key: String) throws(APIError) -> Int?? {
        switch field(key) {
        case .absent: return nil
        case .null: return .some(nil)
        case .value(let v): return .some(try Self.integer(v, key))
        }
    }

    func stringArray(_ key: String) throws(APIError) -> [String]? {
        switch field(key) {
        case .absent, .null: return nil
        case .value(.array(let items)):
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else {
                    throw APIError.badRequest("invalid_type", "\(key) must be an array of strings", field: key)
                }
                out.append(s)
            }
            return out
        case .value:
            throw APIError.badRequest("invalid_type", "\(key) must be an array of strings", field: key)
        }
    }

    private static func integer(_ v: JSONValue, _ key: String) throws(APIError) -> Int {
        switch v {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        default: throw APIError.badRequest("invalid_type", "\(key) must be an integer", field: key)
        }
    }

    /// Field names are echoed in errors; keep them short and printable.
    static func printable(_ s: String) -> String {
        let cleaned = String(String.UnicodeScalarView(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }))
        return cleaned.count > 64 ? String(cleaned.prefix(64)) + "…" : cleaned
    }
}
