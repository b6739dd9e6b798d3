// swift-tools-version:6.0
// WholeBrain: connectome-based whole-brain modelling.
//
// Targets follow the pipeline: the library `WholeBrain` (data → network → models →
// integration → observers → analysis → runs), `WholeBrainMPI` (the MPI communicator; the
// only code that imports MPI), the `wholebrain` command-line tool, the benchmark and the
// tests; a build plugin lists the models in Models/ for the library (`ModelCatalog`). System libraries (zlib, FFTW, Open MPI) come in through module maps; `make deps`
// installs them. `CKernels` is the one C target: AVX-512 kernels for the noise and the
// reduced Wong-Wang Euler step, chosen at run time where the CPU has it.
import PackageDescription

let package = Package(
    name: "WholeBrain",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "WholeBrain", targets: ["WholeBrain"]),
        .executable(name: "wholebrain", targets: ["wholebrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi",
                       providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .target(name: "CKernels", path: "Sources/CKernels"),
        // The model catalogue is generated from the files in Models/ (adding a model is one file).
        .executableTarget(name: "ModelCatalogGenerator", path: "Sources/ModelCatalogGenerator"),
        .plugin(name: "ModelCatalogPlugin", capability: .buildTool(), dependencies: ["ModelCatalogGenerator"],
                path: "Plugins/ModelCatalogPlugin"),
        .target(
            name: "WholeBrain",
            dependencies: ["CZlib", "CFFTW", "CLAPACKE", "CKernels"],
            path: "Sources/WholeBrain",
            resources: [.copy("Models/Resources/aln_quantities_cascade.npz")],
            plugins: ["ModelCatalogPlugin"]
        ),
        .target(
            name: "WholeBrainMPI",
            dependencies: ["WholeBrain", "CMPI"],
            path: "Sources/WholeBrainMPI"
        ),
        .executableTarget(
            name: "wholebrain",
            dependencies: [
                "WholeBrain", "WholeBrainMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/wholebrain"
        ),
        .executableTarget(
            name: "WholeBrainBench",
            dependencies: ["WholeBrain", "WholeBrainMPI"],
            path: "Benchmarks/WholeBrainBench"
        ),
        .testTarget(
            name: "WholeBrainTests",
            dependencies: ["WholeBrain", "WholeBrainMPI"],
            path: "Tests/WholeBrainTests",
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
