import XCTest
import WholeBrain

/// The identifiability figures: the curvature and slopes are the loss's own differences under
/// each noise seed, and the verdicts separate a parameter the data pin down from one they do not.
final class IdentifiabilityTests: XCTestCase {
    func spec(g: Double, sigma: Double, seed: UInt64, duration: Double = 120) throws -> SimulationSpec<ReducedWongWang> {
        var p = ReducedWongWang.Parameters()
        p.g = g; p.wPlus = 1.3; p.jI = 1.1
        return try SimulationSpec(model: ReducedWongWang(parameters: p), connectome: try smallConnectome(8), noise: NoiseSpec(sigma: sigma),
                                  dt: 0.1, duration: duration, transient: SimulationDefaults.transient, tr: 0.5, conductionSpeed: 20, seed: seed)
    }

    func testFiguresAreTheLossDifferencesAndVerdictsFollowTheSpread() throws {
        // On this network the low state gives way between G = 0.1 and 0.15 (JointRecoveryTests).
        // Well below it, with the FC surprise alone: FC is noise, and the figures say so. Near
        // it, with the terms --loss auto picks for BOLD in model units (FC level, BOLD
        // variance): the loss curves up in G and the seed spread gives a finite error, but G
        // and sigma together sit on a ridge, which the joint figures flag.
        for (g, auto) in [(0.06, false), (0.12, true)] {
            let target = try NetworkSimulator(spec: try spec(g: g, sigma: 0.01, seed: 5)).run()
            let fc = FunctionalConnectivity.pearson(timeByRegions: target.bold)
            var options = GradientFit.Options(parameters: [(.g, .bounded(0, 1)), (.sigma, .positive)])
            if auto {
                options.surprise = 0
                options.fcMean = LossSelection.fcMeanWeight
                options.boldVariance = LossSelection.boldVarianceWeight
            }
            let targetData = GradientFit.Target(fc: fc, logVariances: BoldFitTerms.logVariances(regionsByTime: target.bold.transposed))
            let fitted = try spec(g: g, sigma: 0.01, seed: 9)
            let figures = try Identifiability.assess(fitted: [(fitted, targetData)], options: options, extraSeeds: [10, 11, 12])
            for f in figures { print("identifiability at G = \(g): \(f.description)") }
            XCTAssertEqual(figures.map(\.parameter), ["G", "sigma"])
            XCTAssertEqual(figures[0].seedSlopes.count, 4)
            let agreement = try XCTUnwrap(figures[0].seedAgreement)
            if auto {
                // G alone curves up and is pinned; with sigma free too, the two trade off (both
                // raise the BOLD variance: measured H = [[5014, -9686], [-9686, 15753]], not
                // positive definite), which one parameter at a time cannot see.
                var alone = options
                alone.parameters = [(.g, .bounded(0, 1))]
                let g = try XCTUnwrap(try Identifiability.assess(fitted: [(fitted, targetData)], options: alone, extraSeeds: [10, 11, 12]).first)
                print("identifiability at G = \(g.value), G alone: \(g.description)")
                XCTAssert(g.curvature > 0 && g.verdict != .notIdentified && g.caveat == nil && g.jointStandardError == nil, g.description)
                XCTAssertEqual(figures[0].mostCorrelatedWith, "sigma")
                XCTAssertEqual(figures[0].verdict, .notIdentified, figures[0].description)
                XCTAssert(figures[0].caveat?.contains("sigma") == true, figures[0].description)
            } else {
                XCTAssertLessThan(agreement, Identifiability.Figure.noiseFloor)
                XCTAssertEqual(figures[0].verdict, .notIdentified, figures[0].description)
                XCTAssert(figures.allSatisfy { $0.verdict == .notIdentified }, figures.map(\.description).joined(separator: "; "))
            }
            // The figures are the loss's differences over +-10% (checked for the second seed).
            let h = 0.1 * g
            func loss(_ value: Double, seed: UInt64) throws -> Double {
                let s = try GradientFit.spec(fitted, with: [(.g, value)], seed: seed)
                return try RWWGradient.lossAndGradient(spec: s, objective: options.objective(target: targetData, parameters: s.model.parameters),
                                                       parameters: [.g]).loss
            }
            let (up, down) = (try loss(g + h, seed: 10), try loss(g - h, seed: 10))
            XCTAssertEqual(figures[0].seedSlopes[1], (up - down) / (2 * h), accuracy: 1e-9 * max(1, abs(figures[0].seedSlopes[1])))
            // A figure survives a JSON round trip, caveat and verdict included.
            let back = try JSONDecoder().decode(Identifiability.Figure.self, from: try JSONEncoder().encode(figures[0]))
            XCTAssertEqual(back, figures[0])
        }
        let json = try JSONEncoder().encode(Identifiability.Figure(parameter: "G", value: 1, curvature: -1, seedSlopes: [0, 1]))
        XCTAssert(String(decoding: json, as: UTF8.self).contains("\"relative_error\":null"), String(decoding: json, as: UTF8.self))
    }

