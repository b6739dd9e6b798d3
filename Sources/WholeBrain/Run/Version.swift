/// The WholeBrain release, written into every summary.
public enum WholeBrainVersion {
    public static let string = "0.1.0"
}
