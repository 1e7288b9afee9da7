import Foundation

/// Where the kill -9 tests stop a writer: with LENS_TEST_KILL_BEFORE_RENAME=<file name> in the
/// environment, the process sends itself SIGKILL (what `kill -9` sends) just before it renames its
/// finished temporary file onto that name, the one moment a writer must survive. Without the variable
/// it does nothing.
public enum TestKillPoint {
    public static func beforeRename(to path: String) {
        guard let name = ProcessInfo.processInfo.environment["LENS_TEST_KILL_BEFORE_RENAME"],
              name == (path as NSString).lastPathComponent else { return }
        kill(getpid(), SIGKILL)
    }
}
