import ActivationStore
import ArgumentParser
import Foundation
import Tensors

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what an activation file holds (like h5ls, in lens's terms) and validate it against the format.",
        discussion: """
        Checks: the file is HDF5, the format attribute, every required dataset with its dtype and a
        consistent N, hook shapes along the position axis, token ids within the vocabulary.
        A bad file gives one error line and exit code 1.
          lens inspect runs/default/base-s1/activations/step_004000.h5
        """)

    @Argument(help: "An activation file (.h5).") var file: String
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkPaths([(file, "the activation file")])
    }

    func run() throws {
        try InputFile.checkReadable(file)   // HDF5's own message for a directory is a paragraph
        let summary = try validateActivationFile(file)
        print(common.json ? try summary.json() : summary.description)
    }
}
