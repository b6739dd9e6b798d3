import Foundation
import XCTest

/// Opens a report in headless Chromium and checks the page as a reader would see it: no
/// console message (an SVG attribute Chromium cannot draw, a script error), and in every figure
/// an axis title and tick labels, with every piece of text inside its figure (a label outside
/// is clipped). A script added to a copy of the page measures the drawn text and writes its
/// findings into the DOM, which `--dump-dom` returns. With WHOLEBRAIN_SCREENSHOTS=DIR set, a
/// screenshot of each page checked goes there as NAME.png.
enum ReportInBrowser {
    static var chromium: String? { ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) } }

    static let checkScript = """
    <script>
    (() => {
      const problems = [];
      const figures = [...document.querySelectorAll('svg.figure')];
      figures.forEach((svg, i) => {
        const name = (svg.querySelector('text') || {}).textContent || ('figure ' + i);
        if (![...svg.querySelectorAll('.axis-title')].some(t => t.textContent.trim())) problems.push(name + ': no axis title');
        if (svg.querySelectorAll('.tick').length < 2) problems.push(name + ': fewer than two tick labels');
        const box = svg.getBoundingClientRect();
        svg.querySelectorAll('text').forEach(t => {
          const r = t.getBoundingClientRect();
          if (r.width === 0) return;
          if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
            problems.push(name + ': text "' + t.textContent + '" is clipped');
        });
      });
      const out = document.createElement('pre');
      out.id = 'wb-check';
      out.textContent = 'figures ' + figures.length + '\\n' + problems.join('\\n');
      document.body.appendChild(out);
    })();
    </script>
    """

    /// The findings: how many figures, and what is wrong (empty when nothing is).
    static func check(_ report: String, screenshotName: String? = nil) throws -> (figures: Int, problems: [String]) {
        guard let browser = chromium else { throw XCTSkip("chromium is installed by make deps") }
        let html = try String(contentsOfFile: report, encoding: .utf8)
        let copy = NSTemporaryDirectory() + "wb-report-check-\(getpid())-\(UUID().uuidString).html"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try html.replacingOccurrences(of: "</body>", with: checkScript + "</body>").write(toFile: copy, atomically: true, encoding: .utf8)
        let r = try CommandLineTests.launch(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                                             "--window-size=1280,2000", "--dump-dom", "file://" + copy], executable: browser)
        var problems = r.err.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map { "console: " + $0 }
        guard let start = r.out.range(of: "<pre id=\"wb-check\">"), let end = r.out.range(of: "</pre>", range: start.upperBound..<r.out.endIndex) else {
            return (0, problems + ["the check script did not run (chromium status \(r.status))"])
        }
        let lines = r.out[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
        let figures = Int(lines.first?.replacingOccurrences(of: "figures ", with: "") ?? "") ?? 0
        problems += lines.dropFirst().map { $0.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&") }
        if let dir = ProcessInfo.processInfo.environment["WHOLEBRAIN_SCREENSHOTS"], let name = screenshotName {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = try CommandLineTests.launch(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,2400",
                                             "--screenshot=\(dir)/\(name).png", "file://" + report], executable: browser)
        }
        return (figures, problems)
    }

    /// Asserts the report at `report` shows at least `figures` figures and passes the check.
    static func assertReadable(_ report: String, figures minimum: Int, screenshotName: String? = nil,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try check(report, screenshotName: screenshotName)
        XCTAssertGreaterThanOrEqual(result.figures, minimum, "figures in \(report)", file: file, line: line)
        XCTAssert(result.problems.isEmpty, "\(report):\n" + result.problems.joined(separator: "\n"), file: file, line: line)
    }
}
