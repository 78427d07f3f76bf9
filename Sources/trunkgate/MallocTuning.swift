#if canImport(Glibc)
import Glibc

/// glibc's allocator settings for the long-running edge, set once at `serve` start.
///
/// A fixed mmap threshold: every allocation of 256 KiB or more (a trunk's credential table
/// with 100,000 entries is ~25 MB, and each credential change copies it; the registrar's and
/// the transaction table's bucket arrays) gets pages of its own, handed back to the system the
/// moment it is freed. By default glibc raises the threshold each time such a block is freed,
/// after which the big blocks come from the arenas and leave holes between the small live
/// objects that `malloc_trim` cannot return. With 100,000 credentials and 100,000 bindings
/// loaded live, RSS after the load settled at ~300 MiB with the default and ~240 MiB with this
/// (scripts/bench-scale; the heap in use is ~150 MiB either way).
/// `MALLOC_MMAP_THRESHOLD_` in the environment, if set, wins (glibc reads it first).
enum MallocTuning {
    static let mmapThreshold: Int32 = 256 * 1024

    static func apply() {
        guard getenv("MALLOC_MMAP_THRESHOLD_") == nil else { return }
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, mmapThreshold)
    }
}

@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#else
enum MallocTuning {
    static func apply() {}
}
#endif
