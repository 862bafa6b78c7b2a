// The vector basemap in headless Chromium, offline (every request off the
// server aborted): the map over Saint-Barthélemy at zooms 5, 10 and 15.
// Checks that place names are rendered (so glyphs came from the server),
// that roads are drawn from zoom 10, and that the canvas is not empty
// (many colours, not one), glyphs and sprites served; screenshots go to <out>/basemap-z<zoom>.png.
// With "communes" as third argument, the map is the default basemap (the
// embedded communes and outlines) over Lyon at zooms 5, 8 and 11: place
// names only (no roads in it).
// Usage: node basemap.mjs <base-url> <out-dir> [communes]
import { chromium } from 'playwright-core';
import { join } from 'node:path';

const [base, out, view] = [process.argv[2], process.argv[3], process.argv[4] || 'osm'];
const communes = view === 'communes';
const views = communes ? [[5, false], [8, false], [11, false]] : [[5, false], [10, true], [15, true]];
const centre = communes ? '45.75/4.85' : '17.9/-62.84';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
});
const failures = [];
const report = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  let offsite = 0;
  await ctx.route((url) => !url.href.startsWith(base), (r) => { offsite++; return r.abort(); });
  const glyphs = [];
  const sprites = [];
  for (const [zoom, wantRoads] of views) {
    const page = await ctx.newPage();
    page.on('response', (r) => {
      if (r.url().includes('/fonts/')) glyphs.push(r.status());
      if (r.url().includes('/sprites/')) sprites.push(r.status());
    });
    await page.goto(`${base}/#${zoom}/${centre}`);
    await page.waitForFunction(() => window.atigip && window.atigip.map && window.atigip.map.loaded() &&
      window.atigip.map.areTilesLoaded() && !window.atigip.map.isMoving(), null, { timeout: 60000 });
    // Symbols are placed over a few frames after the tiles are in.
    await page.waitForTimeout(1500);
    const r = await page.evaluate(() => {
      const m = window.atigip.map;
      const ids = m.getStyle().layers.map((l) => l.id);
      const q = (pred) => m.queryRenderedFeatures({ layers: ids.filter(pred) });
      const places = [...new Set(q((id) => id === 'fond-noms-lieux').map((f) => f.properties.name))];
      const roads = q((id) => id.startsWith('fond-routes-')).length;
      const roadNames = [...new Set(q((id) => id === 'fond-noms-routes').map((f) => f.properties.name || f.properties.ref))];
      return { zoom: m.getZoom(), places, roads, roadNames, error: window.atigip.lastError || null };
    });
    const shot = join(out, `basemap-${view}-z${zoom}.png`);
    const png = await page.locator('#map canvas').screenshot({ path: shot });
    const pixels = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const colours = new Map();
      for (let i = 0; i < d.length; i += 4) {
        const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        colours.set(k, (colours.get(k) || 0) + 1);
      }
      const top = Math.max(...colours.values());
      return { colours: colours.size, dominant: top / (d.length / 4) };
    }, png.toString('base64'));
    report.push({ ...r, pixels, shot });
    if (r.places.length === 0) failures.push(`z${zoom}: no place name rendered`);
    if (wantRoads && r.roads === 0) failures.push(`z${zoom}: no road drawn`);
    if (communes && zoom >= 8 && r.places.length < 10) failures.push(`z${zoom}: only ${r.places.length} commune names`);
    if (!communes && zoom === 15 && r.roadNames.length === 0) failures.push('z15: no road name rendered');
    if (pixels.colours < 50 || pixels.dominant > 0.97) failures.push(`z${zoom}: canvas nearly empty (${pixels.colours} colours, ${Math.round(pixels.dominant * 100)} % one colour)`);
    await page.close();
  }
  if (!glyphs.length || glyphs.some((s) => s !== 200)) failures.push(`glyph requests: ${JSON.stringify(glyphs)}`);
  if (sprites.some((s) => s !== 200)) failures.push(`sprite requests: ${JSON.stringify(sprites)}`);
  report.push({ offsite, glyphs: glyphs.length, sprites: sprites.length });
} catch (e) {
  failures.push(String(e && e.stack || e));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ report, failures }, null, 1) + '\n');
process.exit(failures.length ? 1 : 0);
