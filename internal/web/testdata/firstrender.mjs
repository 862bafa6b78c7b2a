// Time to counts: loads the map page n times in headless Chromium, offline
// (every request off the server aborted), each time in a fresh browser
// context (empty cache), and prints the milliseconds from navigation start
// until the first cluster counts are drawn, as JSON.
// Usage: node firstrender.mjs <base-url> <n>
import { chromium } from 'playwright-core';

const [base, n] = [process.argv[2], Number(process.argv[3] || 1)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
});
const out = { ms: [], counts: [], load: [], dom: [] };
try {
  for (let i = 0; i < n; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.route((url) => !url.href.startsWith(base), (r) => r.abort());
    const page = await ctx.newPage();
    await page.goto(`${base}/#5/46.6/2.35`);
    await page.waitForFunction(() => window.atigip && window.atigip.countsAt, null, { timeout: 120000 });
    const r = await page.evaluate(() => ({ ms: window.atigip.countsAt, counts: window.atigip.counts, load: window.atigip.loadAt,
      dom: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd }));
    out.load.push(r.load);
    out.dom.push(r.dom);
    out.ms.push(r.ms);
    out.counts.push(r.counts);
    await ctx.close();
  }
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
process.exit(out.error ? 1 : 0);
