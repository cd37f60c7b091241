/**
 * Prints one plain closing line per jest run, e.g. "unit: 23 passed, 0 failed, 0 skipped",
 * as the very last line, so CI logs state the count without parsing jest's own summary.
 */
class SummaryReporter {
  constructor() {
    const i = process.argv.indexOf("--selectProjects");
    this.label = i > 0 && process.argv[i + 1] ? process.argv[i + 1] : "tests";
  }
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${this.label}: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    process.once("exit", () => process.stdout.write(line));
  }
}
module.exports = SummaryReporter;
