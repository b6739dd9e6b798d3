import Foundation
import CKernels

/// Counter-based Gaussian noise: the number for (seed, node, step, variable) is a pure
/// function of those four, so a node draws the same noise whichever process integrates it
/// and in whatever order nodes are visited.
///
/// Bits: the counter packs (node, step, variable, attempt) into 64 bits without overlap,
/// `node << 44 | step << 12 | variable << 8 | attempt` (nodes < 2^20, steps < 2^32,
/// variables < 16), keyed by the seed and hashed with the SplitMix64 finaliser (Stafford's
/// "variant 13"; Steele, Lea & Flood 2014): `mix((counter ^ k1) * k2)`, k1 and odd k2
/// derived from the seed. Distinct (node, step, variable) never share an input, and because
/// the seed also multiplies, the streams of two seeds are not shifted or permuted copies of
/// each other (as they would be with `mix(counter + seed)` or `mix(counter ^ seed)`).
///
/// Normals: the ziggurat method with 128 layers (Marsaglia & Tsang 2000, in Doornik's 2005
/// ZIGNOR form, R = 3.442619855899, V = 9.91256303526217e-3), layer index from the low 7
/// bits and the uniform from the top 53 bits of one draw. A candidate outside its layer's
/// inner rectangle (2.8%) takes the slow path: in the base layer the tail beyond R
/// by Marsaglia's exponential method, elsewhere the wedge test with the next draw and a new
/// candidate if it fails. The wedge and tail tests use `VectorMath`'s exp and log, so the
/// numbers do not depend on the platform's libm.
public struct CounterNoise: Sendable {
    public let seed: UInt64
    public let key1: UInt64, key2: UInt64

    public static let maxNodes = 1 << 20
    public static let maxSteps: UInt64 = 1 << 32

    public init(seed: UInt64) {
        self.seed = seed
        key1 = CounterNoise.mix(seed &+ 0x6a09_e667_f3bc_c909)
        key2 = CounterNoise.mix(key1 &+ 0xbb67_ae85_84ca_a73b) | 1
    }

    @inlinable @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The counter of (node, step, variable), attempt 0.
    @inlinable @inline(__always)
    public static func counter(node: Int, step: UInt64, variable: UInt64) -> UInt64 {
        UInt64(truncatingIfNeeded: node) << 44 | (step & 0xffff_ffff) << 12 | variable << 8
    }

    @inlinable @inline(__always)
    func bits(_ counter: UInt64) -> UInt64 { CounterNoise.mix((counter ^ key1) &* key2) }

    /// Uniform on (0, 1) from the top 53 bits (never exactly 0 or 1).
    @inlinable @inline(__always)
    static func open01(_ b: UInt64) -> Double {
        // b >> 11 < 2^53 fits an Int64: the signed conversion is one instruction.
        (Double(Int64(bitPattern: b >> 11)) + 0.5) * 0x1.0p-53
    }

    /// A uniform number on (0, 1) for (node, step, variable).
    public func uniform(node: Int, step: UInt64, variable: UInt64) -> Double {
        CounterNoise.open01(bits(CounterNoise.counter(node: node, step: step, variable: variable)))
    }

    /// A standard normal number for (node, step, variable). Hot loops fetch
    /// `Ziggurat.tables` once and pass it in.
    @inlinable @inline(__always)
    public func normal(node: Int, step: UInt64, variable: UInt64,
                       tables t: Ziggurat.Tables = Ziggurat.tables) -> Double {
        let base = CounterNoise.counter(node: node, step: step, variable: variable)
        let b = bits(base)
        let i = Int(b & 0x7f)
        let u = 2 * CounterNoise.open01(b) - 1
        if abs(u) < t.ratio[i] { return u * t.x[i] }
        return slowNormal(base: base, first: b)
    }

    /// Whether this CPU runs the AVX-512 kernels (`CKernels`).
    public static let hasVectorKernel = wb_avx512_available() != 0

