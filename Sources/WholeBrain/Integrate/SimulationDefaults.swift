/// Defaults shared by every command and job spec.
public enum SimulationDefaults {
    /// The default transient of every command, s: the Balloon-Windkessel haemodynamics start
    /// at rest (s = 0, f = v = q = 1) while the neural input is not 0 (S_E ~ 0.16 at 3 Hz), and
    /// settle like a damped oscillator (decay ~3 s, period ~10 s), a drift shared by every
    /// region that inflates FC. Measured (simulate, subject 101309, 0.3 G*, 120 s, seed 22):
    /// mean FC 0.62 after a 5-s transient, 0.070 after 10 s, 0.013 after 15 s and 0.012 after
    /// 20 s, against 0.015 for the settled last 90 s.
    public static let transient = 20.0
}
