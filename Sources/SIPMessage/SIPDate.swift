/// RFC 3261 §20.17 `SIP-date`: the RFC 1123 form, always in GMT.
enum SIPDate {
    private static let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"`.
    static func isValid(_ value: Substring) -> Bool {
        let u = Array(value.utf8)
        guard u.count == 29 else { return false }
        func text(_ r: Range<Int>) -> String { String(decoding: u[r], as: UTF8.self) }
        func digits(_ r: Range<Int>) -> Int? {
            var v = 0
            for b in u[r] { guard SIPLexical.isDigit(b) else { return nil }; v = v * 10 + Int(b - 0x30) }
            return v
        }
        guard days.contains(text(0..<3)), u[3] == UInt8(ascii: ","), u[4] == 0x20,
              let day = digits(5..<7), (1...31).contains(day), u[7] == 0x20,
              months.contains(text(8..<11)), u[11] == 0x20, digits(12..<16) != nil, u[16] == 0x20,
              let h = digits(17..<19), h < 24, u[19] == UInt8(ascii: ":"),
              let m = digits(20..<22), m < 60, u[22] == UInt8(ascii: ":"),
              let s = digits(23..<25), s < 61, u[25] == 0x20, text(26..<29) == "GMT" else { return false }
        return true
    }
}

/// `media-type = m-type SLASH m-subtype *(SEMI m-parameter)` (RFC 3261 §20.15).
enum SIPMediaType {
    static func isValid(_ value: Substring) -> Bool {
        let u = value.utf8
        var i = u.startIndex
        func skipWSP() { while i < u.endIndex, SIPLexical.isWSP(u[i]) { i = u.index(after: i) } }
        func token() -> Bool {
            let s = i
            while i < u.endIndex, SIPLexical.isToken(u[i]) { i = u.index(after: i) }
            return i > s
        }
        guard token() else { return false }
        skipWSP()
        guard i < u.endIndex, u[i] == UInt8(ascii: "/") else { return false }
        i = u.index(after: i)
        skipWSP()
        guard token() else { return false }
        return SIPParameters.scan(Substring(u[i...]), kind: .header, { _, _ in true }, onError: { _ in })
    }
}
