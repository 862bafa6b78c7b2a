// Shared end of the journey scripts: run the journey, record an uncaught
// error as a failure, close the browser, print the report, exit non-zero
// on failure (the Go test reads the report).
export async function settle(report, browser, journey) {
  try {
    await journey();
  } catch (e) {
    report.failed = true;
    report.error = String(e && e.stack || e);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report, null, 1));
  process.exit(report.failed ? 1 : 0);
}
