import Foundation
import Testing
import TestSupport
@testable import ActivationStore

/// Files that `lens inspect` refuses are refused by the reader too (issue 10: `lens probe` used to fit on
/// them). Each file is a valid one changed by h5py, so the change is exactly the one named.
@Suite struct ReaderValidationTests {
    func refused(after change: String, mentioning words: String) throws {
        let dir = try TempDir("reader-validation")
        let path = dir.path("acts.h5")
        try withExtendedLifetime(dir) {
            try Fixture(n: 6).write(path, compress: false)
            _ = try ActivationFileReader(path: path)       // valid before the change
            let (status, _, err) = try runPython(["-c", "import h5py, numpy as np, sys\nf = h5py.File(sys.argv[1], 'r+')\n" + change, path])
            try #require(status == 0, "h5py: \(err)")
            do { _ = try ActivationFileReader(path: path); Issue.record("reader accepted: \(change)") } catch let e as ActivationStoreError {
                #expect(e.description.hasPrefix(path + ":"), "\(e)")
                #expect(e.description.contains(words), "\(e)")
            }
        }
    }

    @Test func aNegativePositionIsRefused() throws {
        try refused(after: "f['positions/equals'][2] = -7", mentioning: "position -7 outside -1..<")
    }

    @Test func aPositionPastTheSequenceIsRefused() throws {
        try refused(after: "f['positions/answer_start'][0] = 10_000", mentioning: "position 10000")
    }

    @Test func aShortTasksDatasetIsRefused() throws {
        try refused(after: "t = f['tasks'][:3]\ndel f['tasks']\nf.create_dataset('tasks', data=t, dtype=h5py.string_dtype())",
                    mentioning: "/tasks")
    }

    @Test func aShortLabelIsRefused() throws {
        try refused(after: "v = f['labels/operand'][:2]\ndel f['labels/operand']\nf['labels/operand'] = v", mentioning: "/labels/operand")
    }

    @Test func aNonFiniteFloatLabelIsRefused() throws {
        try refused(after: "f['labels/carry'][1] = np.nan", mentioning: "label value nan is not a finite number")
    }

    /// Issue 10's fuzz suite: a probe printed a table from a hook holding inf. `lens inspect` reads every
    /// value and refuses the file; the reader (which skips that pass) refuses the values it reads.
    @Test func aNonFiniteActivationIsRefusedWhereItIsRead() throws {
        let dir = try TempDir("reader-validation")
        let path = dir.path("acts.h5")
        try withExtendedLifetime(dir) {
            try Fixture(n: 6).write(path, compress: false)
            let hook = "blocks.0.hook_resid_post"
            let (status, _, err) = try runPython(["-c", "import h5py, numpy as np, sys\nf = h5py.File(sys.argv[1], 'r+')\n"
                                                  + "f['activations/\(hook)'][4, 2, 1] = np.inf", path])
            try #require(status == 0, "h5py: \(err)")
            let inspected = #expect(throws: ActivationStoreError.self) { _ = try validateActivationFile(path) }
            #expect(inspected?.description == "\(path): /activations/\(hook): value inf in row 4; activations must be finite")
            let reader = try ActivationFileReader(path: path)
            _ = try reader.readHook(hook, rows: 0..<4, positions: [0, 1, 2, 3])       // rows before the damage read fine
            let read = #expect(throws: ActivationStoreError.self) { _ = try reader.readHook(hook, rows: 0..<6, positions: [2, 2, 2, 2, 2, 2]) }
            #expect(read?.description == "\(path): /activations/\(hook): value inf in row 4; activations must be finite")
            #expect(throws: ActivationStoreError.self) { _ = try reader.readHook(hook, rows: 4..<5) }
        }
    }

    @Test func aHookOfTheWrongRankIsRefused() throws {
        try refused(after: "v = f['activations/blocks.0.hook_resid_post'][:, 0, 0]\ndel f['activations/blocks.0.hook_resid_post']\n"
                        + "f['activations/blocks.0.hook_resid_post'] = v", mentioning: "blocks.0.hook_resid_post")
    }
}
