/// One shared copy of strings that many records repeat (a trunk's sid in each of its 100,000
/// bindings, the same User-Agent from every phone of a model): a Swift `String` copy shares its
/// storage, so handing out the stored copy makes every repetition free. Bounded: past
/// `capacity` distinct strings, new ones are returned as they are.
struct StringInterner {
    private var strings: Set<String> = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    mutating func intern(_ text: String) -> String {
        if let index = strings.firstIndex(of: text) { return strings[index] }
        if strings.count < capacity { strings.insert(text) }
        return text
    }
}
