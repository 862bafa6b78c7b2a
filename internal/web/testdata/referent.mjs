// End-to-end journeys of the TIG referent's workspace in Debian's headless
// Chromium, driven by playwright-core, each page state checked by
// axe-core. Usage: node referent.mjs <journey> with SITE (JSON: base,
// frame, otherFrame, out, tokens, ids) in the environment. Journeys:
// desktop, tablet (768×1024), mobile (375×667), keyboard. Prints a JSON report; exits 1 on a
// failed check. Screenshots: referent-<journey>-*.png, indicateurs-<journey>-*.png.
import { settle, newReport, launch, axeCheck } from './journey.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const journey = process.argv[2];
const cfg = JSON.parse(process.env.SITE);
const { base, frame, otherFrame, out, tokens, ids } = cfg;
const viewports = { desktop: { width: 1280, height: 800 }, tablet: { width: 768, height: 1024 }, mobile: { width: 375, height: 667 }, keyboard: { width: 1280, height: 800 } };
const { report, check } = newReport(journey);

const browser = await launch({ map: true });

async function context(role) {
  const ctx = await browser.newContext({ viewport: viewports[journey], locale: 'fr-FR', acceptDownloads: true });
  if (role) {
    const u = new URL(base);
    await ctx.addCookies([{ name: 'atigip_session', value: tokens[role], domain: u.hostname, path: '/', httpOnly: true }]);
  }
  // No internet: only the site and the page standing for Axelor answer.
  const ours = [base, frame, otherFrame];
  await ctx.route((url) => !ours.some((o) => url.href.startsWith(o)), (r) => { report.offsite = (report.offsite || 0) + 1; return r.abort(); });
  return ctx;
}

async function shot(page, prefix, name, full = true) {
  const file = join(out, `${prefix}-${journey}-${name}.png`);
  await page.screenshot({ path: file, fullPage: full });
  report.shots.push(file);
}

const axe = axeCheck(report, check);

async function mapReady(target) {
  await target.waitForFunction(() => window.atigipReferent && window.atigipReferent.ready, null, { timeout: 60000 });
}

async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return readFileSync(await dl.path(), 'utf8');
}

// tabTo presses Tab until the focused element matches test (at most n).
async function tabTo(page, test, arg, n = 80) {
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(test, arg)) return true;
  }
  return false;
}

