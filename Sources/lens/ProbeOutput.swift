import Foundation
import Tensors

/// How `lens probe` and `lens patch` publish a result's files in `--out`: under a lock per result (two
/// commands writing the same probe or experiment wait for each other), each file written atomically, and
/// a `<name>.INCOMPLETE` marker present from the first file to the last, so an interrupted run is visibly
/// unfinished, never a mix that passes for a result. The JSON is written last: it is the record of the results.
struct ProbeOutput {
    let directory: String
    let probe: String
    var command = "probe"

    var marker: String { directory + "/\(probe).INCOMPLETE" }

    func write<T>(_ body: () throws -> T) throws -> T {
        try AtomicFile.createDirectory(directory)
        let lock = try FileLock(directory + "/.lens-\(command)-\(probe).lock") {
            FileHandle.standardError.write(Data("\(directory): another lens \(command) \(probe) is writing here; waiting for it\n".utf8))
        }
        defer { lock.unlock() }
        try AtomicFile.write(Data("lens \(command) \(probe) was interrupted while writing these results; run it again\n".utf8), to: marker)
        let result = try body()
        unlink(marker)
        return result
    }
}