    /// With `scans`, each extra seed's loss is against a fresh scan simulated at the fitted
    /// values (its seed 7919 past the extra seed's, as long as the data) and made into a target
    /// the way the data were; the fit's own seed still meets the data.
    func testExtraSeedsMeetFreshScansSimulatedAtTheFittedValues() throws {
        let data = try NetworkSimulator(spec: try spec(g: 0.12, sigma: 0.01, seed: 5)).run()
        func target(_ regionsByTime: Matrix) -> GradientFit.Target {
            GradientFit.Target(fc: FunctionalConnectivity.pearson(regionsByTime: regionsByTime), logVariances: BoldFitTerms.logVariances(regionsByTime: regionsByTime))
        }
        var options = GradientFit.Options(parameters: [(.g, .bounded(0, 1))])
        options.surprise = 0
        options.fcMean = LossSelection.fcMeanWeight
        options.boldVariance = LossSelection.boldVarianceWeight
        let fitted = try spec(g: 0.12, sigma: 0.01, seed: 9)
        var scanned: [Matrix] = []
        let scan = Identifiability.Scan(samples: data.bold.rows) { bold in scanned.append(bold); return target(bold) }
        let plain = try XCTUnwrap(try Identifiability.assess(fitted: [(fitted, target(data.bold.transposed))], options: options, extraSeeds: [10, 11]).first)
        let fresh = try XCTUnwrap(try Identifiability.assess(fitted: [(fitted, target(data.bold.transposed))], options: options, extraSeeds: [10, 11],
                                                             scans: [scan]).first)
        XCTAssertEqual(scanned.count, 2, "one fresh scan per extra seed")
        XCTAssertEqual(scanned.map(\.rows), [8, 8])
        XCTAssertEqual(fresh.seedSlopes[0], plain.seedSlopes[0], "the fit's own seed meets the data")
        XCTAssertNotEqual(fresh.seedSlopes[1], plain.seedSlopes[1])
        // The second seed's slope, from a scan simulated here independently.
        let scanSpec = try GradientFit.spec(fitted, with: [], seed: 10 &+ 7919, duration: Double(data.bold.rows) * fitted.tr)
        let own = try NetworkSimulator(spec: scanSpec).run().bold.transposed
        XCTAssertEqual(own.values, scanned[0].values)
        func loss(_ value: Double) throws -> Double {
            let s = try GradientFit.spec(fitted, with: [(.g, value)], seed: 10)
            return try RWWGradient.lossAndGradient(spec: s, objective: options.objective(target: target(own), parameters: s.model.parameters), parameters: [.g]).loss
        }
        let h = 0.1 * 0.12
        XCTAssertEqual(fresh.seedSlopes[1], (try loss(0.12 + h) - loss(0.12 - h)) / (2 * h), accuracy: 1e-9 * max(1, abs(fresh.seedSlopes[1])))
    }

