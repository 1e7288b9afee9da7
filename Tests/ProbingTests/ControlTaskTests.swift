import Testing
import Tensors
import Probing

@Suite struct ControlTaskTests {
    static let keys: [ProbeInputKey] = (0..<600).map { i in
        i % 2 == 0 ? .int(i % 150) : ProbeInputKey([i % 37, 5])
    }
    static let pool: [Int32] = [3, 3, 7, 7, 7, 7, 7, 7, 7, 7]  // 20% label 3, 80% label 7

    @Test func sameTypeAlwaysGetsTheSameLabel() {
        let labels = ControlTask.labels(keys: Self.keys, pool: Self.pool, seed: 1)
        var seen: [ProbeInputKey: Int32] = [:]
        for (k, l) in zip(Self.keys, labels) {
            if let prev = seen[k] { #expect(prev == l, "type \(k) got \(prev) and \(l)") }
            seen[k] = l
        }
        // Independent of order: reversing the examples and the pool changes nothing per type.
        let reversed = ControlTask.labels(keys: Self.keys.reversed(), pool: Self.pool.reversed(), seed: 1)
        #expect(Array(reversed.reversed()) == labels)
        #expect(Set(labels).isSubset(of: Set(Self.pool)))
    }

    @Test func differentSeedsDiffer() {
        let a = ControlTask.labels(keys: Self.keys, pool: Self.pool, seed: 1)
        let b = ControlTask.labels(keys: Self.keys, pool: Self.pool, seed: 2)
        #expect(a != b)
        #expect(ControlTask.labels(keys: Self.keys, pool: Self.pool, seed: 1) == a)
    }

    @Test func drawsFromTheEmpiricalDistribution() {
        let keys = (0..<5000).map { ProbeInputKey.string("type-\($0)") }
        let labels = ControlTask.labels(keys: keys, pool: Self.pool, seed: 4)
        let share7 = Double(labels.filter { $0 == 7 }.count) / Double(labels.count)
        #expect(abs(share7 - 0.8) < 0.03, "share of label 7: \(share7)")
    }
}
