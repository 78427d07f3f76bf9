import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// NOTE: Tests/TrunkgateStoreTests/PostgresTestServer.swift and
// Tests/TrunkgateAPITests/PostgresTestServer.swift are the same file (test targets cannot share
// code); change both.

/// A throwaway PostgreSQL server for the tests, started once per test process on first use:
/// `initdb` into a temp directory, a free port on 127.0.0.1, trust authentication, no fsync.
/// `TRUNKGATE_TEST_POSTGRES_URL` names an existing server instead (scripts/test, CI).
///
/// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (via
/// `runuser`, creating the user when missing). A watchdog shell in its own process group stops
/// the server and removes its directory once this test process is gone, however it ends.
///
/// Child processes are started with `posix_spawn` and waited for with `waitpid` on a Dispatch
/// thread, never on the Swift concurrency pool (Foundation's `Process.waitUntilExit` blocked a
/// pool thread and, on a 2-core machine, stalled the whole test run).
actor PostgresTestServer {
    static let shared = PostgresTestServer()

    static var configuredURL: String? {
        let v = ProcessInfo.processInfo.environment["TRUNKGATE_TEST_POSTGRES_URL"] ?? ""
        return v.isEmpty ? nil : v
    }

    /// `TRUNKGATE_PG_BIN`, else the newest /usr/lib/postgresql/*/bin, else `initdb` on PATH.
    static func binDirectory() -> String? {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["TRUNKGATE_PG_BIN"], fm.isExecutableFile(atPath: dir + "/initdb") { return dir }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for v in versions where fm.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") { return "\(root)/\(v)/bin" }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") where fm.isExecutableFile(atPath: "\(dir)/initdb") {
            return String(dir)
        }
        return nil
    }

    /// True when PostgreSQL tests should run: a URL is configured, the binaries are installed,
    /// or `CI` is set (then a missing PostgreSQL fails the tests instead of skipping them).
    static var available: Bool {
        configuredURL != nil || binDirectory() != nil || ProcessInfo.processInfo.environment["CI"] != nil
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var starting: Task<String, any Error>?

    /// The server's URL (`postgres://postgres@127.0.0.1:PORT/trunkgate_test?sslmode=disable`),
    /// starting it on the first call. A failed start fails every later call the same way.
    func url() async throws -> String {
        if let configured = Self.configuredURL { return configured }
        if let starting { return try await starting.value }
        let task = Task { try await Self.start() }
        starting = task
        return try await task.value
    }

    private static func start() async throws -> String {
        guard let bin = binDirectory() else {
            throw Failure(description: "PostgreSQL binaries not found (install postgresql, or set TRUNKGATE_PG_BIN or TRUNKGATE_TEST_POSTGRES_URL)")
        }
        let dir = "/tmp/trunkgate-pg-\(getpid())-\(Int.random(in: 100_000...999_999))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var prefix: [String] = []
        if getuid() == 0 {
            if try await run(["/usr/bin/id", "-u", "postgres"]) != 0 {
                try await check(["/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], log: dir + "/useradd.log")
            }
            try await check(["/bin/chown", "postgres", dir], log: nil)
            prefix = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        }
        let data = dir + "/data"
        try await check(prefix + ["\(bin)/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], log: dir + "/initdb.log")
        var port = 0
        for attempt in 0..<8 {
            let candidate = Int.random(in: 20_000...60_000)
            let options = "-p \(candidate) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
            let status = try await run(prefix + ["\(bin)/pg_ctl", "-D", data, "-o", options, "-l", dir + "/server.log", "-w", "-t", "60", "start"],
                                       log: dir + "/pg_ctl.log")
            if status == 0 { port = candidate; break }
            if attempt == 7 {
                let log = (try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? ""
                throw Failure(description: "pg_ctl start failed: \(log.suffix(2000))")
            }
        }
        // Stop the server and remove its files once this process is gone.
        let stop = (prefix + ["\(bin)/pg_ctl", "-D", data, "-m", "immediate", "stop"]).map { "'\($0)'" }.joined(separator: " ")
        _ = try spawn(["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf '\(dir)'"],
                      log: nil, ownProcessGroup: true)
        try await check(prefix + ["\(bin)/createdb", "-h", dir, "-p", "\(port)", "-U", "postgres", "trunkgate_test"], log: dir + "/createdb.log")
        return "postgres://postgres@127.0.0.1:\(port)/trunkgate_test?sslmode=disable"
    }

    private static func check(_ argv: [String], log: String?) async throws {
        let status = try await run(argv, log: log)
        guard status == 0 else {
            let text = log.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
            throw Failure(description: "\(argv.joined(separator: " ")) exited \(status): \(text.suffix(2000))")
        }
    }

    /// Runs `argv` to completion (stdout and stderr appended to `log`) and returns its exit status.
    private static func run(_ argv: [String], log: String? = nil) async throws -> Int32 {
        let pid = try spawn(argv, log: log, ownProcessGroup: false)
        return await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 {
                    if errno != EINTR { c.resume(returning: -1); return }
                }
                // WIFEXITED / WEXITSTATUS
                c.resume(returning: status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F))
            }
        }
    }

    private static func spawn(_ argv: [String], log: String?, ownProcessGroup: Bool) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environ)
        guard rc == 0 else { throw Failure(description: "cannot start \(argv[0]): error \(rc)") }
        return pid
    }
}
