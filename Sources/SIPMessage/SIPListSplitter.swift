/// Splits a header value at top-level commas (outside quoted strings and `<…>`), RFC 3261 §7.3.1.
/// An empty element (`a,,b` or a trailing comma) is an error.
func sipSplitList(_ value: Substring, location: String) throws(SIPParseError) -> [Substring] {
    try value.withUTF8Bytes { u throws(SIPParseError) in
        var items: [Substring] = []
        var start = 0
        var i = 0
        var inAngle = false
        while i < u.count {
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
                let (itemStart, itemEnd) = SIPBytes.trimWSP(u, start, i)
                guard itemEnd > itemStart else { throw SIPParseError(.invalidHeaderValue, at: location, "empty list element") }
                items.append(value.utf8Slice(itemStart, itemEnd))
                start = i + 1
            }
            i += 1
        }
        let (lastStart, lastEnd) = SIPBytes.trimWSP(u, start, u.count)
        guard lastEnd > lastStart else { throw SIPParseError(.invalidHeaderValue, at: location, "empty list element") }
        items.append(value.utf8Slice(lastStart, lastEnd))
        return items
    }
}

/// Calls `body` with each element of a list header value, as ``sipSplitList(_:location:)``
/// splits it. Most values hold one element (one Via, one Contact): without a comma or a quote
/// there is nothing to split, and no array is made.
@inline(__always)
func sipForEachListItem(
    _ value: Substring, location: String, _ body: (Substring) throws(SIPParseError) -> Void
) throws(SIPParseError) {
    let single = value.withUTF8Bytes { u -> Range<Int>? in
        guard SIPBytes.first(0x2C, in: u) == nil, SIPBytes.first(0x22, in: u) == nil else { return nil }
        let (start, end) = SIPBytes.trimWSP(u, 0, u.count)
        return start..<end
    }
    guard let single else {
        for item in try sipSplitList(value, location: location) { try body(item) }
        return
    }
    guard !single.isEmpty else { throw SIPParseError(.invalidHeaderValue, at: location, "empty list element") }
    try body(single.count == value.utf8.count ? value : value.utf8Slice(single.lowerBound, single.upperBound))
}

/// Calls `body` for each top-level element without allocating an array (values are already validated).
func sipForEachListElement(_ value: Substring, _ body: (Substring) -> Void) {
    value.withUTF8Bytes { u in
        var start = 0
        var i = 0
        var inAngle = false
        while i < u.count {
            let b = u[i]
            if b == UInt8(ascii: "\""), let close = scanQuotedString(u, from: i) { i = close; continue }
            if b == UInt8(ascii: "<") { inAngle = true } else if b == UInt8(ascii: ">") { inAngle = false }
            if b == UInt8(ascii: ","), !inAngle {
                let (itemStart, itemEnd) = SIPBytes.trimWSP(u, start, i)
                body(value.utf8Slice(itemStart, itemEnd))
                start = i + 1
            }
            i += 1
        }
        let (lastStart, lastEnd) = SIPBytes.trimWSP(u, start, u.count)
        body(value.utf8Slice(lastStart, lastEnd))
    }
}

/// Why `u` is not a comma-separated list of tokens (`Allow`, `Supported`, `Require` …), or nil
/// when it is one. Checked over the bytes, with no Substring per element: a list of tokens
/// holds no quotes or brackets, so every comma separates, and a quoted or bracketed element is
/// refused as not a token.
func sipTokenListProblem(_ u: UnsafeBufferPointer<UInt8>) -> String? {
    var notToken = false
    var start = 0
    while start <= u.count {
        let comma = SIPBytes.first(UInt8(ascii: ","), in: u, from: start) ?? u.count
        let (itemStart, itemEnd) = SIPBytes.trimWSP(u, start, comma)
        if itemEnd == itemStart { return "empty list element" }
        if !notToken { notToken = !(itemStart..<itemEnd).allSatisfy { SIPLexical.isToken(u[$0]) } }
        start = comma + 1
    }
    return notToken ? "not a list of tokens" : nil
}
