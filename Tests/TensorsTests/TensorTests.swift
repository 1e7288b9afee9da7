import Testing
@testable import Tensors

@Suite struct TensorTests {
    /// Row-major: element (i, j, k) of a [2, 3, 4] tensor is data[i * 12 + j * 4 + k].
    @Test func indexingIsRowMajor() {
        var t = Tensor(shape: [2, 3, 4], data: (0..<24).map(Float.init))
        #expect(t.strides == [12, 4, 1])
        #expect(t.count == 24 && t.rank == 3)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            #expect(t[i, j, k] == Float(i * 12 + j * 4 + k))
            #expect(t.offset([i, j, k]) == i * 12 + j * 4 + k)
        } } }
        t[1, 2, 3] = -1
        #expect(t.data[23] == -1 && t.data[0..<23] == ArraySlice((0..<23).map(Float.init)))
    }

    @Test func stridesOfEdgeShapes() {
        #expect(Tensor(zeros: [5]).strides == [1])
        #expect(Tensor(zeros: [3, 1, 2]).strides == [2, 2, 1])
        #expect(Tensor(zeros: [0, 4]).count == 0)
        let scalar = Tensor(shape: [], data: [7])
        #expect(scalar.count == 1 && scalar.rank == 0 && scalar.strides == [] && scalar[] == 7)
    }

    @Test func zerosEqualityAndMaxAbsDiff() {
        let z = Tensor(zeros: [2, 2])
        #expect(z.data == [0, 0, 0, 0])
        let a = Tensor(shape: [2, 2], data: [1, -2, 3, 4])
        #expect(a.maxAbsDiff(z) == 4)
        #expect(a.maxAbsDiff(a) == 0)
        #expect(a != Tensor(shape: [4], data: [1, -2, 3, 4]), "same values, other shape")
        #expect(a == Tensor(shape: [2, 2], data: [1, -2, 3, 4]))
    }

    // Shape mistakes are programming errors: they stop the process (a precondition) rather than read or
    // write the wrong element. Each runs in a child process.

    @Test func dataThatDoesNotFillTheShapeStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5])
        }
    }

    @Test func anIndexOfTheWrongRankStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let t = Tensor(zeros: [2, 3])
            _ = t.offset([1])
        }
    }

    @Test func anIndexOutOfBoundsStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let t = Tensor(zeros: [2, 3])
            _ = t[2, 0]
        }
    }

    @Test func comparingDifferentShapesStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor(zeros: [2, 3]).maxAbsDiff(Tensor(zeros: [3, 2]))
        }
    }
}
