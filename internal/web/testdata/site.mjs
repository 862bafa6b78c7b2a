// End-to-end journeys of the website in Debian's headless Chromium, driven
// by playwright-core, each page state checked by axe-core.
// Usage: node site.mjs <journey> with SITE (JSON: base, viewport, out,
// tokens, ids) in the environment. Journeys: desktop, mobile (every page at
// that viewport), keyboard (keyboard only). Prints a JSON report; exits 1
// on a failed check.
import { settle, newReport, launch, axeCheck } from './journey.mjs';
import { join } from 'node:path';

const journey = process.argv[2];
const cfg = JSON.parse(process.env.SITE);
const { base, out, tokens, ids } = cfg;
const viewports = { desktop: { width: 1280, height: 800 }, mobile: { width: 375, height: 667 }, keyboard: { width: 1280, height: 800 } };
const { report, check } = newReport(journey);

const browser = await launch({ map: true });

async function context(role) {
  const ctx = await browser.newContext({ viewport: viewports[journey], locale: 'fr-FR' });
  if (role) {
    const u = new URL(base);
    await ctx.addCookies([{ name: 'atigip_session', value: tokens[role], domain: u.hostname, path: '/', httpOnly: true }]);
  }
  // No internet: any request off the server fails, as it would offline.
  await ctx.route((url) => !url.href.startsWith(base), (r) => { report.offsite = (report.offsite || 0) + 1; return r.abort(); });
  return ctx;
}

async function shot(page, name, full = true) {
  const file = join(out, `${journey}-${name}.png`);
  await page.screenshot({ path: file, fullPage: full });
  report.shots.push(file);
}

const axe = axeCheck(report, check);

async function mapReady(page) {
  await page.waitForFunction(() => window.atigip && window.atigip.counts > 0, null, { timeout: 60000 });
}

// mapIdle waits for the map's next 'idle': every tile in view loaded and
// drawn, the cluster counts updated (app.js updates them on 'idle' first).
const mapIdle = (page) => page.evaluate(() => new Promise((res) => {
  const m = window.atigip.map;
  m.once('idle', res);
  m.triggerRepaint();
}));

