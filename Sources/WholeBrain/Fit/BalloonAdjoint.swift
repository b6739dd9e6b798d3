import Foundation

/// Reverse-mode derivatives of the Balloon-Windkessel model for the discrete adjoint.
///
/// The forward step is the engine's own (`BalloonWindkessel.rk4Step`, evaluated in one lane),
/// so these are the exact derivatives of what the simulator computes, up to rounding. The
/// vector-Jacobian product of the drift f(x, z) with a cotangent w = (w_s, w_f, w_v, w_q) is
///
///     d/ds: -kappa w_s + w_f
///     d/df: -gamma w_s + w_v / tau + w_q (E + f E') / (rho tau)
///     d/dv: -w_v v^(1/alpha - 1) / (alpha tau) - w_q (1/alpha - 1) q v^(1/alpha - 2) / tau
///     d/dq: -w_q v^(1/alpha - 1) / tau
///     d/dz: w_s
///
/// with E(f) = 1 - (1 - rho)^(1/f) and E'(f) = (1 - rho)^(1/f) log(1 - rho) / f^2. The RK4
/// step is differentiated stage by stage, recomputing the stage points from the step's start.
extension BalloonWindkessel {
    /// The state of one node.
    public struct Point: Equatable, Sendable, Codable {
        public var s, f, v, q: Double
        public init(s: Double = 0, f: Double = 1, v: Double = 1, q: Double = 1) { self.s = s; self.f = f; self.v = v; self.q = q }

        static func + (a: Point, b: Point) -> Point { Point(s: a.s + b.s, f: a.f + b.f, v: a.v + b.v, q: a.q + b.q) }
        static func * (k: Double, a: Point) -> Point { Point(s: k * a.s, f: k * a.f, v: k * a.v, q: k * a.q) }
        public func dot(_ b: Point) -> Double { s * b.s + f * b.f + v * b.v + q * b.q }
    }

    func lanes(_ p: Point) -> State {
        var x = State()
        x.s = Lanes(repeating: p.s); x.f = Lanes(repeating: p.f); x.v = Lanes(repeating: p.v); x.q = Lanes(repeating: p.q)
        return x
    }

    /// One RK4 step of one node, with the engine's arithmetic.
    public func rk4Step(_ p: Point, z: Double, h: Double) -> Point {
        var x = lanes(p)
        rk4Step(&x, z: Lanes(repeating: z), h: h)
        return Point(s: x.s[0], f: x.f[0], v: x.v[0], q: x.q[0])
    }

    /// The BOLD signal of one node.
    public func bold(_ p: Point) -> Double { bold(lanes(p))[0] }

    /// d BOLD / d state.
    public func boldGradient(_ p: Point) -> Point {
        Point(s: 0, f: 0, v: v0 * (k2 * p.q / (p.v * p.v) - k3), q: v0 * (-k1 - k2 / p.v))
    }

    /// The adjoint of one RK4 step from x with input z: given the cotangent of the new state,
    /// returns the cotangents of x and z (the four-lane adjoint in one lane, so one arithmetic
    /// serves the gradient and its tests).
    public func rk4StepAdjoint(_ x: Point, z: Double, h: Double, _ lambda: Point) -> (state: Point, input: Double) {
        let (lx, lz) = rk4StepAdjoint(lanes(x), z: Lanes(repeating: z), h: h, lanes(lambda))
        return (Point(s: lx.s[0], f: lx.f[0], v: lx.v[0], q: lx.q[0]), lz[0])
    }

    /// Four nodes' points as lanes, and back (nodes past `count` repeat the last one).
    func lanes(_ points: UnsafePointer<Point>, count: Int) -> State {
        var x = State()
        for l in 0..<4 {
            let p = points[min(l, count - 1)]
            x.s[l] = p.s; x.f[l] = p.f; x.v[l] = p.v; x.q[l] = p.q
        }
        return x
    }

    func store(_ x: State, into points: UnsafeMutablePointer<Point>, count: Int) {
        for l in 0..<min(count, 4) { points[l] = Point(s: x.s[l], f: x.f[l], v: x.v[l], q: x.q[l]) }
    }

    /// `driftVJP` for four nodes (lanes), powers through the vector exp and log.
    func driftVJP(_ x: State, z: Lanes, _ w: State) -> (State, Lanes) {
        let a = 1 / alpha
        let logV = VectorMath.log(x.v)
        let vA1 = VectorMath.exp((a - 1) * logV)
        let l = Foundation.log(1 - rho)
        let p = VectorMath.exp(l / x.f)
        let e = 1 - p
        let de = p * l / (x.f * x.f)
        var g = State()
        g.s = -kappa * w.s + w.f
        g.f = -gamma * w.s + w.v / tau + w.q * (e + x.f * de) / (rho * tau)
        g.v = -w.v * a * vA1 / tau - w.q * (a - 1) * x.q * vA1 / x.v / tau
        g.q = -w.q * vA1 / tau
        return (g, w.s)
    }

    /// `rk4StepAdjoint` for four nodes (lanes); the stage points are recomputed with the
    /// forward step's own drift.
    func rk4StepAdjoint(_ x: State, z: Lanes, h: Double, _ lambda: State) -> (state: State, input: Lanes) {
        let invTau = 1 / tau, invAlpha = 1 / alpha, l = Foundation.log(1 - rho), invRho = 1 / rho, e = alphaEighths
        func f(_ y: State) -> State {
            derivative(y, z: z, invTau: invTau, invAlpha: invAlpha, log1MinusRho: l, invRho: invRho, eighths: e)
        }
        let k1 = f(x)
        let x2 = x.advanced(k1, 0.5 * h)
        let k2 = f(x2)
        let x3 = x.advanced(k2, 0.5 * h)
        let k3 = f(x3)
        let x4 = x.advanced(k3, h)
        var lx = lambda, lz = Lanes()
        var lk1 = State.zero.advanced(lambda, h / 6), lk2 = State.zero.advanced(lambda, h / 3), lk3 = lk2
        let lk4 = lk1
        let (g4, z4) = driftVJP(x4, z: z, lk4)
        lx = lx.advanced(g4, 1); lk3 = lk3.advanced(g4, h); lz += z4
        let (g3, z3) = driftVJP(x3, z: z, lk3)
        lx = lx.advanced(g3, 1); lk2 = lk2.advanced(g3, 0.5 * h); lz += z3
        let (g2, z2) = driftVJP(x2, z: z, lk2)
        lx = lx.advanced(g2, 1); lk1 = lk1.advanced(g2, 0.5 * h); lz += z2
        let (g1, z1) = driftVJP(x, z: z, lk1)
        lx = lx.advanced(g1, 1); lz += z1
        return (lx, lz)
    }
}

extension BalloonWindkessel.State {
    /// All lanes zero (a cotangent).
    static var zero: Self {
        var x = Self()
        x.f = .init(); x.v = .init(); x.q = .init()
        return x
    }
}
