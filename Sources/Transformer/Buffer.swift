import Dispatch
import Synchronization

/// A plain, manually managed Float buffer, llm.c-style: the forward/backward kernels work on raw pointers.
/// A class so that a pass's scratch memory is allocated once and reused step after step.
/// @unchecked Sendable: a buffer is written by one pass at a time; kernels that split it across
/// threads write disjoint ranges.
public final class Buffer: @unchecked Sendable {
    public let count: Int
    public let ptr: UnsafeMutablePointer<Float>
    private let arena: Arena?          // the memory's owner, when carved from one

    public init(_ count: Int) {
        self.count = count
        ptr = .allocate(capacity: max(count, 1))
        ptr.initialize(repeating: 0, count: max(count, 1))
        arena = nil
    }

    /// Zeros carved from `arena`, freed with it.
    init(_ count: Int, in arena: Arena) {
        self.count = count
        ptr = arena.take(count, zeroed: true)
        self.arena = arena
    }

    /// `times` back-to-back copies of `source` (no zero fill first: every value is written once).
    init(repeating source: Buffer, times: Int, in arena: Arena? = nil) {
        count = source.count * times
        self.arena = arena
        if let arena {
            ptr = arena.take(count, zeroed: false)
            for i in 0..<times { (ptr + i * source.count).update(from: source.ptr, count: source.count) }
            return
        }
        ptr = .allocate(capacity: max(count, 1))
        if count == 0 { ptr.initialize(to: 0); return }
        for i in 0..<times { (ptr + i * source.count).initialize(from: source.ptr, count: source.count) }
    }

    deinit { if arena == nil { ptr.deallocate() } }

    public func zero() { ptr.update(repeating: 0, count: count) }

    public func copy() -> Buffer { Buffer(repeating: self, times: 1) }
    func copy(in arena: Arena?) -> Buffer { Buffer(repeating: self, times: 1, in: arena) }

    public func load(_ values: [Float]) {
        precondition(values.count == count, "Buffer.load: \(values.count) values into \(count)")
        values.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: count) }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }
}

/// Memory for the many buffers of one pass, taken from a few large anonymous mappings advised to use
/// huge pages: a pass of a small model over a batch is tens of MB in dozens of buffers, and touching it
/// page by page (4 KiB faults, then zero-filling) cost as much as computing it. A finished arena's
/// mappings go back to `ArenaPool` for the next pass: evaluation batches, patched runs and circuit passes
/// are many short passes, and faulting in fresh huge pages for each (the kernel zero-filling every one)
/// was a tenth of a short training run's time, all of it system time (measured: 3.3 s to 0.2 s of 31 s,
/// 1.5 s less in all; in `lens circuit` the zeroing of reused chunks costs what the faults did). Fresh
/// mappings are zero; a reused one is zeroed where a buffer asks for zeros.
final class Arena: @unchecked Sendable {
    private var chunks: [ArenaPool.Chunk] = []
    private var used = 0
    private var reused = false          // the current chunk held an earlier pass's values
    static let chunkBytes = 8 << 20

