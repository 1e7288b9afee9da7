import Foundation
import PackagePlugin

/// Writes `BuildInfo.swift` into `lens` at every build: the git commit of the checkout it is built from
/// (with `-dirty` when tracked files differ from it) and the last commit of docs/ANALYSIS-PLAN.md, so a
/// report names the source that made the binary, not whatever the checkout holds when the report is run.
/// The file is rewritten only when its text changes, so an unchanged checkout does not rebuild `lens`.
@main struct BuildInfo: BuildToolPlugin {
    static let script = #"""
        dir=$1; out=$2; mkdir -p "$out"
        commit=$(git -C "$dir" rev-parse HEAD 2>/dev/null) || commit=unknown
        if [ "$commit" != unknown ] && [ -n "$(git -C "$dir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
        plan=$(git -C "$dir" log -1 --format=%H -- docs/ANALYSIS-PLAN.md 2>/dev/null); [ -n "$plan" ] || plan=unknown
        text="// Generated at build time by Plugins/BuildInfo; not in git.
        enum BuildInfo {
            static let commit = \"$commit\"
            static let planCommit = \"$plan\"
        }"
        [ "$(cat "$out/BuildInfo.swift" 2>/dev/null)" = "$text" ] || printf '%s\n' "$text" > "$out/BuildInfo.swift"
        """#

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let out = context.pluginWorkDirectoryURL.appending(path: "generated")
        return [.prebuildCommand(displayName: "lens build info (git commit)", executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", Self.script, "sh", context.package.directoryURL.path, out.path],
                                 outputFilesDirectory: out)]
    }
}
