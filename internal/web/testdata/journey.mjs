import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// Shared parts of the journey scripts (cases, host, ipro, referent, site).

// newReport starts a journey's report, and check records one check in it
// (a failed check fails the journey).
export function newReport(journey) {
  const report = { journey, checks: {}, shots: [], axe: {} };
  function check(name, ok, detail) {
    report.checks[name] = { ok: !!ok, detail };
    if (!ok) report.failed = true;
  }
  return { report, check };
}

// launch starts Debian's headless Chromium; map pages draw with WebGL,
// through SwiftShader.
export function launch({ map = false } = {}) {
  const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (map) args.push('--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist');
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
}

// axeCheck returns axe(target, state): axe-core on a page's (or a
// frame's) current state, no violation allowed.
export function axeCheck(report, check) {
  return async function axe(target, state) {
    await target.addScriptTag({ path: axePath });
    const res = await target.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    report.axe[state] = res.length;
    check('axe: ' + state, res.length === 0, res);
  };
}

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
