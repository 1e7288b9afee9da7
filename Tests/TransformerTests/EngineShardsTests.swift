import Foundation
import Tensors
@testable import Transformer
import XCTest

// XCTest, not Swift Testing: these tests read OpenBLAS's thread count, one setting for the whole process,
// which Swift Testing's parallel tests would change underneath them; XCTest runs one test at a time.
final class EngineShardsTests: XCTestCase {
    /// A shard that itself calls Engine.shards (PatchRuns inside lens circuit's per-run shards) must leave
    /// BLAS single-threaded for the rest of the outer shard: the bug this guards restored the process-wide
    /// BLAS thread count on the nested call's return, so both outer shards ran multi-threaded BLAS at once.
    func testNestedShardsKeepBLASSingleThreaded() {
        let before = Engine.threads
        Engine.setThreads(2)
        defer { Engine.setThreads(before) }
        let record = ThreadCounts()
        Engine.shards(2) { s in
            var nested: [Int] = []
            Engine.shards(3) { i in nested.append(i) }        // serial inside a shard: no data race on `nested`
            record.set(s, blas: BLAS.threads, nested: nested)
        }
        XCTAssertEqual(record.blas, [1, 1], "BLAS threads seen after a nested Engine.shards, in each outer shard")
        XCTAssertEqual(record.nested, [[0, 1, 2], [0, 1, 2]], "every nested shard ran, in order")
        XCTAssertEqual(BLAS.threads, 2, "the engine's setting is restored after the outer call")
    }
}

private final class ThreadCounts: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var blas = [0, 0]
    private(set) var nested: [[Int]] = [[], []]
    func set(_ s: Int, blas b: Int, nested n: [Int]) { lock.lock(); blas[s] = b; nested[s] = n; lock.unlock() }
}
