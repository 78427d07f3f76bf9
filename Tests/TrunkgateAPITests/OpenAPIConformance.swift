import Testing
import TrunkgateAPI

/// Checks a JSON value against a schema of the served OpenAPI document: every `required`
/// property present, no property the schema does not declare, types as declared, array items
/// and `$ref`s followed. Enough to catch a response and the document drifting apart.
struct SchemaChecker {
    let components: [String: JSONValue]

    init(document: JSONValue = OpenAPIDocument.value) {
        components = document["components"]?["schemas"]?.objectValue ?? [:]
    }

    /// Problems found, as paths into the value; empty when it conforms.
    func problems(_ value: JSONValue, schema: JSONValue, at path: String = "$") -> [String] {
        if let ref = schema["$ref"]?.stringValue {
            let name = String(ref.split(separator: "/").last ?? "")
            guard let target = components[name] else { return ["\(path): unknown schema \(ref)"] }
            return problems(value, schema: target, at: path)
        }
        var types: [String] = []
        if let t = schema["type"]?.stringValue { types = [t] }
        if let list = schema["type"]?.arrayValue { types = list.compactMap(\.stringValue) }
        if !types.isEmpty, !types.contains(where: { Self.matches(value, $0) }) {
            return ["\(path): \(value) is not \(types.joined(separator: "|"))"]
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
            return ["\(path): \(value) not in enum"]
        }
        var out: [String] = []
        if case .object(let object) = value {
            let properties = schema["properties"]?.objectValue ?? [:]
            for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[key] == nil {
                out.append("\(path): missing required \(key)")
            }
            if schema["properties"] != nil {
                for (key, v) in object {
                    guard let sub = properties[key] else {
                        out.append("\(path): undeclared property \(key)")
                        continue
                    }
                    out += problems(v, schema: sub, at: "\(path).\(key)")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (i, item) in items.enumerated() { out += problems(item, schema: itemSchema, at: "\(path)[\(i)]") }
        }
        return out
    }

    func problems(_ value: JSONValue, component: String) -> [String] {
        problems(value, schema: ["$ref": .string("#/components/schemas/\(component)")])
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .int), ("number", .int), ("number", .double),
             ("string", .string), ("array", .array), ("object", .object):
            return true
        default:
            return false
        }
    }
}

/// Expects `reply` to be the documented success of `operationID`: the status the document
/// names and a body that conforms to its schema.
func expectDocumented(_ reply: HTTPReply, _ operationID: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let route = APIRoutes.all.first(where: { $0.operationID == operationID }) else {
        Issue.record("no route \(operationID)", sourceLocation: sourceLocation)
        return
    }
    #expect(reply.status == route.success.status, "\(operationID): \(reply)", sourceLocation: sourceLocation)
    guard let schema = route.success.schema else { return }
    guard let json = reply.json else {
        Issue.record("\(operationID): body is not JSON: \(reply)", sourceLocation: sourceLocation)
        return
    }
    let problems = SchemaChecker().problems(json, component: schema)
    #expect(problems.isEmpty, "\(operationID) response vs the OpenAPI document: \(problems)", sourceLocation: sourceLocation)
}