    func testVerdictRules() {
        // Slopes spread by sd 1.15 over seeds; curvature 100 around a value of 0.5: SE 0.0115, 2%.
        let firm = Identifiability.Figure(parameter: "G", value: 0.5, curvature: 100, seedSlopes: [-1, 1, -1, 1])
        XCTAssertEqual(firm.standardError, (4.0 / 3).squareRoot() / 100, accuracy: 1e-12)
        XCTAssertEqual(firm.verdict, .identified)
        // The 95% interval: Student's t for 3 degrees of freedom, not a normal 1.96 (half-width 7.3%).
        XCTAssertEqual(firm.interval, 3.1824 * firm.standardError, accuracy: 1e-12)
        XCTAssert(firm.description.contains("95% interval 0.4633 to 0.5367 over 4 seeds"), firm.description)
        // SE 12% (half-width 37%): weak; SE 46% (half-width 147%): the interval reaches zero, not identified.
        let loose = Identifiability.Figure(parameter: "G", value: 0.5, curvature: 20, seedSlopes: [-1, 1, -1, 1])
        XCTAssertEqual(loose.verdict, .weak, loose.description)
        XCTAssertEqual(Identifiability.Figure(parameter: "G", value: 0.5, curvature: 5, seedSlopes: [-1, 1, -1, 1]).verdict, .notIdentified)
        // An SE of 8% is identified with many seeds (t near 2) but weak with 4 (half-width 25%).
        let slopes8 = [-1.0, 1, -1, 1]
        let se8 = Identifiability.Figure(parameter: "G", value: 0.5, curvature: (4.0 / 3).squareRoot() / 0.04, seedSlopes: slopes8)
        XCTAssertEqual(se8.relativeError, 0.08, accuracy: 1e-12)
        XCTAssertEqual(se8.verdict, .weak)
        let many = (0..<40).map { $0 % 2 == 0 ? -1.0 : 1.0 }
        let se8Many = Identifiability.Figure(parameter: "G", value: 0.5, curvature: (40.0 / 39).squareRoot() / 0.04, seedSlopes: many)
        XCTAssertEqual(se8Many.relativeError, 0.08, accuracy: 1e-12)
        XCTAssertEqual(se8Many.verdict, .identified)
        XCTAssertEqual(Identifiability.Figure(parameter: "G", value: 0.5, curvature: 1, seedSlopes: [-1, 1, -1, 1]).verdict, .notIdentified)
        let flat = Identifiability.Figure(parameter: "G", value: 0.5, curvature: -3, seedSlopes: [0, 0.1])
        XCTAssertEqual(flat.verdict, .notIdentified)
        XCTAssert(flat.description.contains("no upward curvature"), flat.description)
    }

    /// Joint fits get more seeds by default: a P x P covariance from K slope vectors needs K well above P.
    func testDefaultSeedsGrowWithJointParameters() {
        XCTAssertEqual(Identifiability.defaultSeeds(parameters: [.g]), 4)
        XCTAssertEqual(Identifiability.defaultSeeds(parameters: [.g, .nodeJI(0), .nodeJI(1)]), 4, "per-region values get no figures")
        XCTAssertEqual(Identifiability.defaultSeeds(parameters: [.g, .sigma]), 10)
    }

    /// The t quantiles against scipy.stats.t.ppf(0.975, nu) (scipy 1.17), table and expansion.
    func testStudentQuantilesMatchScipy() {
        let scipy: [(Int, Double)] = [(1, 12.706204736174698), (2, 4.302652729749464), (3, 3.182446305284263), (10, 2.2281388519862735),
                                      (30, 2.0422724563012373), (31, 2.0395134463964077), (40, 2.0210753903062715), (100, 1.9839715185235556)]
        for (nu, t) in scipy { XCTAssertEqual(Identifiability.studentT975(degreesOfFreedom: nu), t, accuracy: 1e-4, "nu = \(nu)") }
        XCTAssertEqual(Identifiability.studentT975(degreesOfFreedom: 0), .infinity)
    }

