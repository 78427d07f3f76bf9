// Realistic messages as a carrier trunk or a PBX sends them. Lines are joined with CRLF.

func crlf(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: "\r\n").utf8) }

func withBody(_ head: [String], body: [String]) -> [UInt8] {
    let b = body.joined(separator: "\r\n") + "\r\n"
    return crlf(head + ["Content-Length: \(b.utf8.count)", "", b])
}

/// About 900 octets: a typical INVITE from an upstream carrier, SDP offer of ~300 octets.
public let inviteBytes: [UInt8] = withBody([
    "INVITE sip:+4930123456789@trunk.example.net;user=phone SIP/2.0",
    "Via: SIP/2.0/UDP 203.0.113.17:5060;branch=z9hG4bK-524287-1---a83bd1c3f6e40e2b;rport",
    "Max-Forwards: 69",
    "From: \"Alice Example\" <sip:+4989700700@carrier.example.com;user=phone>;tag=9fxced76sl",
    "To: \"Berlin Office\" <sip:+4930123456789@trunk.example.net;user=phone>",
    "Call-ID: 3848276298220188511@203.0.113.17",
    "CSeq: 314159 INVITE",
    "Contact: <sip:+4989700700@203.0.113.17:5060;transport=udp>",
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, UPDATE, PRACK",
    "Supported: replaces, timer, 100rel",
    "User-Agent: CarrierSBC/4.2.1",
    "Content-Type: application/sdp",
], body: [
    "v=0",
    "o=- 1697812331 1697812331 IN IP4 203.0.113.17",
    "s=SBC Call",
    "c=IN IP4 203.0.113.18",
    "t=0 0",
    "m=audio 40000 RTP/AVP 8 0 18 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:18 G729/8000",
    "a=fmtp:18 annexb=no",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
    "a=ptime:20",
    "a=sendrecv",
])

/// A PBX re-registering with its credentials (RFC 2617 / RFC 8760 Digest).
public let registerBytes: [UInt8] = crlf([
    "REGISTER sip:trunk.example.net SIP/2.0",
    "Via: SIP/2.0/UDP 198.51.100.23:5060;branch=z9hG4bK-d8754z-4a2b7f7c2e8d3b1a;rport",
    "Max-Forwards: 70",
    "From: \"Office PBX\" <sip:pbx-berlin@trunk.example.net>;tag=3f2a9c71",
    "To: \"Office PBX\" <sip:pbx-berlin@trunk.example.net>",
    "Call-ID: 5b1e3a4f2c9d8e7f6a5b4c3d2e1f0a9b@198.51.100.23",
    "CSeq: 42 REGISTER",
    "Contact: <sip:pbx-berlin@198.51.100.23:5060;transport=udp>;expires=3600",
    "Authorization: Digest username=\"pbx-berlin\", realm=\"trunk.example.net\", nonce=\"5f3a9b2c1d4e8f7a6b5c4d3e2f1a0b9c\", uri=\"sip:trunk.example.net\", response=\"a1b2c3d4e5f60718293a4b5c6d7e8f90\", algorithm=MD5, cnonce=\"0a4f113b\", qop=auth, nc=00000001",
    "Expires: 3600",
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY",
    "User-Agent: Asterisk PBX 20.5.0",
    "Content-Length: 0",
    "",
    "",
])

/// The 200 OK a PBX answers an INVITE with (no body, as after a 183 with SDP).
public let okBytes: [UInt8] = crlf([
    "SIP/2.0 200 OK",
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;received=192.0.2.10;rport=5060",
    "Via: SIP/2.0/UDP 203.0.113.17:5060;branch=z9hG4bK-524287-1---a83bd1c3f6e40e2b;rport=5060",
    "Record-Route: <sip:192.0.2.10;lr>",
    "From: \"Alice Example\" <sip:+4989700700@carrier.example.com;user=phone>;tag=9fxced76sl",
    "To: \"Berlin Office\" <sip:+4930123456789@trunk.example.net;user=phone>;tag=as6f3c1d2e",
    "Call-ID: 3848276298220188511@203.0.113.17",
    "CSeq: 314159 INVITE",
    "Contact: <sip:+4930123456789@198.51.100.23:5060>",
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY",
    "Supported: replaces, timer",
    "Server: Asterisk PBX 20.5.0",
    "Content-Length: 0",
    "",
    "",
])
