/// Cursor pagination: items ordered by sid; `nextCursor` is the last sid of the page when
/// more may follow.
public struct PageRequest: Sendable, Hashable {
    public var limit: Int
    public var after: String?

    public init(limit: Int = 50, after: String? = nil) {
        self.limit = max(1, min(limit, 1000))
        self.after = after
    }
}

public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
