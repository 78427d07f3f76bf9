/// Splits a header value at top-level commas (outside quoted strings and `<…>`), RFC 3261 §7.3.1.
/// An empty element (`a,,b` or a trailing comma) is an error.
func sipSplitList(_ value: Substring, location: String) throws(SIPParseError) -> [Substring] {
    let u = value.utf8
    var items: [Substring] = []
    var start = u.startIndex
    var i = u.startIndex
    var inAngle = false
    while i < u.endIndex {
        let b = u[i]
        if b == UInt8(ascii: "\"") {
            guard let close = scanQuotedString(u, from: i) else {
                throw SIPParseError(.invalidHeaderValue, at: location, "unterminated quoted string")
            }
            i = close
            continue
        }
        if b == UInt8(ascii: "<") { inAngle = true } else if b == UInt8(ascii: ">") { inAngle = false }
        if b == UInt8(ascii: ","), !inAngle {
            let item = Substring(u[start..<i]).trimmingWSP()
            guard !item.isEmpty else { throw SIPParseError(.invalidHeaderValue, at: location, "empty list element") }
            items.append(item)
            start = u.index(after: i)
        }
        i = u.index(after: i)
    }
    let last = Substring(u[start..<u.endIndex]).trimmingWSP()
    guard !last.isEmpty else { throw SIPParseError(.invalidHeaderValue, at: location, "empty list element") }
    items.append(last)
    return items
}

/// Calls `body` for each top-level element without allocating an array (values are already validated).
func sipForEachListElement(_ value: Substring, _ body: (Substring) -> Void) {
    let u = value.utf8
    var start = u.startIndex
    var i = u.startIndex
    var inAngle = false
    while i < u.endIndex {
        let b = u[i]
        if b == UInt8(ascii: "\""), let close = scanQuotedString(u, from: i) { i = close; continue }
        if b == UInt8(ascii: "<") { inAngle = true } else if b == UInt8(ascii: ">") { inAngle = false }
        if b == UInt8(ascii: ","), !inAngle {
            body(Substring(u[start..<i]).trimmingWSP())
            start = u.index(after: i)
        }
        i = u.index(after: i)
    }
    body(Substring(u[start..<u.endIndex]).trimmingWSP())
}
