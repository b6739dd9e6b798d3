import Foundation

/// Balloon-Windkessel haemodynamics turning neural activity z(t) into a BOLD signal.
///
/// Friston, Mechelli, Turner & Price (2000), "Nonlinear responses in fMRI: the Balloon model,
/// Volterra kernels, and other hemodynamics", NeuroImage 12:466; the BOLD equation and its
/// classical coefficients as used by Stephan et al. (2007), NeuroImage 38:387. Time in s:
///
///     ds/dt = z - kappa s - gamma (f - 1)          vasodilatory signal
///     df/dt = s                                    inflow
///     tau dv/dt = f - v^(1/alpha)                  blood volume
///     tau dq/dt = f (1 - (1 - rho)^(1/f)) / rho - v^(1/alpha) q / v    deoxyhaemoglobin
///     y = V0 (k1 (1 - q) + k2 (1 - q/v) + k3 (1 - v))
///
/// kappa = 0.65 /s, gamma = 0.41 /s, tau = 0.98 s, alpha = 0.32, rho = 0.34, V0 = 0.02,
/// k1 = 7 rho, k2 = 2, k3 = 2 rho - 0.2. Rest: s = 0, f = v = q = 1, y = 0.
public struct BalloonWindkessel: Sendable, Equatable {
    public var kappa = 0.65, gamma = 0.41, tau = 0.98, alpha = 0.32, rho = 0.34, v0 = 0.02
    public init() {}

    public var k1: Double { 7 * rho }
    public var k2: Double { 2 }
    public var k3: Double { 2 * rho - 0.2 }

    public typealias Lanes = VectorMath.Lanes

    /// State of four nodes, one lane each.
    public struct State {
        public var s = Lanes(repeating: 0), f = Lanes(repeating: 1), v = Lanes(repeating: 1), q = Lanes(repeating: 1)
        public init() {}
    }

    /// v^(1/alpha). When 8/alpha is a whole number p (alpha = 0.32 gives p = 25) this is
    /// v^(p div 8) * v^((p mod 8)/8) from multiplications and square roots, which are exactly
    /// rounded; otherwise exp(log(v) / alpha).
    @inlinable @inline(__always)
    func volumePower(_ v: Lanes, invAlpha: Double, eighths: Int) -> Lanes {
        guard eighths > 0 else { return VectorMath.exp(VectorMath.log(v) * invAlpha) }
        let r2 = v.squareRoot(), r4 = r2.squareRoot(), r8 = r4.squareRoot()
        var result = Lanes(repeating: 1)
        let whole = eighths / 8, frac = eighths % 8
        var base = v, e = whole
        while e > 0 { if e & 1 == 1 { result *= base }; base *= base; e >>= 1 }
        if frac & 4 != 0 { result *= r2 }
        if frac & 2 != 0 { result *= r4 }
        if frac & 1 != 0 { result *= r8 }
        return result
    }

    /// 8/alpha when it is a whole number below 256, else 0.
    @inlinable
    var alphaEighths: Int {
        let p = 8 / alpha
        return abs(p - p.rounded()) < 1e-9 && p.rounded() >= 1 && p < 256 ? Int(p.rounded()) : 0
    }

    @inlinable @inline(__always)
    func derivative(_ x: State, z: Lanes, invTau: Double, invAlpha: Double, log1MinusRho: Double, invRho: Double,
                    eighths: Int) -> State {
        let vPow = volumePower(x.v, invAlpha: invAlpha, eighths: eighths)
        let extraction = 1 - VectorMath.exp(log1MinusRho / x.f)
        var d = State()
        let decay: Lanes = kappa * x.s
        let feedback: Lanes = gamma * (x.f - 1)
        d.s = (z - decay) - feedback
        d.f = x.s
        d.v = (x.f - vPow) * invTau
        let delivered: Lanes = x.f * extraction * invRho
        let outflow: Lanes = vPow * x.q / x.v
        d.q = (delivered - outflow) * invTau
        return d
    }

    /// One classical Runge-Kutta step of `h` seconds with z held constant over the step.
    @inlinable
    public func rk4Step(_ x: inout State, z: Lanes, h: Double) {
        let invTau = 1 / tau, invAlpha = 1 / alpha, l = Foundation.log(1 - rho), invRho = 1 / rho
        let e = alphaEighths
        let k1 = derivative(x, z: z, invTau: invTau, invAlpha: invAlpha, log1MinusRho: l, invRho: invRho, eighths: e)
        let k2 = derivative(x.advanced(k1, 0.5 * h), z: z, invTau: invTau, invAlpha: invAlpha, log1MinusRho: l, invRho: invRho, eighths: e)
        let k3 = derivative(x.advanced(k2, 0.5 * h), z: z, invTau: invTau, invAlpha: invAlpha, log1MinusRho: l, invRho: invRho, eighths: e)
        let k4 = derivative(x.advanced(k3, h), z: z, invTau: invTau, invAlpha: invAlpha, log1MinusRho: l, invRho: invRho, eighths: e)
        let w = h / 6
        x.s += w * BalloonWindkessel.combine(k1.s, k2.s, k3.s, k4.s)
        x.f += w * BalloonWindkessel.combine(k1.f, k2.f, k3.f, k4.f)
        x.v += w * BalloonWindkessel.combine(k1.v, k2.v, k3.v, k4.v)
        x.q += w * BalloonWindkessel.combine(k1.q, k2.q, k3.q, k4.q)
    }

    @inlinable @inline(__always)
    static func combine(_ a: Lanes, _ b: Lanes, _ c: Lanes, _ d: Lanes) -> Lanes {
        let middle: Lanes = b + c
        return (a + 2 * middle) + d
    }

    /// The BOLD signal of a state.
    @inlinable
    public func bold(_ x: State) -> Lanes {
        let a: Lanes = k1 * (1 - x.q)
        let b: Lanes = k2 * (1 - x.q / x.v)
        let c: Lanes = k3 * (1 - x.v)
        return v0 * ((a + b) + c)
    }
}

extension BalloonWindkessel.State {
    @inlinable @inline(__always)
    func advanced(_ d: Self, _ h: Double) -> Self {
        var y = self
        y.s += h * d.s; y.f += h * d.f; y.v += h * d.v; y.q += h * d.q
        return y
    }
}
