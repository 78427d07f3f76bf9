#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#elseif canImport(Darwin)
public import Darwin
#endif
public import Synchronization

/// A small number for the calling OS thread: the first thread that asks gets 0, the next 1,
/// and so on. It picks a thread's own shard of state that every event loop touches per
/// message, so that the loops do not contend for one lock (and one cache line).
public enum ThreadIndex {
    // One key for the process, never deleted; the value is the index + 1 as a pointer's bits,
    // so nothing is allocated and nothing needs freeing when a thread exits.
    @usableFromInline static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()
    @usableFromInline static let next = Atomic<Int>(0)

    @inlinable
    public static var current: Int {
        let key = key
        if let bits = pthread_getspecific(key) { return Int(bitPattern: bits) - 1 }
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: index + 1))
        return index
    }
}

/// State split into a few shards, each behind its own lock, picked by ``ThreadIndex``: a
/// thread nearly always takes its own shard's lock, uncontended, and that lock's cache line
/// stays on its core. Two threads may share a shard (more threads than shards); that costs
/// contention, never correctness.
public final class ThreadShards<State: Sendable>: Sendable {
    /// One shard, padded so that two shards' locks do not share a cache line.
    @usableFromInline final class Shard: Sendable {
        @usableFromInline let lock: Mutex<State>
        private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        init(_ state: State) { lock = Mutex(state) }
    }

    // Inlinable (like the methods below) so that each use is specialized for its state: a
    // generic call per message would look up type metadata at run time.
    @usableFromInline let shards: [Shard]

    /// `count` shards, each starting as `make()`.
    public init(count: Int = ThreadShards.defaultCount, _ make: () -> State) {
        shards = (0..<max(1, count)).map { _ in Shard(make()) }
    }

    /// Twice the cores (at least 4). Indices go to threads in the order they first ask, so the
    /// event loops (one per core) usually get a shard each; two that collide share one.
    public static var defaultCount: Int { max(4, 2 * sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    public var count: Int { shards.count }

    /// Runs `body` on the calling thread's shard, under its lock.
    @inlinable
    public func withCurrent<R: Sendable>(_ body: (inout State) throws -> R) rethrows -> R {
        try shards[ThreadIndex.current % shards.count].lock.withLock { try body(&$0) }
    }

    /// Runs `body` on every shard in turn (each under its own lock), e.g. to drain them.
    @inlinable
    public func forEach(_ body: (inout State) -> Void) {
        for shard in shards { shard.lock.withLock { body(&$0) } }
    }
}

/// A value read on every message and replaced rarely (the configuration snapshot, the nonce
/// keys). Each thread reads its own copy under its own shard's lock; a replacement is written
/// into every copy before it returns, so a reader never takes a lock that another thread's
/// reads take, and no thread that has stopped reading keeps an old value (a whole snapshot)
/// alive.
public final class ReadMostly<Value: Sendable>: Sendable {
    @usableFromInline struct Copy: Sendable {
        /// Orders replacements that race: a copy never goes back to an older one.
        @usableFromInline var version: Int
        @usableFromInline var value: Value
        @usableFromInline init(version: Int, value: Value) {
            self.version = version
            self.value = value
        }
    }

    /// The latest value; its lock orders replacements and updates.
    private let source: Mutex<Copy>
    @usableFromInline let copies: ThreadShards<Copy>

    public init(_ value: Value, shards: Int = ThreadShards<Value>.defaultCount) {
        source = Mutex(Copy(version: 0, value: value))
        copies = ThreadShards(count: shards) { Copy(version: 0, value: value) }
    }

    /// The latest value: what the last ``replace(_:)`` or ``update(_:)`` installed, once it
    /// returned.
    @inlinable
    public var value: Value {
        copies.withCurrent { $0.value }
    }

    public func replace(_ next: Value) {
        update { $0 = next }
    }

    /// Applies `body` to the latest value and installs the result, atomically with respect to
    /// other updates; returns what `body` returned.
    public func update<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
        let (result, fresh) = try source.withLock { s in
            let result = try body(&s.value)
            s.version &+= 1
            return (result, s)
        }
        // Outside the source lock, which readers never take. A newer value installed meanwhile
        // by a racing update is not overwritten.
        copies.forEach { copy in
            if copy.version < fresh.version { copy = fresh }
        }
        return result
    }
}
