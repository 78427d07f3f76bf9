import SIPMessage

/// Whether the digest `uri` parameter designates the Request-URI (RFC 3261 §22.4: the `uri`
/// must match; §19.1.4 defines URI equality). Identical text is the common case and needs no
/// parsing; otherwise both are parsed and compared, and text that does not parse matches nothing.
func urisMatch(_ digestURI: String, _ requestURI: String) -> Bool {
    if digestURI == requestURI { return true }
    guard let a = try? SIPURI(parsing: digestURI), let b = try? SIPURI(parsing: requestURI) else { return false }
    return a.isEquivalent(to: b)
}