await settle(report, browser, async () => {
  const errors = [];
  const watch = (page) => page.on('pageerror', (e) => errors.push(String(e)));

  if (journey === 'desktop' || journey === 'tablet' || journey === 'mobile') {
    // 1. The referent's « Mon espace », the partners, one partner's page.
    let ctx = await context('referent');
    let page = await ctx.newPage();
    watch(page);
    let r = await page.goto(`${base}/espace`);
    check('home: 200', r.status() === 200, r.status());
    const cards = await page.locator('.espace-cartes .fr-card__title a').allTextContents();
    check('home: referent cards', ['Structures partenaires', 'Prospection', 'Indicateurs du contrat'].every((c) => cards.includes(c)), cards);
    check('home: what waits, in French', /communes? éloignées?/.test(await page.textContent('main')), null);
    await shot(page, 'referent', 'espace');
    await axe(page, 'referent-espace');
    await Promise.all([page.waitForNavigation(), page.click('a[href="/referent/partenaires"]')]);
    check('partners: list', (await page.locator('main table tbody tr').count()) > 0, null);
    await shot(page, 'referent', 'partenaires');
    await axe(page, 'referent-partenaires');
    r = await page.goto(`${base}/referent/partenaires/${ids.partner}`);
    check('partner: 200 in the session', r.status() === 200, r.status());
    await mapReady(page);
    check('partner: name, posts, habilitation, activity, sync', await page.evaluate((name) => {
      const t = document.querySelector('main').textContent;
      return t.includes(name) && t.includes('Postes de TIG') && t.includes('Habilitation') && t.includes('Tigistes accueillis') &&
        t.includes('Synchronisation avec le CRM');
    }, ids.partnerName), null);
    const points = await page.evaluate(() => window.atigipReferent.points);
    check('partner: its posts on the map', points === (await page.locator('[data-carte-point]').count()) && points > 0, points);
    await shot(page, 'referent', 'fiche');
    await axe(page, 'referent-fiche');
    await ctx.close();

    // 2. The same page inside Axelor (another origin), by a signed link,
    // without any session of ours.
    ctx = await context(null);
    page = await ctx.newPage();
    watch(page);
    await page.goto(`${frame}/axelor.html?src=${encodeURIComponent(ids.signed)}`);
    const el = await page.waitForSelector('iframe#atigip');
    let inner = await el.contentFrame();
    await inner.waitForSelector('h1');
    check('axelor: the partner page renders in the frame', (await inner.textContent('h1')).includes(ids.partnerName), await inner.textContent('h1'));
    check('axelor: no site header in the frame', (await inner.locator('.fr-header').count()) === 0, null);
    await mapReady(inner);
    await shot(page, 'referent', 'axelor');
    await axe(page, 'referent-axelor-page');
    await axe(inner, 'referent-axelor-cadre');
    // An expired link: the French refusal, in the frame.
    await page.goto(`${frame}/axelor.html?src=${encodeURIComponent(ids.expired)}`);
    inner = await (await page.waitForSelector('iframe#atigip')).contentFrame();
    await inner.waitForSelector('h1');
    check('axelor: an expired link is refused in French', (await inner.textContent('h1')).includes('Lien expiré'), await inner.textContent('h1'));
    await shot(page, 'referent', 'lien-expire');
    await axe(inner, 'referent-lien-expire');
    // An origin that is not Axelor's may not frame the page.
    await page.goto(`${otherFrame}/axelor.html?src=${encodeURIComponent(ids.signed)}`);
    await page.waitForTimeout(1500);
    inner = await (await page.waitForSelector('iframe#atigip')).contentFrame();
    const framed = await inner.evaluate(() => document.body ? document.body.innerText : '').catch(() => '');
    check('axelor: another origin cannot frame the page', !framed.includes(ids.partnerName), framed.slice(0, 200));
    await ctx.close();

    // 3. The prospection: map, list, pages, CSV.
    ctx = await context('referent');
    page = await ctx.newPage();
    watch(page);
    r = await page.goto(`${base}/referent/prospection`);
    check('prospection: 200', r.status() === 200, r.status());
    await mapReady(page);
    await shot(page, 'referent', 'prospection');
    await axe(page, 'referent-prospection');
    await page.selectOption('#departement', ids.departement);
    await page.check('#loin', { force: true });
    await Promise.all([page.waitForNavigation(), page.click('form[action="/referent/prospection"] button[type=submit]')]);
    check('prospection: filtered by département and far communes', page.url().includes('departement=' + ids.departement) && page.url().includes('loin=1'), page.url());
    const rows = await page.locator('main table tbody tr').count();
    const far = await page.locator('main table tbody tr .fr-badge--warning').count();
    check('prospection: far communes listed', rows > 0 && far === rows, { rows, far });
    await mapReady(page);
    await shot(page, 'referent', 'prospection-departement');
    await axe(page, 'referent-prospection-departement');
    if (await page.locator('.fr-pagination__link--next[href]').count()) {
      await Promise.all([page.waitForNavigation(), page.click('.fr-pagination__link--next[href]')]);
      check('prospection: page 2', page.url().includes('page=2'), page.url());
      await axe(page, 'referent-prospection-page-2');
    }
    const csvText = await download(page, 'a[href*="format=csv"]');
    const lines = csvText.trim().split('\n');
    check('prospection: CSV of the list', lines[0].startsWith('commune_insee,commune,departement') && lines.length > 1 &&
      lines.slice(1).every((l) => l.split(',')[2] === ids.departement), lines.slice(0, 3));
    await page.goto(`${base}/referent/prospection?vue=departements`);
    check('prospection: by département', (await page.locator('main table tbody tr').count()) > 90, null);
    await shot(page, 'referent', 'prospection-departements');
    await axe(page, 'referent-prospection-departements');
    await ctx.close();

    // 4. The indicators, as a DSPIP: charts, a région, a CSV.
    ctx = await context('dspip');
    page = await ctx.newPage();
    watch(page);
    r = await page.goto(`${base}/indicateurs`);
    check('indicators: 200', r.status() === 200, r.status());
    const svgs = await page.locator('figure.graphique svg[role=img]').count();
    check('indicators: 5 targets and 4 charts as SVG', svgs === 9, svgs);
    check('indicators: French numbers', (await page.textContent('main')).includes('31\u202f000'), null);
    await shot(page, 'indicateurs', 'national');
    await axe(page, 'indicateurs-national');
    await page.locator('details summary').first().click();
    await axe(page, 'indicateurs-tableau-ouvert');
    await page.selectOption('#region', '84');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/indicateurs"] button[type=submit]')]);
    check('indicators: by département of a région', (await page.textContent('main')).includes('69 — Rhône'), null);
    await shot(page, 'indicateurs', 'region');
    await axe(page, 'indicateurs-region');
    const csv = await download(page, 'a[href^="/indicateurs/postes-territoire.csv"]');
    check('indicators: CSV behind the chart', csv.startsWith('département,libelle,postes_offerts,postes') && csv.includes('69,69 — Rhône'), csv.slice(0, 200));
    const cibles = await download(page, 'a[href="/indicateurs/cibles.csv"]');
    check('indicators: targets CSV', cibles.includes('postes_tig,Postes de TIG offerts,postes,19000,31000'), cibles.slice(0, 200));
    await ctx.close();
  }

  if (journey === 'keyboard') {
    const ctx = await context('referent');
    const page = await ctx.newPage();
    watch(page);
    await page.goto(`${base}/espace`);
    check('keyboard: reach the prospection card', await tabTo(page, () => (document.activeElement.getAttribute('href') || '') === '/referent/prospection'), null);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    check('keyboard: on the prospection', page.url().endsWith('/referent/prospection'), page.url());
    check('keyboard: reach « éloignées seulement »', await tabTo(page, () => document.activeElement.id === 'loin'), null);
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    check('keyboard: filter applied', page.url().includes('loin=1'), page.url());
    await axe(page, 'clavier-prospection');
    await shot(page, 'referent', 'clavier-prospection');
    await page.goto(`${base}/indicateurs`);
    check('keyboard: reach the territory', await tabTo(page, () => document.activeElement.id === 'region'), null);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    check('keyboard: a région chosen', /region=\d+/.test(page.url()), page.url());
    check('keyboard: reach a data table', await tabTo(page, () => document.activeElement.tagName === 'SUMMARY'), null);
    await page.keyboard.press('Enter');
    check('keyboard: the table opens', await page.evaluate(() => document.activeElement.parentElement.open), null);
    await axe(page, 'clavier-indicateurs');
    await shot(page, 'indicateurs', 'clavier');
    await ctx.close();
  }
  check('no script error', errors.length === 0, errors);
});
