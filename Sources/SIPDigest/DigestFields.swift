import SIPMessage

/// UTF-8 text that Digest fields point into (a raw header value, or the values of a parsed
/// header laid end to end). Valid only while the caller keeps the bytes alive.
struct DigestText {
    let bytes: UnsafeBufferPointer<UInt8>

    subscript(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[range])
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: self[range], as: UTF8.self)
    }

    /// Whether the text at `range` equals `other` as Swift compares strings (canonical
    /// equivalence), without building a string unless non-ASCII bytes differ.
    func equals(_ range: Range<Int>, _ other: String) -> Bool {
        let bytes = self[range]
        let identical = withContiguousUTF8(other) { other in
            guard other.count == bytes.count else { return false }
            for index in 0..<bytes.count where bytes[index] != other[index] { return false }
            return true
        }
        if identical { return true }
        if bytes.allSatisfy({ $0 < 0x80 }), other.utf8.allSatisfy({ $0 < 0x80 }) { return false }
        return string(range) == other
    }
}

/// Where the Digest parameters that verification reads lie in a ``DigestText`` (values unescaped).
struct DigestParameterSlots {
    /// The effective user name (``SIPAuthHeader/effectiveUsername``).
    var username: Range<Int>?
    var usernameStar: Range<Int>?
    var realm: Range<Int>?
    var nonce: Range<Int>?
    var uri: Range<Int>?
    var response: Range<Int>?
    var userhash: Range<Int>?
    var algorithm: Range<Int>?
    var qop: Range<Int>?
    var cnonce: Range<Int>?
    var opaque: Range<Int>?
    var nc: Range<Int>?

    private enum Slot {
        case username, usernameStar, realm, nonce, uri, response, userhash, algorithm, qop, cnonce, opaque, nc

        /// The slot a parameter name (any case) designates: its first eight bytes, lower-cased
        /// and packed little-endian, and its length decide (a ninth byte is checked apart).
        init?(name: UnsafeBufferPointer<UInt8>) {
            let count = name.count
            guard count >= 2, count <= 9 else { return nil }
            // Setting bit 5 of every byte lower-cases letters; among token characters only a
            // letter's upper-case form becomes that lower-case letter, so no other name matches.
            var packed: UInt64 = 0
            withUnsafeMutableBytes(of: &packed) { $0.baseAddress!.copyMemory(from: name.baseAddress!, byteCount: min(count, 8)) }
            packed = UInt64(littleEndian: packed) | (0x2020_2020_2020_2020 >> UInt64(8 * (8 - min(count, 8))))
            switch (count, packed) {
            case (2, 0x636E): self = .nc  // "nc"
            case (3, 0x69_7275): self = .uri  // "uri"
            case (3, 0x70_6F71): self = .qop  // "qop"
            case (5, 0x6D_6C61_6572): self = .realm  // "realm"
            case (5, 0x65_636E_6F6E): self = .nonce  // "nonce"
            case (6, 0x6563_6E6F_6E63): self = .cnonce  // "cnonce"
            case (6, 0x6575_7161_706F): self = .opaque  // "opaque"
            case (8, 0x656D_616E_7265_7375): self = .username  // "username"
            case (8, 0x6573_6E6F_7073_6572): self = .response  // "response"
            case (8, 0x6873_6168_7265_7375): self = .userhash  // "userhash"
            case (9, 0x656D_616E_7265_7375) where name[8] == UInt8(ascii: "*"): self = .usernameStar  // "username*"
            case (9, 0x6874_6972_6F67_6C61) where ASCII.lowercased(name[8]) == UInt8(ascii: "m"): self = .algorithm  // "algorithm"
            default: return nil
            }
        }
    }

    /// The slot of a parameter name, for tests of the packed constants.
    static func isReadParameter(_ name: String) -> Bool {
        withContiguousUTF8(name) { Slot(name: $0) != nil }
    }

    init() {}

    /// Scans a raw header value in place. Nil unless it is a Digest header whose parameters can
    /// be read as they stand: it parses, every parameter read here is verbatim (no escape or fold
    /// to undo) and there is no `username*` (so the effective user name is `username`). Other
    /// headers take the general path through ``SIPAuthHeader``, which gives the same result.
    static func scanning(_ text: UnsafeBufferPointer<UInt8>) -> DigestParameterSlots? {
        var slots = DigestParameterSlots()
        var readable = true
        let scanned = SIPAuthHeader.scan(utf8: text) { raw in
            guard let slot = Slot(name: raw.name) else { return }
            if !raw.isVerbatim { readable = false }
            slots.set(slot, raw.valueOffsets)
        }
        guard case .success(let outcome) = scanned, outcome.isDigest, readable, slots.usernameStar == nil else { return nil }
        return slots
    }

