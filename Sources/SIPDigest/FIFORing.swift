/// A first-in-first-out queue with a fixed maximum size; storage grows on demand up to it.
struct FIFORing<Element> {
    let capacity: Int
    private var storage: [Element] = []
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    var isFull: Bool { count == capacity }
    var first: Element? { count == 0 ? nil : storage[head] }

    mutating func append(_ element: Element) {
        precondition(!isFull, "append to a full FIFORing")
        // Writes go round in order, so the next slot is either reused or exactly the end.
        let slot = (head + count) % capacity
        if slot == storage.count { storage.append(element) } else { storage[slot] = element }
        count += 1
    }

    mutating func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        head = (head + 1) % capacity
        count -= 1
        return element
    }
}
