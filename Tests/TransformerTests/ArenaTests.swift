import Tensors
@testable import Transformer
import XCTest

// XCTest, not Swift Testing: the arena pool is one per process, and these tests check that a chunk one
// arena gave back is the chunk the next one takes, which parallel tests taking chunks would break.
final class ArenaTests: XCTestCase {
    /// A reused chunk still holds the last pass's values: buffers asked for as zeros must be zeroed again.
    func testReusedChunksGiveZeroedBuffers() {
        let address: UnsafeMutablePointer<Float>
        do {
            let first = Arena()
            let dirty = Buffer(3000, in: first)
            dirty.ptr.update(repeating: 7, count: dirty.count)
            address = dirty.ptr
        }   // the buffer and its arena end here: the chunk goes back to the pool
        XCTAssertGreaterThanOrEqual(ArenaPool.pooledBytes, Arena.chunkBytes)
        let second = Arena()
        let zeroed = Buffer(3000, in: second)
        XCTAssertEqual(zeroed.ptr, address, "the chunk given back is the one taken next")
        XCTAssertTrue(zeroed.array.allSatisfy { $0 == 0 })
        // a copy is written whole, with no zero fill first
        let source = Buffer(500)
        source.load((0..<500).map { Float($0) })
        XCTAssertEqual(Buffer(repeating: source, times: 3, in: second).array, Array(repeating: source.array, count: 3).flatMap { $0 })
    }

    /// A pass large enough to use an arena gives the same bits on memory reused from an earlier pass
    /// (dirty chunks) as on fresh mappings: no kernel reads a value it did not write or zero first.
    func testPassesOnReusedChunksAreBitwiseTheSame() throws {
        let m = tinyModel(dModel: 64, heads: 8, dHead: 8, ctx: 32)
        let B = 16, T = 32
        XCTAssertNotNil(ForwardState.arena(m.config, batch: B, length: T), "the pass must be large enough to use an arena")
        let tokens = randomTokens(m, batch: B, length: T)
        let plan = HookPlan(cache: HookPoints.names(m.config))
        let first = try m.forward(tokens: tokens, batch: B, length: T, plan: plan)
        let firstLogits = first.logits.data, firstCache = first.cache.mapValues(\.data)
        // different tokens dirty the chunks with other values before they come back
        _ = try m.forward(tokens: randomTokens(m, batch: B, length: T, seed: 99), batch: B, length: T, plan: plan)
        let again = try m.forward(tokens: tokens, batch: B, length: T, plan: plan)
        XCTAssertEqual(again.logits.data, firstLogits)
        XCTAssertEqual(again.cache.mapValues(\.data), firstCache)
    }

    /// The pool keeps at most `capacity` bytes; chunks beyond it are unmapped, not hoarded.
    func testThePoolIsBounded() {
        do {
            let arenas = (0..<(ArenaPool.capacity / Arena.chunkBytes + 4)).map { _ in Arena() }
            for a in arenas { _ = Buffer(1, in: a) }        // each maps a chunk of its own
        }
        XCTAssertGreaterThan(ArenaPool.pooledBytes, 0)
        XCTAssertLessThanOrEqual(ArenaPool.pooledBytes, ArenaPool.capacity)
    }
}
