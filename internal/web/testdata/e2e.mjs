// End-to-end test of the map page in Debian's headless Chromium, driven by
// playwright-core. Usage: node e2e.mjs <base-url> <lon> <lat> <screenshot.png>
// Prints a JSON report; exits 1 on a failed check.
import { chromium } from 'playwright-core';
import { settle } from './journey.mjs';

const [base, lon, lat, shot] = process.argv.slice(2);
const report = { checks: {} };
function check(name, ok, detail) {
  report.checks[name] = { ok: !!ok, detail };
  if (!ok) report.failed = true;
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
});
await settle(report, browser, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const idle = () => page.evaluate(() => new Promise((res) => {
    const m = window.atigip.map;
    if (m.loaded() && !m.isMoving()) { m.once('idle', res); m.triggerRepaint(); } else m.once('idle', res);
  }));
  await page.goto(`${base}/#6/${lat}/${lon}`);
  await page.waitForFunction(() => window.atigip && window.atigip.ready, null, { timeout: 60000 });
  check('page title', (await page.title()).includes('TIG'), await page.title());

  // 1. The map renders posts (clusters at zoom 6).
  const rendered = await page.evaluate(() => window.atigip.map.queryRenderedFeatures({ layers: ['posts-clusters', 'posts-points'] })
    .map((f) => ({ cluster: f.properties.cluster, n: f.properties.point_count, xy: window.atigip.map.project(f.geometry.coordinates) })));
  check('posts rendered', rendered.length > 0, rendered.length);
  const boundaries = await page.evaluate(() => window.atigip.map.queryRenderedFeatures({ layers: ['regions'] }).length);
  check('boundaries rendered', boundaries > 0, boundaries);
  await page.screenshot({ path: shot.replace(/\.png$/, '-clusters.png') });

  // 2. A click on a cluster zooms in.
  const cl = rendered.filter((f) => f.cluster && f.xy.x > 380 && f.xy.x < 1150 && f.xy.y > 60 && f.xy.y < 760)
    .sort((a, b) => b.n - a.n)[0];
  check('a cluster on screen', cl, cl);
  if (cl) {
    const box = await page.locator('#map canvas').boundingBox();
    const z0 = await page.evaluate(() => window.atigip.map.getZoom());
    await page.mouse.click(box.x + cl.xy.x, box.y + cl.xy.y);
    await page.waitForFunction((z) => window.atigip.map.getZoom() > z + 0.5 && !window.atigip.map.isMoving(), z0, { timeout: 15000 });
    const z1 = await page.evaluate(() => window.atigip.map.getZoom());
    check('cluster click zooms in', z1 > z0, { from: z0, to: z1 });
  }

  // 3. A filter changes what is drawn (single posts at zoom 13).
  await page.evaluate(([lo, la]) => window.atigip.map.jumpTo({ center: [lo, la], zoom: 13.2 }), [Number(lon), Number(lat)]);
  await idle();
  const count = () => page.evaluate(() => window.atigip.map.queryRenderedFeatures({ layers: ['posts-points'] })
    .map((f) => f.properties.minors_accepted));
  const before = await count();
  await page.click('label[for=f-mineurs]');
  await idle();
  const after = await count();
  check('posts before filter', before.length > 0, before.length);
  check('filter applied', after.every((m) => m === true) && after.length < before.length,
    { before: before.length, after: after.length });
  await page.click('label[for=f-mineurs]');
  await idle();
  check('filter removed', (await count()).length === before.length, null);

  // 4. A popup on a post.
  const vh = page.viewportSize().height;
  const top = (await page.locator('#map canvas').boundingBox()).y;
  const pt = await page.evaluate((maxY) => {
    const m = window.atigip.map;
    return m.queryRenderedFeatures({ layers: ['posts-points'] }).map((f) => m.project(f.geometry.coordinates))
      .find((p) => p.y < maxY && p.y > 10 && p.x > 10);
  }, vh - top - 10);
  if (pt) {
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + pt.x, box.y + pt.y);
    await page.waitForSelector('.maplibregl-popup .popup h3', { timeout: 5000 });
    const text = await page.textContent('.maplibregl-popup');
    check('post popup', text.includes('Mineurs acceptés') && text.includes('Horaires'), text.slice(0, 120));
  }
  await page.screenshot({ path: shot });
  check('no page error', errors.length === 0, errors);
});
