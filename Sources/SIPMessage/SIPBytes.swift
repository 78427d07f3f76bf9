#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Byte-level access to the text a message is parsed from. The scanners walk raw UTF-8 through
// a pointer and keep integer offsets; Substrings are made only for what they return, because a
// walk with String indices costs a call (and a bounds check) per byte.

extension Substring {
    /// Calls `body` with this slice's UTF-8 bytes (contiguous for every native string; a
    /// bridged one is copied first).
    @inline(__always)
    func withUTF8Bytes<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        // The result travels in an Optional rather than a Result: it is moved out, not copied
        // (a parsed message copied field by field was a tenth of the parse).
        var failure: E?
        if let done = utf8.withContiguousStorageIfAvailable({ buffer -> R? in
            do throws(E) { return try body(buffer) } catch { failure = error; return nil }
        }) {
            if let failure { throw failure }
            return done!
        }
        var copy = self
        let value = copy.withUTF8 { buffer -> R? in
            do throws(E) { return try body(buffer) } catch { failure = error; return nil }
        }
        if let failure { throw failure }
        return value!
    }

    /// The part of this slice from UTF-8 offset `start` to `end` (offsets from its start; both
    /// must lie on character boundaries the caller found at ASCII delimiters).
    @inline(__always)
    func utf8Slice(_ start: Int, _ end: Int) -> Substring {
        let u = utf8
        let lower = u.index(u.startIndex, offsetBy: start)
        return Substring(u[lower..<u.index(lower, offsetBy: end - start)])
    }
}

extension Array where Element == UInt8 {
    /// Appends the UTF-8 of `text` in one copy. `append(contentsOf: text.utf8)` walks a
    /// Substring's view byte by byte (only String's own view has a bulk copy).
    @inline(__always)
    mutating func appendUTF8(_ text: Substring) {
        if text.utf8.withContiguousStorageIfAvailable({ append(contentsOf: $0) }) == nil {
            append(contentsOf: text.utf8)
        }
    }
}

enum SIPBytes {
    /// The offset of the first LF in `bytes` at or after `start` (memchr: the header section
    /// is scanned for line ends twice, and most of it is not LF).
    @inline(__always)
    static func firstLF(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        first(0x0A, in: bytes, from: start)
    }

    /// The offset of the first `byte` in `bytes` at or after `start`, found with memchr.
    @inline(__always)
    static func first(_ byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count,
              let hit = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
    }

    /// Offsets `start..<end` of `bytes` with SP/HTAB removed at both ends.
    @inline(__always)
    static func trimWSP(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int) {
        var start = start
        var end = end
        while start < end, SIPLexical.isWSP(bytes[start]) { start += 1 }
        while end > start, SIPLexical.isWSP(bytes[end - 1]) { end -= 1 }
        return (start, end)
    }

    /// ASCII case-insensitive equality of `bytes[start..<start + lower.count]` with `lower`
    /// (which must be lower case).
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int, _ lower: UnsafeBufferPointer<UInt8>) -> Bool {
        guard count == lower.count else { return false }
        for offset in 0..<count {
            let byte = bytes[start + offset]
            if ((byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte) != lower[offset] { return false }
        }
        return true
    }

    /// Exact equality of `bytes[start..<start + count]` with `other`.
    @inline(__always)
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard count == other.count, start + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[start + offset] != other[offset] { return false }
        return true
    }
}

extension StaticString {
    /// The literal's UTF-8 bytes (static storage, valid for the life of the program).
    var utf8Buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: utf8Start, count: utf8CodeUnitCount) }
}

/// UTF-8 offsets `start..<end` into a parsed value's `raw` text.
///
/// URIs, Vias and name-addrs keep their parts as spans and make a Substring only when a part is
/// read: a Substring costs a few hundred instructions to make and a reference count to copy, and
/// most parts of most messages are never read (a REGISTER's parse made some sixty of them).
struct SIPSpan: Sendable, Hashable {
    var start: Int32
    var end: Int32

    @inline(__always)
    init(_ start: Int, _ end: Int) {
        // Values are bounded by SIPMessageLimits (and refused above Int32.max by the parsers).
        self.start = Int32(truncatingIfNeeded: start)
        self.end = Int32(truncatingIfNeeded: end)
    }

    @inline(__always)
    init(_ range: Range<Int>) { self.init(range.lowerBound, range.upperBound) }

    var isEmpty: Bool { start == end }
}

extension Substring {
    /// The part of this text that `span` locates.
    @inline(__always)
    func slice(_ span: SIPSpan) -> Substring { utf8Slice(Int(span.start), Int(span.end)) }
}

/// Whether a parsed value's text is short enough for ``SIPSpan`` offsets.
@inline(__always)
func sipFitsSpans(_ text: Substring) -> Bool { text.utf8.count < Int(Int32.max) }
