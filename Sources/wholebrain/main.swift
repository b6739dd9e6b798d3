import ArgumentParser

/// `wholebrain`: connectome-based whole-brain modelling from the command line.
struct WholeBrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wholebrain",
        abstract: "Simulate whole-brain network models on structural connectomes and compare them with fMRI.",
        discussion: """
        Start with `wholebrain simulate --help`; then `fit` (gradient-based parameter estimation), \
        `stability` (fixed points, G*, feedback inhibition), `sweep` and `report`. Data: the \
        bundled HCP subjects live in data/hcp (see data/hcp/README.md); your own connectomes can \
        be .mat, .npy, .npz, CSV/TSV/text or TVB connectivity zips. Started by mpirun or \
        `srun --mpi=pmix`, the same binary splits simulate into node blocks and spreads fit \
        subjects and sweep runs over the ranks.
        """,
        version: "wholebrain \(WholeBrainVersionText.value)",
        subcommands: [SimulateCommand.self, AnalyzeCommand.self, FitCommand.self, StabilityCommand.self, SweepCommand.self, ProtocolCommand.self, ReportCommand.self, SlurmCommand.self, CollectCommand.self, ModelsCommand.self, InfoCommand.self]
    )
}

SignalCleanup.install()
WholeBrainCommand.main()
