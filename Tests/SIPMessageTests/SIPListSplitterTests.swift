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

    /// `Allow`, `Supported`, `Require` … are checked over the bytes (`sipTokenListProblem`)
    /// rather than split into Substrings: it must accept and refuse what splitting and then
    /// checking each element for a token accepts and refuses.
    @Test(arguments: [
        "INVITE, ACK, CANCEL, OPTIONS, BYE", "INVITE", " INVITE ,\tACK ", "100rel,timer",
        "a,,b", "a,", ",a", "", "   ", "a, ,b", "INVITE ACK", "\"INVITE\"", "\"a,b\"", "\"unterminated",
        "<a>", "a;b", "a,b;c", "x-y.z!%*_+`'~",
    ])
    func tokenListCheckAgreesWithSplitting(_ value: String) {
        let framed = "X\(value)Y".dropFirst().dropLast()
        let byBytes = framed.withUTF8Bytes(sipTokenListProblem)
        let bySplitting: String?
        do throws(SIPParseError) {
            let items = try sipSplitList(framed, location: "Allow")
            bySplitting = items.allSatisfy { $0.utf8.allSatisfy(SIPLexical.isToken) } ? nil : "not a list of tokens"
        } catch {
            bySplitting = error.detail
        }
        #expect((byBytes == nil) == (bySplitting == nil), "\(value.debugDescription): bytes \(String(describing: byBytes)), split \(String(describing: bySplitting))")
        if bySplitting == "empty list element" { #expect(byBytes == "empty list element", "\(value.debugDescription)") }
    }
}
