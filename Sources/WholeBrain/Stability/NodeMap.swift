import Foundation

/// Two-parameter map of a single reduced Wong-Wang node (no coupling), as BrainPy's
/// Bifurcation2D draws them: at every grid point, all fixed points (`RWWStability.fixedPoints`)
/// and how many are stable, so monostable and bistable regions and their fold boundaries show.
public enum NodeMap {
    public struct Result: Sendable {
        public let xValues: [Double], yValues: [Double]
        /// Rows follow y, columns x.
        public let fixedPoints: Matrix, stablePoints: Matrix
        /// S_E of the highest stable fixed point (NaN where none is stable).
        public let highestStableSE: Matrix
    }

    public static func map(parameters: ReducedWongWang.Parameters,
                           x: (path: WritableKeyPath<ReducedWongWang.Parameters, Double>, values: [Double]),
                           y: (path: WritableKeyPath<ReducedWongWang.Parameters, Double>, values: [Double])) throws -> Result {
        var all = Matrix(rows: y.values.count, columns: x.values.count), stable = all, high = all
        for (r, vy) in y.values.enumerated() {
            for (c, vx) in x.values.enumerated() {
                var p = parameters
                p[keyPath: x.path] = vx
                p[keyPath: y.path] = vy
                let points = try RWWStability(parameters: p, weights: Matrix(rows: 1, columns: 1)).fixedPoints()
                all[r, c] = Double(points.count)
                let stablePoints = points.filter(\.isStable)
                stable[r, c] = Double(stablePoints.count)
                high[r, c] = stablePoints.last?.state[0] ?? .nan
            }
        }
        return Result(xValues: x.values, yValues: y.values, fixedPoints: all, stablePoints: stable, highestStableSE: high)
    }
}

/// Limit cycles of a single node of any model over a two-parameter grid (`LimitCycles` at
/// every point), the other half of a Bifurcation2D-style map.
public struct CycleMap: Sendable {
    public let xName: String, yName: String
    public let xValues: [Double], yValues: [Double]
    /// Rows follow y, columns x: the largest amplitude among the trajectories that oscillate
    /// and that cycle's period (ms); NaN where every trajectory settles.
    public let amplitude: Matrix, period: Matrix
    /// How many of the four trajectories ended on a limit cycle.
    public let oscillating: Matrix
}

extension NeuralMassModel {
    /// `LimitCycles` over the grid of two named parameters (names as for `--set`), starting
    /// from `assignments` applied to the defaults; `progress` gets (rows done, rows) after
    /// every row of the grid.
    public static func cycleMap(assignments: [(name: String, value: Double)], x: (name: String, values: [Double]),
                                y: (name: String, values: [Double]), dt: Double = 0.05, duration: Double = 3000,
                                window: Double = 1000, progress: ((Int, Int) -> Void)? = nil) throws -> CycleMap {
        var base = defaultParameters
        try parameterSpecs.apply(assignments.map { (parameterAliases[$0.name] ?? $0.name, $0.value) }, to: &base, model: name)
        var amplitude = Matrix(rows: y.values.count, columns: x.values.count), period = amplitude, oscillating = amplitude
        for (r, vy) in y.values.enumerated() {
            for (c, vx) in x.values.enumerated() {
                var p = base
                try parameterSpecs.apply([(parameterAliases[x.name] ?? x.name, vx), (parameterAliases[y.name] ?? y.name, vy)], to: &p, model: name)
                let cycles = try LimitCycles.find(model: Self(parameters: p), dt: dt, duration: duration, window: window).compactMap { $0 }
                let largest = cycles.max { $0.amplitude < $1.amplitude }
                amplitude[r, c] = largest?.amplitude ?? .nan
                period[r, c] = largest?.period ?? .nan
                oscillating[r, c] = Double(cycles.count)
            }
            progress?(r + 1, y.values.count)
        }
        return CycleMap(xName: x.name, yName: y.name, xValues: x.values, yValues: y.values,
                        amplitude: amplitude, period: period, oscillating: oscillating)
    }
}
