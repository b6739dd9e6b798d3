import WholeBrain

/// The feedback-inhibition target rate the rww commands run with: --fic HZ, none with
/// --no-fic, 3 Hz by default; J_i set by hand (`--set J_i=...`) only without it.
func feedbackInhibitionRate(fic: Double?, noFic: Bool, assignments: [(name: String, value: Double)]) throws -> Double? {
    if noFic, let fic {
        throw WholeBrainError.badValue(source: "--fic", value: "\(fic)", expected: "either --fic or --no-fic, not both")
    }
    let rate = noFic ? nil : (fic ?? RWWOperatingPoint.defaultFICRate)
    if rate != nil, let j = assignments.first(where: { $0.name == "J_i" || ReducedWongWang.parameterAliases[$0.name] == "J_i" }) {
        throw WholeBrainError.badValue(source: "--set", value: "\(j.name)=\(j.value)",
                                       expected: "no J_i while feedback inhibition control sets J_i per region (on by default); add --no-fic to set a uniform J_i")
    }
    return rate
}
