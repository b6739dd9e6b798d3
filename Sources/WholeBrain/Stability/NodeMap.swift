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
