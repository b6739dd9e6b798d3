import Foundation

/// Gaussian priors with learnable means and precisions on fitted parameters (Griffiths et
/// al. 2022), made proper by a hyperprior on each precision.
///
/// For a parameter p with prior mean m and precision v = e^w (w is what the optimiser moves):
///
///     L_prior = 0.5 v (p - m)^2 - 0.5 log v + beta v,     beta = 0.5 s^2
///
/// The first two terms are the negative log density of N(m, 1/v) up to a constant, with the
/// sign that stops v from collapsing to zero. With m learnable they alone are unbounded below
/// (m -> p, v -> infinity), so an exponential hyperprior (rate beta) on v is added: the best v
/// is then 1 / ((p - m)^2 + s^2), never above 1/s^2 -- s is the narrowest prior width allowed.
/// Gradients: dL/dp = v (p - m), dL/dm = -v (p - m), dL/dw = 0.5 v (p - m)^2 - 0.5 + beta v.
public struct ParameterPriors: Codable, Equatable, Sendable {
    /// Prior means, one per parameter.
    public var means: [Double]
    /// Log precisions w (v = e^w).
    public var logPrecisions: [Double]
    /// Narrowest prior standard deviation of each parameter.
    public let floors: [Double]

    /// Priors centred on the starting values with precision 1/s^2 (the hyperprior's optimum
    /// there), s = `relativeFloor` x |value| (at least 1e-3).
    public init(values: [Double], relativeFloor: Double = 0.1) {
        means = values
        floors = values.map { max(relativeFloor * abs($0), 1e-3) }
        logPrecisions = floors.map { -2 * Foundation.log($0) }
    }

    /// The term's value and its gradients with respect to the parameters, the means and the
    /// log precisions.
    public func evaluate(_ values: [Double]) -> (value: Double, parameters: [Double], means: [Double], logPrecisions: [Double]) {
        var value = 0.0
        var gp = [Double](repeating: 0, count: values.count), gm = gp, gw = gp
        for k in values.indices {
            let v = Foundation.exp(logPrecisions[k]), beta = 0.5 * floors[k] * floors[k], d = values[k] - means[k]
            value += 0.5 * v * d * d - 0.5 * logPrecisions[k] + beta * v
            gp[k] = v * d
            gm[k] = -v * d
            gw[k] = 0.5 * v * d * d - 0.5 + beta * v
        }
        return (value, gp, gm, gw)
    }
}