    /// A ridge: two parameters whose loss curves steeply along one combination and barely
    /// along the other. One at a time each looks pinned; the sandwich H^-1 S H^-1 says how far
    /// the pair moves over noise seeds, and the verdict follows the larger error.
    func testJointErrorsSeeRidges() throws {
        let hessian = Matrix(rows: 2, columns: 2, values: [100, 99, 99, 100])
        // Slopes over four seeds, mostly along (1, 1) (the direction noise moves them).
        let slopes = [[1.0, 1.1], [-1.0, -0.9], [0.5, 0.6], [-0.5, -0.4]]
        let c = try XCTUnwrap(Identifiability.jointCovariance(hessian: hessian, slopes: slopes))
        // Against a direct computation: H^-1 = [[100, -99], [-99, 100]] / 199.
        let inverse = [[100.0 / 199, -99.0 / 199], [-99.0 / 199, 100.0 / 199]]
        var s = [[0.0, 0.0], [0.0, 0.0]]
        let means = [0.0, 0.1]
        for b in slopes { for i in 0..<2 { for j in 0..<2 { s[i][j] += (b[i] - means[i]) * (b[j] - means[j]) / 3 } } }
        for i in 0..<2 { for j in 0..<2 {
            var expected = 0.0
            for p in 0..<2 { for q in 0..<2 { expected += inverse[i][p] * s[p][q] * inverse[q][j] } }
            XCTAssertEqual(c[i, j], expected, accuracy: 1e-12)
        } }
        // Along the stiff direction the pair is precise: the marginal error sd(b)/H_jj is tiny
        // beside the joint one only when noise pushes along the soft direction; here it pushes
        // along the stiff one (1, 1), so the joint error is about half the marginal.
        let marginal = Identifiability.Figure(parameter: "a", value: 1, curvature: 100, seedSlopes: slopes.map { $0[0] })
        XCTAssertLessThan(c[0, 0].squareRoot(), marginal.standardError)
        // Noise along the soft direction (1, -1): one at a time 1%, jointly 100 times more.
        let soft = [[0.5, -0.5], [-0.5, 0.5], [0.4, -0.4], [-0.4, 0.4]]
        let cs = try XCTUnwrap(Identifiability.jointCovariance(hessian: hessian, slopes: soft))
        let figure = Identifiability.Figure(parameter: "a", value: 1, curvature: 100, seedSlopes: soft.map { $0[0] },
                                            jointStandardError: cs[0, 0].squareRoot(), mostCorrelatedWith: "b", correlation: -0.995)
        XCTAssertGreaterThan(cs[0, 0].squareRoot(), 50 * Identifiability.Figure(parameter: "a", value: 1, curvature: 100, seedSlopes: soft.map { $0[0] }).standardError)
        XCTAssertEqual(figure.verdict, .notIdentified)
        XCTAssert(figure.caveat?.contains("trades off with b") == true, figure.caveat ?? "")
        // A Hessian that is not positive definite: no joint covariance, an infinite error.
        XCTAssertNil(Identifiability.jointCovariance(hessian: Matrix(rows: 2, columns: 2, values: [1, 2, 2, 1]), slopes: soft))
        let ridge = Identifiability.Figure(parameter: "a", value: 1, curvature: 1, seedSlopes: [0.001, -0.001], jointStandardError: .infinity,
                                           mostCorrelatedWith: "b", correlation: nil)
        XCTAssertEqual(ridge.verdict, .notIdentified)
        XCTAssert(ridge.caveat?.contains("does not curve upward along a combination with b") == true, ridge.caveat ?? "")
        let back = try JSONDecoder().decode(Identifiability.Figure.self, from: try JSONEncoder().encode(figure))
        XCTAssertEqual(back, figure)
    }
}
