import XCTest
import WholeBrain

/// Every command's --help shows its examples whole: each example line fits the 80 columns the
/// help is wrapped to, so no command is broken mid-line (a long one continues with a trailing
/// backslash on an indented line, as a shell reads it).
final class HelpTextTests: XCTestCase {
    static let commands = [["simulate"], ["analyze"], ["fit"], ["stability"], ["sweep"], ["protocol"], ["report"], ["collect"],
                           ["models"], ["info"], ["slurm", "submit"], ["slurm", "protocol"], ["slurm", "status"]]

    func testExamplesAreNotWrappedMidCommand() throws {
        var examples = 0
        for command in Self.commands {
            let help = try CommandLineTests.launch(command + ["--help"]).out
            let lines = help.components(separatedBy: "\n")
            for (k, line) in lines.enumerated() where line.hasPrefix("  wholebrain ") {
                examples += 1
                var j = k
                // Continuation lines: a trailing backslash, then a line indented deeper.
                while lines[j].hasSuffix("\\") {
                    XCTAssert(j + 1 < lines.count && lines[j + 1].hasPrefix("      "), "\(command): \(lines[j]) continues on an indented line")
                    j += 1
                }
                let next = j + 1 < lines.count ? lines[j + 1] : ""
                XCTAssert(next.isEmpty || next.hasPrefix("  wholebrain ") || next.hasPrefix("OPTIONS") || next.hasPrefix("USAGE"),
                          "\(command.joined(separator: " ")) --help: the example '\(lines[j])' is followed by '\(next)', a command cut at the line's end?")
                for l in lines[k...j] { XCTAssertLessThanOrEqual(l.count, 80, "\(command): \(l)") }
            }
        }
        XCTAssertGreaterThanOrEqual(examples, 12, "the help texts' examples were found")
    }
}
