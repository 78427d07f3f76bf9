// A plain driver for profilers (valgrind --tool=callgrind, perf): parses one message kind in a
// loop, with no benchmark harness around it, and prints a rough single-thread rate.
//   SIPParserProfile [invite|register|ok|edge|serialize] [iterations]
import BenchmarkMessages
import SIPMessage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(never)
func consume(_ m: SIPMessage) -> Int {
    var n = m.topVia?.branch?.utf8.count ?? 0
    n &+= m.from?.tag?.utf8.count ?? 0
    n &+= m.to?.tag?.utf8.count ?? 0
    n &+= m.callID?.utf8.count ?? 0
    n &+= Int(m.cseq?.number ?? 0)
    n &+= m.requestURI?.host.utf8.count ?? 0
    return n
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let args = CommandLine.arguments
let mode = args.count > 1 ? args[1] : "invite"
let iterations = args.count > 2 ? Int(args[2]) ?? 100_000 : 100_000
let bytes: [UInt8]
switch mode {
case "register": bytes = registerBytes
case "ok": bytes = okBytes
default: bytes = inviteBytes
}

var sink = 0
let parsed = try SIPMessage.parse(bytes)
let start = now()
for _ in 0..<iterations {
    switch mode {
    case "edge":
        sink &+= consume(try SIPMessage.parse(bytes))
    case "serialize":
        sink &+= parsed.serialized().count
    default:
        sink &+= (try SIPMessage.parse(bytes)).headers.count
    }
}
let elapsed = now() - start
print("\(mode): \(iterations) iterations of \(bytes.count) B in \(Int(elapsed * 1000)) ms = \(Int(Double(iterations) / elapsed)) ops/s (sink \(sink))")
