import Foundation
import Hummingbird
import TrunkgateModel

/// Cursor pagination, one shape for every list:
/// `GET …?page_size=N&page_token=T` → `{ "<plural>": [...], "meta": { "page_size": N, "next_page_token": T|null } }`.
/// `page_size` is 1…max (default 50); `page_token` is the opaque `next_page_token` of the
/// previous page (base64url of the store's cursor).
extension APICall {
    func pageRequest() throws(APIError) -> PageRequest {
        var size = options.defaultPageSize
        if let raw = query("page_size") {
            guard let n = Int(raw), (1...options.maxPageSize).contains(n) else {
                throw APIError.badRequest("invalid_page_size", "page_size must be an integer from 1 to \(options.maxPageSize)", field: "page_size")
            }
            size = n
        }
        var after: String?
        if let token = query("page_token"), !token.isEmpty {
            guard let cursor = PageToken.decode(token) else {
                throw APIError.badRequest("invalid_page_token", "page_token is not a token this API issued", field: "page_token")
            }
            after = cursor
        }
        return PageRequest(limit: size, after: after)
    }
}

enum PageToken {
    static func encode(_ cursor: String) -> String {
        Data(cursor.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String) -> String? {
        guard token.utf8.count <= 512 else { return nil }
        var s = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.utf8.count % 4 != 0 { s += "=" }
        guard let data = Data(base64Encoded: s), let text = String(data: data, encoding: .utf8), !text.isEmpty,
              !text.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return nil }
        return text
    }
}

/// `{ "<key>": [items], "meta": {...} }`.
struct ListEnvelope<Item: Encodable>: Encodable {
    let key: String
    let items: [Item]
    let pageSize: Int
    let nextCursor: String?

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Meta: Encodable {
        let pageSize: Int
        let nextPageToken: String?
        enum CodingKeys: String, CodingKey {
            case pageSize = "page_size"
            case nextPageToken = "next_page_token"
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(pageSize, forKey: .pageSize)
            try c.encode(nextPageToken, forKey: .nextPageToken)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(items, forKey: Key(key))
        try c.encode(Meta(pageSize: pageSize, nextPageToken: nextCursor.map(PageToken.encode)), forKey: Key("meta"))
    }
}

extension Reply {
    static func list<Item: Encodable>(_ key: String, _ page: Page<Item>, request: PageRequest) throws -> Response {
        try json(.ok, ListEnvelope(key: key, items: page.items, pageSize: request.limit, nextCursor: page.nextCursor))
    }
}
