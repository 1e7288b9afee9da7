import Yams

/// A YAML document's problem, in one line (Yams's messages span several).
public struct YAMLProblem: Error {
    public let message: String
}

/// The top-level mapping of a YAML file (study files, probe specs), or the one-line reason it is not one.
public func yamlTopLevelMapping(_ text: String) -> Result<[String: Any], YAMLProblem> {
    let root: Any?
    do { root = try Yams.load(yaml: text) } catch {
        return .failure(YAMLProblem(message: "malformed YAML: \(String(describing: error).split(separator: "\n").joined(separator: " "))"))
    }
    guard let mapping = root as? [String: Any] else { return .failure(YAMLProblem(message: "top level must be a mapping of keys")) }
    return .success(mapping)
}
