import Foundation
import SIPMessage
import Testing

/// Inputs that once broke a property of the fuzz harness (scripts/fuzz copies them into
/// FuzzRegressions/). Each must parse or be refused cleanly, and every URI in it must be
/// equivalent to itself and to its re-parse.
@Suite struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("FuzzRegressions")

    static func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    @Test func thereAreRegressionInputs() {
        #expect(!Self.files().isEmpty)
    }

    @Test(arguments: files())
    func regressionInputStaysFixed(_ name: String) throws {
        let bytes = try Array(Data(contentsOf: Self.directory.appendingPathComponent(name)))
        guard let message = try? SIPMessage.parse(bytes, framing: .datagram) else { return }
        var uris: [SIPURI] = []
        if let uri = message.requestURI { uris.append(uri) }
        for a in [message.from, message.to].compactMap({ $0 }) { uris.append(a.uri) }
        for c in message.contacts { if let a = c.address { uris.append(a.uri) } }
        for uri in uris {
            #expect(uri.isEquivalent(to: uri), "\(uri.raw)")
            let again = try SIPURI(parsing: Substring(String(uri.raw)))
            #expect(again.isEquivalent(to: uri) && uri.isEquivalent(to: again), "\(uri.raw)")
        }
        let reparsed = try SIPMessage.parse(message.serialized(), framing: .datagram)
        #expect(reparsed.headers.count >= message.headers.count - 1)
    }

    @Test func repeatedURIParameterComparesByFirstOccurrence() throws {
        let a = try SIPURI(parsing: "sip:pbx@198.51.100.23:5060;transport=0;transport=udp")
        let b = try SIPURI(parsing: "sip:pbx@198.51.100.23:5060;transport=0")
        let c = try SIPURI(parsing: "sip:pbx@198.51.100.23:5060;transport=udp")
        #expect(a.isEquivalent(to: a))
        #expect(a.isEquivalent(to: b) && b.isEquivalent(to: a))
        #expect(!a.isEquivalent(to: c) && !c.isEquivalent(to: a))
    }

    @Test func repeatedURIHeadersCompareAsAMultiset() throws {
        let a = try SIPURI(parsing: "sip:bob@198.51.100.23:5060?Subject=hi&priority=u&priority=urgent")
        let b = try SIPURI(parsing: "sip:bob@198.51.100.23:5060?priority=urgent&Subject=hi&priority=u")
        let c = try SIPURI(parsing: "sip:bob@198.51.100.23:5060?Subject=hi&priority=u&priority=u")
        #expect(a.isEquivalent(to: a) && a.isEquivalent(to: b) && b.isEquivalent(to: a))
        #expect(!a.isEquivalent(to: c) && !c.isEquivalent(to: a))
    }
}
