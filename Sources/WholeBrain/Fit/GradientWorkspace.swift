/// Memory for the trajectory a gradient records and for its cotangents, kept between
/// gradient computations.
///
/// A gradient over T steps of N nodes records about 58 bytes per node-step (S_E, S_I, the
/// network input, the noise, the transfer functions' exponentials, where a bound was hit)
/// and needs 24 more for cotangents. Fresh
/// arrays of that size come from the system as untouched pages, and every first touch of a
/// page is a fault; a fit computes hundreds of gradients of the same size, so it keeps one
/// workspace and the pages are touched once. Buffers grow when a larger one is asked for.
/// One workspace serves one gradient computation at a time.
public final class GradientWorkspace: @unchecked Sendable {
    enum Values: Int, CaseIterable { case excitatoryRows, inhibitory, networkInput, noiseE, noiseI, exponentialE, exponentialI, gradientRows, gradientInhibitory, couplingCotangents }
    enum Flags: Int, CaseIterable { case clampedE, clampedI }

    private var values = [RWWGradient.Buffer<Double>?](repeating: nil, count: Values.allCases.count)
    private var valueCapacity = [Int](repeating: 0, count: Values.allCases.count)
    private var flags = [RWWGradient.Buffer<Bool>?](repeating: nil, count: Flags.allCases.count)
    private var flagCapacity = [Int](repeating: 0, count: Flags.allCases.count)

    public init() {}

    /// At least `count` values (contents left from earlier use unless the buffer grew).
    func values(_ slot: Values, count: Int) -> UnsafeMutablePointer<Double> {
        if valueCapacity[slot.rawValue] < count {
            values[slot.rawValue] = RWWGradient.Buffer(count: count, repeating: 0)
            valueCapacity[slot.rawValue] = count
        }
        return values[slot.rawValue]!.pointer
    }

    /// At least `count` flags (contents left from earlier use unless the buffer grew).
    func flags(_ slot: Flags, count: Int) -> UnsafeMutablePointer<Bool> {
        if flagCapacity[slot.rawValue] < count {
            flags[slot.rawValue] = RWWGradient.Buffer(count: count, repeating: false)
            flagCapacity[slot.rawValue] = count
        }
        return flags[slot.rawValue]!.pointer
    }
}