    /// Room for `count` floats, 64-byte aligned; zeros if `zeroed`, else whatever the chunk held.
    func take(_ count: Int, zeroed: Bool) -> UnsafeMutablePointer<Float> {
        let bytes = (max(count, 1) * MemoryLayout<Float>.stride + 63) & ~63
        if chunks.isEmpty || used + bytes > chunks[chunks.count - 1].size {
            let size = max(Arena.chunkBytes, (bytes + (2 << 20) - 1) & ~((2 << 20) - 1))
            let (chunk, wasUsed) = ArenaPool.take(size)
            chunks.append(chunk)
            used = 0
            reused = wasUsed
        }
        let p = chunks[chunks.count - 1].base + used
        used += bytes
        if zeroed && reused { p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
        return p.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { for c in chunks { ArenaPool.give(c) } }
}

/// The mappings of finished arenas, kept for the next ones up to `capacity` bytes; beyond it they are
/// unmapped. Process-wide: passes on several threads share it.
enum ArenaPool {
    struct Chunk: @unchecked Sendable { let base: UnsafeMutableRawPointer; let size: Int }
    static let capacity = 256 << 20
    private static let free = Mutex<(chunks: [Chunk], bytes: Int)>(([], 0))

    /// The smallest pooled chunk of at least `size` bytes, the latest given back of equals (its pages are
    /// the likeliest in cache), with true: it was used before; or a fresh mapping.
    static func take(_ size: Int) -> (Chunk, reused: Bool) {
        let pooled: Chunk? = free.withLock { pool in
            var best: Int? = nil
            for i in pool.chunks.indices.reversed() where pool.chunks[i].size >= size {
                if best == nil || pool.chunks[i].size < pool.chunks[best!].size { best = i }
            }
            guard let i = best else { return nil }
            pool.bytes -= pool.chunks[i].size
            return pool.chunks.remove(at: i)
        }
        if let pooled { return (pooled, true) }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            fatalError("out of memory: mmap of \(size) bytes failed")
        }
        _ = madvise(p, size, 14)     // MADV_HUGEPAGE (Linux); ignored where unsupported
        return (Chunk(base: p, size: size), false)
    }

    static func give(_ chunk: Chunk) {
        let kept = free.withLock { pool in
            guard pool.bytes + chunk.size <= capacity else { return false }
            pool.chunks.append(chunk); pool.bytes += chunk.size
            return true
        }
        if !kept { munmap(chunk.base, chunk.size) }
    }

    /// Bytes held for reuse (tests).
    static var pooledBytes: Int { free.withLock { $0.bytes } }
}

/// How many threads the engine's own loops use (OpenBLAS has its own setting; see `Engine.setThreads`).
public enum Engine {
    // Set once by the CLI before any work starts, read-only afterwards.
    nonisolated(unsafe) public private(set) static var threads: Int = 2

    /// One knob for both BLAS threads and the engine's parallel loops (`--threads N`).
    public static func setThreads(_ n: Int) {
        threads = max(1, n)
        BLAS.setThreads(threads)
    }

    /// Runs body(s) for s in 0..<count at once, one thread each, with single-threaded BLAS and serial
    /// engine loops inside (as the training step runs its shards): for independent passes that are each
    /// too small to split well, such as the patched runs of activation patching. Each s must write only
    /// its own outputs. Inside a shard (a nested call) the shards run one after another on this thread and
    /// BLAS stays single-threaded: OpenBLAS's thread count is one setting for the whole process, so a nested
    /// call that restored it on return would hand every running shard a multi-threaded BLAS, whose threads
    /// then spin against each other (seen: lens circuit over several runs three times slower).
    public static func shards(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || ShardFlag.isSet { for s in 0..<max(count, 1) { body(s) }; return }
        BLAS.setThreads(1)
        withoutActuallyEscaping(body) { body in
            let box = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { s in
                ShardFlag.set(true)
                box.value(s)
                ShardFlag.set(false)
            }
        }
        BLAS.setThreads(threads)
    }

    /// Runs body(i) for i in 0..<n, split in contiguous chunks over the engine's threads.
    /// Each i must write only its own outputs, so the result does not depend on the thread count.
    @inline(__always)
    static func parallelFor(_ n: Int, minPerThread: Int = 1, _ body: (Int) -> Void) {
        let workers = ShardFlag.isSet ? 1 : min(threads, max(1, n / max(minPerThread, 1)))
        if workers <= 1 {
            for i in 0..<n { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = n * w / workers, hi = n * (w + 1) / workers
                for i in lo..<hi { box.value(i) }
            }
        }
    }
}

/// Carries a non-Sendable closure into concurrentPerform; safe because each index writes disjoint memory.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

import Tensors

/// Marks the threads that run one shard of a data-parallel step: inside a shard, kernels run serially
/// (the parallelism is across shards), so there is no fork/join per kernel.
enum ShardFlag {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    static var isSet: Bool { pthread_getspecific(key) != nil }
    static func set(_ on: Bool) { pthread_setspecific(key, on ? UnsafeRawPointer(bitPattern: 1) : nil) }
}

#if canImport(Glibc)
import Glibc
#endif
