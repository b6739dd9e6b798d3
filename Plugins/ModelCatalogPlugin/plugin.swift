// Generates ModelCatalog.declared (every NeuralMassModel in Models/) before the library is
// compiled: a new model is one file, with no list to edit elsewhere.
import Foundation
import PackagePlugin

@main
struct ModelCatalogPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let models = module.sourceFiles(withSuffix: "swift").map(\.url).filter { $0.deletingLastPathComponent().lastPathComponent == "Models" }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("ModelCatalog+Declared.swift")
        return [.buildCommand(displayName: "Listing the neural mass models in Models/",
                              executable: try context.tool(named: "ModelCatalogGenerator").url,
                              arguments: [output.path] + models.map(\.path),
                              inputFiles: models, outputFiles: [output])]
    }
}
