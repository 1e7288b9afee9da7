import Foundation
import PackagePlugin

/// Writes `BuildInfo.swift` into `lens`: the git commit of the checkout it is built from (with `-dirty`
/// when tracked files that build it, or the analysis plan, differ from that commit) and the last commit
/// of docs/ANALYSIS-PLAN.md, so a report names the source that made the binary, not whatever the
/// checkout holds when the report is run. The command reruns whenever a source file, Package.swift, the
/// plan, or git's HEAD or index changes (a commit, a checkout); it rewrites the file only when its text
/// changes, so an unchanged result does not recompile `lens`.
@main struct BuildInfo: BuildToolPlugin {
    static let script = #"""
        dir=$1; out=$2; mkdir -p "$(dirname "$out")"
        commit=$(git -C "$dir" rev-parse HEAD 2>/dev/null) || commit=unknown
        if [ "$commit" != unknown ] && [ -n "$(git -C "$dir" status --porcelain --untracked-files=no -- Sources Plugins Package.swift Package.resolved docs/ANALYSIS-PLAN.md 2>/dev/null)" ]; then commit="$commit-dirty"; fi
        plan=$(git -C "$dir" log -1 --format=%H -- docs/ANALYSIS-PLAN.md 2>/dev/null); [ -n "$plan" ] || plan=unknown
        text="// Generated at build time by Plugins/BuildInfo; not in git.
        enum BuildInfo {
            static let commit = \"$commit\"
            static let planCommit = \"$plan\"
        }"
        [ "$(cat "$out" 2>/dev/null)" = "$text" ] || printf '%s\n' "$text" > "$out"
        """#

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let out = context.pluginWorkDirectoryURL.appending(path: "BuildInfo.swift")
        // Inputs that exist (a checkout without git has no .git/HEAD; a worktree's .git is a file).
        var inputs = [".git/HEAD", ".git/index", "Package.swift", "Package.resolved", "docs/ANALYSIS-PLAN.md"]
            .map { root.appending(path: $0) }.filter { FileManager.default.fileExists(atPath: $0.path) }
        for module in context.package.targets.compactMap({ $0 as? SourceModuleTarget }) {
            inputs += module.sourceFiles.map(\.url)
        }
        return [.buildCommand(displayName: "lens build info (git commit)", executable: URL(fileURLWithPath: "/bin/sh"),
                              arguments: ["-c", Self.script, "sh", root.path, out.path], inputFiles: inputs, outputFiles: [out])]
    }
}
