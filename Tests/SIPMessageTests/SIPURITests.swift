import Testing
@testable import SIPMessage

@Suite struct SIPURITests {
    @Test func components() throws {
        let u = try SIPURI(parsing: "sips:alice:secret@[2001:db8::10]:5061;transport=tls;lr?subject=project%20x&priority=urgent")
        #expect(u.scheme == .sips)
        #expect(u.user == "alice")
        #expect(u.password == "secret")
        #expect(u.host == "[2001:db8::10]")
        #expect(u.normalizedHost == "2001:db8::10")
        #expect(u.port == 5061)
        #expect(u.transportParameter == "tls")
        #expect(u.parameters.contains("lr"))
        #expect(u.parameters.value("lr") == nil)
        #expect(u.headers == "subject=project%20x&priority=urgent")
        let tel = try SIPURI(parsing: "tel:+1-201-555-0123;phone-context=example.com")
        #expect(tel.scheme == .tel)
        #expect(tel.user == "+1-201-555-0123")
        let other = try SIPURI(parsing: "urn:service:sos")
        #expect(other.scheme == .other("urn"))
        #expect(other.description == "urn:service:sos")
    }

    /// URIs, name-addrs and Vias keep their parts as offsets into their own text: read from a
    /// value in the middle of a larger text (as every header value is), each part must still be
    /// that value's, and equal values from different places compare and hash alike.
    @Test func partsOfAValueInsideALargerTextAreItsOwn() throws {
        let text = "junk;before sip:bob:pw@host.example:5070;transport=tcp;lr?h=v junk;after"
        let slice = text.dropFirst(12).dropLast(11)
        let u = try SIPURI(parsing: slice)
        #expect(u.raw == "sip:bob:pw@host.example:5070;transport=tcp;lr?h=v")
        #expect(u.user == "bob")
        #expect(u.password == "pw")
        #expect(u.host == "host.example")
        #expect(u.port == 5070)
        #expect(u.parameters.raw == ";transport=tcp;lr")
        #expect(u.headers == "h=v")
        let alone = try SIPURI(parsing: "sip:bob:pw@host.example:5070;transport=tcp;lr?h=v")
        #expect(u == alone)
        #expect(u.hashValue == alone.hashValue)
        #expect(u != (try SIPURI(parsing: "sip:bob:pw@host.example:5071;transport=tcp;lr?h=v")))

        let na = try SIPNameAddr(parsing: "xx\"Bob\" <sip:bob@b.example>;tag=9;q=0.5yy".dropFirst(2).dropLast(2))
        #expect(na.displayNameRaw == "\"Bob\"")
        #expect(na.displayName == "Bob")
        #expect(na.uri.raw == "sip:bob@b.example")
        #expect(na.uri.host == "b.example")
        #expect(na.parameters.raw == ";tag=9;q=0.5")
        #expect(na.tag == "9")
        let bare = try SIPNameAddr(parsing: "zz sip:carol@c.example;tag=1".dropFirst(3))
        #expect(bare.displayNameRaw == nil)
        #expect(bare.bracketed == false)
        #expect(bare.uri.raw == "sip:carol@c.example")
        #expect(bare.tag == "1")

        let via = try SIPVia(parsing: "Via: SIP / 2.0 / TCP [2001:db8::9]:5080 ;branch=z9hG4bKx;rport=7;ttl=3".dropFirst(5))
        #expect(via.protocolName == "SIP")
        #expect(via.protocolVersion == "2.0")
        #expect(via.transport == "TCP")
        #expect(via.host == "[2001:db8::9]")
        #expect(via.port == 5080)
        #expect(via.branch == "z9hG4bKx")
        #expect(via.rport == .value(7))
        #expect(via.ttl == 3)
        #expect(throws: SIPParseError.self) { try SIPVia(parsing: "SIP/2.0/UDP h;ttl=256") }
        #expect(throws: SIPParseError.self) { try SIPVia(parsing: "SIP/2.0/UDP h;rport=70000") }
        #expect(throws: SIPParseError.self) { try SIPVia(parsing: "SIP/2.0/UDP h;=x") }
        #expect(throws: SIPParseError.self) { try SIPNameAddr(parsing: "<sip:a@b>;tag=\"open") }
    }

    @Test(arguments: [
        "sip:", "sip:@example.com", "sip:user@", "sip:user@exa mple.com", "sip:2001:db8::10",
        "sip:host:99999", "sip:host:", "sip:[2001:db8::1", "sip:host;=x", "sip:host?x", "sip:a b@host",
        "<sip:host>", "", "sip:host;lr;", "tel:", "1sip:host",
    ])
    func refused(_ text: String) {
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: text) }
    }

    /// RFC 3261 §19.1.4: these are equivalent.
    @Test(arguments: [
        ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
        ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
        ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
        ("sip:alice@atlanta.com?subject=project%20x&priority=urgent", "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
        ("sip:[2001:db8::10]:5060", "sip:[2001:DB8::10]:5060"),
    ])
    func equivalent(_ a: String, _ b: String) throws {
        let x = try SIPURI(parsing: a), y = try SIPURI(parsing: b)
        #expect(x.isEquivalent(to: y))
        #expect(y.isEquivalent(to: x))
    }

    /// RFC 3261 §19.1.4: these are not.
    @Test(arguments: [
        ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
        ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
        ("sip:alice@example.com", "sips:alice@example.com"),
        ("sip:alice@example.com;maddr=192.0.2.1", "sip:alice@example.com"),
    ])
    func notEquivalent(_ a: String, _ b: String) throws {
        let x = try SIPURI(parsing: a), y = try SIPURI(parsing: b)
        #expect(!x.isEquivalent(to: y))
        #expect(!y.isEquivalent(to: x))
    }

    @Test func uriParameterValuesAreNotUnescapedTwice() throws {
        // RFC 4475 §3.1.1.3: value%41 is not valueA... once decoded it is "valueA" only after one pass.
        let a = try SIPURI(parsing: "sip:host;name=value%2541")
        let b = try SIPURI(parsing: "sip:host;name=valueA")
        #expect(!a.isEquivalent(to: b))
    }
}
