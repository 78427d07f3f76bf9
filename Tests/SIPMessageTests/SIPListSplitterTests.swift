import Testing
@testable import SIPMessage

/// The parser walks Via and Contact values with `sipForEachListItem`, which skips splitting when
/// a value holds no comma and no quote: it must give exactly what `sipSplitList` gives.
@Suite struct SIPListSplitterTests {
    static func walked(_ value: Substring) -> Result<[String], SIPParseError> {
        var items: [String] = []
        do throws(SIPParseError) {
            try sipForEachListItem(value, location: "Via") { items.append(String($0)) }
            return .success(items)
        } catch {
            return .failure(error)
        }
    }

    static func split(_ value: Substring) -> Result<[String], SIPParseError> {
        do throws(SIPParseError) {
            return .success(try sipSplitList(value, location: "Via").map(String.init))
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: [
        "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1",
        "  SIP/2.0/UDP host;branch=z9hG4bK1 \t",
        "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b;branch=z9hG4bK2",
        "<sip:a@b;x=1,2>",
        "\"Smith, John\" <sip:j@b>",
        "\"a,b\" <sip:a@b>, <sip:c@d>",
        "a,,b", "a,", ",a", "", "   ", "\"unterminated",
        "<sip:a@b>;expires=60",
    ])
    func walkingMatchesSplitting(_ value: String) {
        let framed = "X\(value)Y".dropFirst().dropLast()  // a slice of a larger string, as in a message
        switch (Self.walked(framed), Self.split(framed)) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "items of \(value.debugDescription)")
        case (.failure(let a), .failure(let b)):
            #expect(a == b, "error of \(value.debugDescription)")
        case (let a, let b):
            Issue.record("\(value.debugDescription): walked \(a), split \(b)")
        }
    }
}
