import Foundation

/// The ADAM optimiser (Kingma & Ba 2015), with optional clipping of the gradient's norm.
///
///     m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
///     theta <- theta - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
///
/// Its state is a plain value, so it can be checkpointed and resumed exactly.
public struct Adam: Codable, Equatable, Sendable {
    public var learningRate: Double
    public var beta1: Double, beta2: Double, epsilon: Double
    /// Rescale the gradient to this Euclidean norm when it is longer (nil: no clipping).
    public var clipNorm: Double?
    public private(set) var m: [Double], v: [Double]
    public private(set) var steps: Int

    public init(parameters: Int, learningRate: Double = 0.05, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, clipNorm: Double? = nil) {
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.clipNorm = clipNorm
        m = [Double](repeating: 0, count: parameters)
        v = m
        steps = 0
    }

    /// Applies one step to `theta` given the gradient of the loss.
    public mutating func step(_ theta: inout [Double], gradient g0: [Double]) {
        precondition(theta.count == m.count && g0.count == m.count, "Adam: parameter count changed")
        var g = g0
        if let clipNorm {
            let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > clipNorm { g = g.map { $0 * clipNorm / norm } }
        }
        steps += 1
        let c1 = 1 - Foundation.pow(beta1, Double(steps)), c2 = 1 - Foundation.pow(beta2, Double(steps))
        for k in theta.indices {
            m[k] = beta1 * m[k] + (1 - beta1) * g[k]
            v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k]
            theta[k] -= learningRate * (m[k] / c1) / ((v[k] / c2).squareRoot() + epsilon)
        }
    }
}