    /// The normals of one variable for every node in `nodes` and `steps` steps from
    /// `firstStep`: `out[s * stepStride + (node - nodes.lowerBound) * nodeStride]`. Eight nodes
    /// at a time in the AVX-512 kernel where the CPU has it (`vector`), `normal` per value
    /// otherwise; the same bits either way.
    public func normals(nodes: Range<Int>, firstStep: UInt64, variable: UInt64, steps: Int, into out: UnsafeMutablePointer<Double>,
                        stepStride: Int, nodeStride: Int = 1, vector: Bool = CounterNoise.hasVectorKernel) {
        let t = Ziggurat.tables
        guard vector else {
            for s in 0..<steps {
                for (k, node) in nodes.enumerated() {
                    out[s * stepStride + k * nodeStride] = normal(node: node, step: firstStep &+ UInt64(s), variable: variable, tables: t)
                }
            }
            return
        }
        wb_ziggurat_normals(key1, key2, nodes.lowerBound, nodes.count, variable, firstStep, steps, t.x, t.ratio, t.density,
                            Ziggurat.r, out, stepStride, nodeStride)
    }

    /// exp and log of `VectorMath` (not the platform's libm, so the numbers are the same on every machine).
    static func exp(_ x: Double) -> Double { VectorMath.exp(VectorMath.Lanes(repeating: x))[0] }
    static func log(_ x: Double) -> Double { VectorMath.log(VectorMath.Lanes(repeating: x))[0] }

    @usableFromInline
    func slowNormal(base: UInt64, first: UInt64) -> Double {
        let t = Ziggurat.tables
        var attempt: UInt64 = 0
        var b = first
        // 255 attempts: the chance of needing them all is below 1e-400.
        while attempt < 255 {
            let i = Int(b & 0x7f)
            let u = 2 * Self.open01(b) - 1
            if abs(u) < t.ratio[i] { return u * t.x[i] }
            if i == 0 {
                // Tail beyond R: Marsaglia (1964).
                while attempt < 253 {
                    attempt += 1
                    let x = Self.log(Self.open01(bits(base | attempt))) / Ziggurat.r
                    attempt += 1
                    let y = Self.log(Self.open01(bits(base | attempt)))
                    if -2 * y >= x * x { return u < 0 ? x - Ziggurat.r : Ziggurat.r - x }
                }
                return 0
            }
            // Wedge: accept if a uniform point between the layer's edges lies under the density.
            let x = u * t.x[i]
            attempt += 1
            if t.density[i + 1] + Self.open01(bits(base | attempt)) * (t.density[i] - t.density[i + 1]) < Self.exp(-0.5 * x * x) { return x }
            attempt += 1
            b = bits(base | attempt)
        }
        return 0
    }
}

/// Tables of the 128-layer normal ziggurat, computed once with `VectorMath`'s exp and log (the
/// same on every machine) and never freed (the pointers are plain values, so passing them
/// around costs no reference counting).
public enum Ziggurat {
    /// The base layer's edge R: values beyond it come from the tail.
    public static let r = 3.442619855899
    static let v = 9.91256303526217e-3
    static let layers = 128

    public struct Tables: @unchecked Sendable {
        /// Layer edges: x[0] = V / f(R), x[1] = R, ..., x[128] = 0.
        public let x: UnsafePointer<Double>
        /// x[i + 1] / x[i] for i < 128.
        public let ratio: UnsafePointer<Double>
        /// The unnormalised density exp(-x^2 / 2) at each layer edge, 129 values.
        public let density: UnsafePointer<Double>
    }

    public static let tables: Tables = {
        let x = UnsafeMutablePointer<Double>.allocate(capacity: layers + 1)
        var f = CounterNoise.exp(-0.5 * r * r)
        x[0] = v / f
        x[1] = r
        for i in 2..<layers {
            x[i] = (-2 * CounterNoise.log(v / x[i - 1] + f)).squareRoot()
            f = CounterNoise.exp(-0.5 * x[i] * x[i])
        }
        x[layers] = 0
        let ratio = UnsafeMutablePointer<Double>.allocate(capacity: layers)
        for i in 0..<layers { ratio[i] = x[i + 1] / x[i] }
        let density = UnsafeMutablePointer<Double>.allocate(capacity: layers + 1)
        for i in 0...layers { density[i] = CounterNoise.exp(-0.5 * x[i] * x[i]) }
        return Tables(x: UnsafePointer(x), ratio: UnsafePointer(ratio), density: UnsafePointer(density))
    }()
}