    /// The values of a parsed header, laid end to end in `storage`.
    init(_ header: SIPAuthHeader, storage: inout [UInt8]) {
        storage.removeAll(keepingCapacity: true)
        func place(_ value: String?) -> Range<Int>? {
            guard let value else { return nil }
            let start = storage.count
            storage.append(contentsOf: value.utf8)
            return start..<storage.count
        }
        username = place(header.effectiveUsername)
        usernameStar = place(header["username*"])
        realm = place(header["realm"])
        nonce = place(header["nonce"])
        uri = place(header["uri"])
        response = place(header["response"])
        userhash = place(header["userhash"])
        algorithm = place(header["algorithm"])
        qop = place(header["qop"])
        cnonce = place(header["cnonce"])
        opaque = place(header["opaque"])
        nc = place(header["nc"])
    }

    private mutating func set(_ slot: Slot, _ range: Range<Int>) {
        switch slot {
        case .username: username = range
        case .usernameStar: usernameStar = range
        case .realm: realm = range
        case .nonce: nonce = range
        case .uri: uri = range
        case .response: response = range
        case .userhash: userhash = range
        case .algorithm: algorithm = range
        case .qop: qop = range
        case .cnonce: cnonce = range
        case .opaque: opaque = range
        case .nc: nc = range
        }
    }
}

/// ``DigestCredentials`` as positions in a ``DigestText``: the same checks, no string built.
struct DigestFields {
    var username: Range<Int>
    var userhash: Bool
    var realm: Range<Int>
    var nonce: Range<Int>
    var uri: Range<Int>
    var response: Range<Int>
    /// nil when absent (which means `MD5`).
    var algorithmToken: Range<Int>?
    var algorithm: DigestAlgorithm?
    var qopToken: Range<Int>?
    var qop: DigestQOP?
    var ncText: Range<Int>?
    var nc: UInt32?
    var cnonce: Range<Int>?
    var opaque: Range<Int>?

    /// The checks of ``DigestCredentials/init(_:)`` after the scheme.
    init(_ slots: DigestParameterSlots, in text: DigestText) throws(DigestFailure) {
        guard let username = slots.username, let realm = slots.realm, let nonce = slots.nonce,
              let uri = slots.uri, let response = slots.response, !response.isEmpty,
              ASCII.isAllHex(text[response])
        else { throw .malformedHeader }
        switch slots.userhash {
        case nil: userhash = false
        case let flag? where ASCII.equalsIgnoringCase(text[flag], "false"): userhash = false
        case let flag? where ASCII.equalsIgnoringCase(text[flag], "true"): userhash = true
        default: throw .malformedHeader
        }
        // A userhash is the hash of a plain name, never of an RFC 8187 one.
        if userhash, slots.usernameStar != nil { throw .malformedHeader }
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        algorithmToken = slots.algorithm
        if let token = slots.algorithm {
            algorithm = DigestAlgorithm(utf8: text[token])
        } else {
            algorithm = .md5
        }
        qopToken = slots.qop
        qop = slots.qop.flatMap { DigestQOP(utf8: text[$0]) }
        cnonce = slots.cnonce
        opaque = slots.opaque
        ncText = slots.nc
        if let ncText {
            // nc = 8LHEX; upper case is tolerated (it is hashed as sent anyway).
            let digits = text[ncText]
            guard digits.count == 8, ASCII.isAllHex(digits) else { throw .malformedHeader }
            var value: UInt32 = 0
            for digit in digits { value = value << 4 | UInt32(ASCII.hexValue(digit)) }
            guard value > 0 else { throw .malformedHeader }
            nc = value
        }
        if qopToken != nil {
            guard nc != nil, let cnonce, !cnonce.isEmpty else { throw .malformedHeader }
        } else if nc != nil {
            throw .malformedHeader
        }
        if algorithm?.isSession == true, (cnonce?.isEmpty ?? true) { throw .malformedHeader }
    }
}

extension DigestAlgorithm {
    /// ``init(token:)`` over UTF-8 bytes (each algorithm name has its own length).
    init?(utf8 token: UnsafeBufferPointer<UInt8>) {
        let candidate: DigestAlgorithm
        switch token.count {
        case 3: candidate = .md5
        case 7: candidate = .sha256
        case 8: candidate = .md5Sess
        case 11: candidate = .sha512_256
        case 12: candidate = .sha256Sess
        case 16: candidate = .sha512_256Sess
        default: return nil
        }
        guard ASCII.equalsIgnoringCase(token, candidate.rawValue) else { return nil }
        self = candidate
    }
}

extension DigestQOP {
    /// ``init(token:)`` over UTF-8 bytes (each qop name has its own length).
    init?(utf8 token: UnsafeBufferPointer<UInt8>) {
        let candidate: DigestQOP
        switch token.count {
        case 4: candidate = .auth
        case 8: candidate = .authInt
        default: return nil
        }
        guard ASCII.equalsIgnoringCase(token, candidate.rawValue) else { return nil }
        self = candidate
    }
}