await settle(report, browser, async () => {
  const errors = [];
  const watch = (page) => page.on('pageerror', (e) => errors.push(String(e)));

  if (journey === 'desktop' || journey === 'mobile') {
    const mobile = journey === 'mobile';
    // 1. Public map: counts on first render, offline.
    let ctx = await context(null);
    let page = await ctx.newPage();
    watch(page);
    const t0 = Date.now();
    await page.goto(`${base}/#5/46.6/2.35`);
    await mapReady(page);
    check('map: counts on first render offline', true, { ms: Date.now() - t0 });
    const labels = await page.evaluate(() => [...document.querySelectorAll('.maplibregl-ctrl button')].map((b) => b.getAttribute('aria-label') || b.title));
    check('map: controls in French', labels.includes('Zoomer') && labels.includes('Dézoomer'), labels);
    await shot(page, 'carte', false);
    await axe(page, 'carte');
    // Cluster counts follow the filters.
    const labels0 = await page.evaluate(() => [...document.querySelectorAll('.count')].map((e) => e.textContent));
    const sum = (ls) => ls.reduce((a, l) => a + (Number(String(l).replace(/[^0-9]/g, '')) || 0), 0);
    await page.click('label[for=f-mineurs]');
    await page.waitForFunction((b) => {
      const now = [...document.querySelectorAll('.count')].map((e) => e.textContent);
      return now.length > 0 && now.join('|') !== b.join('|');
    }, labels0, { timeout: 30000 });
    await mapIdle(page); // the counts of every tile in view, not of the first one in
    const labels1 = await page.evaluate(() => [...document.querySelectorAll('.count')].map((e) => e.textContent));
    check('map: cluster counts follow a filter', sum(labels1) < sum(labels0), { before: sum(labels0), after: sum(labels1) });
    await shot(page, 'carte-filtre-mineurs', false);
    // Two filters: the tiles are asked filtered, the counts are exact
    // (each label is its cluster's point_count, never « ≤ n »).
    await page.click('label[for=f-weekends]');
    await page.waitForFunction((b) => {
      const now = [...document.querySelectorAll('.count')].map((e) => e.textContent);
      return now.length > 0 && now.join('|') !== b.join('|');
    }, labels1, { timeout: 30000 });
    await mapIdle(page);
    const two = await page.evaluate(() => ({
      labels: [...document.querySelectorAll('.count')].map((e) => e.textContent),
      tiles: window.atigip.tiles,
      clusters: window.atigip.map.queryRenderedFeatures({ layers: ['posts-clusters'] }).map((f) => Number(f.properties.point_count)),
    }));
    check('map: two filters ask the filtered tiles', /minors=true/.test(two.tiles) && /weekends=true/.test(two.tiles), two.tiles);
    check('map: exact counts with two filters (no « ≤ »)', two.labels.length > 0 && two.labels.every((l) => !l.includes('≤')) &&
      sum(two.labels) < sum(labels1), two);
    await shot(page, 'carte-deux-filtres', false);
    await page.click('label[for=f-weekends]');
    await page.click('label[for=f-mineurs]');
    // Job search, results beside the map, highlighted.
    if (mobile) check('map: panel visible on a phone', await page.isVisible('#q'), null);
    await page.fill('#q', 'jardinier');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#resultats .liste-postes li', { timeout: 20000 });
    const n = await page.locator('#resultats .liste-postes li').count();
    check('map: job search lists posts', n > 0, n);
    await page.waitForFunction(() => window.atigip.map.getSource('surlignage'), null, { timeout: 10000 });
    await shot(page, 'carte-recherche', false);
    await axe(page, 'carte-recherche');
    // The filters apply to the search results too.
    const total = () => page.evaluate(() => parseInt(document.querySelector('#resultats h2').textContent, 10));
    const t0n = await total();
    await page.click('label[for=f-weekends]');
    await page.waitForFunction((b) => parseInt(document.querySelector('#resultats h2').textContent, 10) !== b, t0n, { timeout: 20000 }).catch(() => {});
    const t1n = await total();
    check('map: filters narrow the search results', t1n < t0n, { before: t0n, after: t1n });
    await page.click('label[for=f-weekends]');
    await page.waitForFunction(() => document.querySelectorAll('#resultats .liste-postes li').length > 0, null, { timeout: 20000 });
    // A result opens its popup on the map, readable on the screen.
    await page.locator('#resultats .liste-postes li button').first().click();
    await page.waitForSelector('.maplibregl-popup .popup h3', { timeout: 20000 });
    // Let the popup settle (it may re-anchor once the map stops).
    await page.evaluate(() => new Promise((res) => { const m = window.atigip.map; if (!m.isMoving()) res(); else m.once('idle', res); }));
    await page.waitForTimeout(300);
    const box = await page.locator('.maplibregl-popup-content').boundingBox();
    const vp = viewports[journey];
    check('map: popup on screen', box && box.x >= -1 && box.x + box.width <= vp.width + 1 && box.width <= vp.width, box);
    await shot(page, 'carte-popup', false);
    if (mobile) {
      await page.click('#toggle');
      const mapBox = await page.locator('#map').boundingBox();
      check('map: hiding the panel leaves the map', mapBox && mapBox.height > 300, mapBox);
      await shot(page, 'carte-sans-panneau', false);
    }
    await ctx.close();

    // 2. Post sheet, public then justice, with print style.
    ctx = await context(null);
    page = await ctx.newPage();
    watch(page);
    let r = await page.goto(`${base}/postes/${ids.post}`);
    check('post sheet: public 200', r.status() === 200, r.status());
    const text = await page.textContent('main');
    check('post sheet: practical facts first', text.indexOf('Jours et horaires') < text.indexOf("Structure d'accueil") && !text.includes('Places restantes'), null);
    await shot(page, 'poste-public');
    await axe(page, 'poste-public');
    r = await page.goto(`${base}/postes/${ids.justicePost}`);
    check('post sheet: justice-only post is 404 for the public', r.status() === 404, r.status());
    check('error page in French', (await page.textContent('h1')).includes('Page non trouvée'), null);
    await shot(page, 'erreur-404');
    await axe(page, 'erreur-404');
    await ctx.close();
    ctx = await context('magistrate');
    page = await ctx.newPage();
    watch(page);
    await page.goto(`${base}/postes/${ids.post}`);
    check('post sheet: justice sees places left', (await page.textContent('main')).includes('Places restantes'), null);
    await page.emulateMedia({ media: 'print' });
    check('post sheet: print hides the header', !(await page.isVisible('.fr-header__tools')), null);
    await shot(page, 'poste-impression');
    await page.emulateMedia({ media: 'screen' });

    // 3. « Postes autour de… » for a hearing.
    await page.goto(`${base}/autour`);
    await axe(page, 'autour-formulaire');
    await page.fill('#lieu', ids.place);
    await page.selectOption('#rayon', '20');
    await page.check('#places', { force: true });
    await Promise.all([page.waitForNavigation(), page.click('#form-autour button[type=submit]')]);
    const rows = await page.locator('main table tbody tr').count();
    check('around: posts listed with places', rows > 0, rows);
    await shot(page, 'autour-liste');
    await axe(page, 'autour-liste');
    await page.emulateMedia({ media: 'print' });
    await shot(page, 'autour-impression');
    await page.emulateMedia({ media: 'screen' });
    await ctx.close();

    // 4. Floor-space search then an establishment, as a business.
    ctx = await context('business');
    page = await ctx.newPage();
    watch(page);
    await page.goto(`${base}/surfaces`);
    await page.fill('#surface_min', '100');
    await Promise.all([page.waitForNavigation(), page.click('#recherche-surfaces button[type=submit]')]);
    const cards = await page.locator('.liste-resultats li').count();
    check('floor spaces: list', cards > 0, cards);
    await page.waitForFunction(() => window.atigipSurfaces && window.atigipSurfaces.ready, null, { timeout: 30000 });
    await shot(page, 'surfaces');
    await axe(page, 'surfaces');
    await page.goto(`${base}/etablissements/${ids.prison}`);
    await shot(page, 'etablissement');
    await axe(page, 'etablissement');
    await page.fill('#entreprise', 'Ateliers Martin');
    await page.fill('#courriel', 'pas-un-courriel');
    await page.fill('#message', 'Conditionnement, 10 postes.');
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/contact"] button[type=submit]')]);
    check('contact: invalid email refused', (await page.textContent('main')).includes("La demande n'a pas été envoyée"), null);
    await axe(page, 'etablissement-erreur');
    await page.fill('#courriel', 'contact@martin.fr');
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/contact"] button[type=submit]')]);
    check('contact: request sent', (await page.textContent('main')).includes('Demande envoyée'), page.url());
    await shot(page, 'etablissement-demande-envoyee');
    await axe(page, 'etablissement-demande-envoyee');
    await ctx.close();

    // 5. Legal pages and the sign-in that leads back.
    ctx = await context(null);
    page = await ctx.newPage();
    watch(page);
    for (const p of ['mentions-legales', 'donnees-personnelles', 'accessibilite']) {
      await page.goto(`${base}/${p}`);
      await axe(page, p);
    }
    await shot(page, 'accessibilite');
    await page.goto(`${base}/autour`);
    check('401 page', (await page.textContent('h1')).includes('Connexion requise'), null);
    await axe(page, 'erreur-401');
    await Promise.all([page.waitForNavigation(), page.click('main a[href^="/dev/signin"]')]);
    await page.check('input[value="magistrate"]');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/dev/signin"] button[type=submit]')]);
    check('sign-in leads back', new URL(page.url()).pathname === '/autour', page.url());
    check('demo banner', (await page.textContent('body')).includes('Environnement de démonstration'), null);
    await ctx.close();
    check('no page error', errors.length === 0, errors);
  }

  if (journey === 'keyboard') {
    // Keyboard only: the search, its results, a sheet, the floor-space search.
    const ctx = await context(null);
    const page = await ctx.newPage();
    watch(page);
    await page.goto(`${base}/`);
    await mapReady(page);
    const focused = () => page.evaluate(() => {
      const a = document.activeElement;
      return a ? (a.id || a.getAttribute('href') || a.textContent.trim().slice(0, 40)) : '';
    });
    async function tabTo(pred, max = 80) {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        if (await pred()) return i + 1;
      }
      return -1;
    }
    let tabs = await tabTo(async () => (await focused()) === 'q');
    check('keyboard: reaches the search box', tabs > 0, tabs);
    await page.keyboard.type('jardinier');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#resultats .liste-postes li', { timeout: 20000 });
    check('keyboard: focus moves to the results', await page.evaluate(() => document.activeElement.tagName === 'H2'), await focused());
    tabs = await tabTo(async () => String(await focused()).startsWith('/postes/'), 10);
    check('keyboard: reaches a result', tabs > 0, tabs);
    const href = await focused();
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    check('keyboard: opens the sheet', page.url().endsWith(href), page.url());
    await shot(page, 'fiche-clavier', false);
    await page.goto(`${base}/surfaces`);
    tabs = await tabTo(async () => (await focused()) === 'surface_min');
    check('keyboard: reaches the floor-space search', tabs > 0, tabs);
    await page.keyboard.type('200');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    tabs = await tabTo(async () => String(await focused()).startsWith('/etablissements/'), 60);
    check('keyboard: reaches a floor space', tabs > 0, tabs);
    await shot(page, 'surfaces-clavier', false);
    await ctx.close();
    check('no page error', errors.length === 0, errors);
  }
});
