import Benchmark
import BenchmarkMessages
import SIPMessage

/// What the edge reads on every message: the transaction key and the dialog identifiers.
@inline(never)
func readEdgeFields(_ m: SIPMessage) -> Int {
    var n = 0
    n &+= m.topVia?.branch?.utf8.count ?? 0
    n &+= m.from?.tag?.utf8.count ?? 0
    n &+= m.to?.tag?.utf8.count ?? 0
    n &+= m.callID?.utf8.count ?? 0
    n &+= Int(m.cseq?.number ?? 0) &+ (m.cseq?.method.utf8.count ?? 0)
    n &+= m.requestURI?.host.utf8.count ?? 0
    return n
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 1_000,
        maxDuration: .seconds(5),
        maxIterations: 2_000_000
    )

    precondition(inviteBytes.count > 850 && inviteBytes.count < 950, "INVITE is \(inviteBytes.count) octets")
    let invite = try! SIPMessage.parse(inviteBytes)
    precondition(readEdgeFields(invite) > 0)
    _ = try! SIPMessage.parse(registerBytes)
    _ = try! SIPMessage.parse(okBytes)

    Benchmark("Parse INVITE+SDP (\(inviteBytes.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try SIPMessage.parse(inviteBytes))
        }
    }

    Benchmark("Parse REGISTER+Authorization (\(registerBytes.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try SIPMessage.parse(registerBytes))
        }
    }

    Benchmark("Parse 200 OK (\(okBytes.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try SIPMessage.parse(okBytes))
        }
    }

    Benchmark("Parse INVITE + read edge fields") { benchmark in
        for _ in benchmark.scaledIterations {
            let m = try SIPMessage.parse(inviteBytes)
            blackHole(readEdgeFields(m))
        }
    }

    Benchmark("Parse INVITE + read edge fields + serialize") { benchmark in
        for _ in benchmark.scaledIterations {
            let m = try SIPMessage.parse(inviteBytes)
            blackHole(readEdgeFields(m))
            blackHole(m.serialized())
        }
    }

    Benchmark("Serialize parsed INVITE") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(invite.serialized())
        }
    }

    Benchmark("Read edge fields (parsed INVITE)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(readEdgeFields(invite))
        }
    }
}
