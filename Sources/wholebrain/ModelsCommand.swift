import ArgumentParser
import Foundation
import WholeBrain

/// `wholebrain models [NAME]`: the model library and each model's parameters.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the neural mass models, or show one model's variables and parameters.")

    @Argument(help: "A model name, e.g. rww.")
    var name: String?

    func run() throws {
        guard let name else {
            for m in ModelCatalog.all {
                print("\(m.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(m.title)  [\(m.reference)]")
            }
            return
        }
        try reportingErrors("models") { print(try ModelCatalog.named(name).describe()) }
    }
}
