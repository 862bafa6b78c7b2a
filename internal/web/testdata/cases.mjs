// End-to-end journeys of the TIG professionals' workspaces in Debian's
// headless Chromium, driven by playwright-core, each page state checked by
// axe-core. Usage: node cases.mjs <journey> with SITE (JSON: base, out and,
// per journey, tokens and ids) in the environment. Journeys: desktop,
// mobile (375×667), tablet (768×1024); each walks, in its own
// département: the CPIP refused an unlawful post then proposing a lawful
// one (the refusal typed with the keyboard), the judge assigning and giving
// the habilitation opinions, the DSPIP deciding the habilitation, the
// global assignment reviewed pair by pair. Prints a JSON report; exits 1 on
// a failed check.
import { settle, newReport, launch, axeCheck } from './journey.mjs';
import { join } from 'node:path';

const journey = process.argv[2];
const cfg = JSON.parse(process.env.SITE);
const { base, out } = cfg;
const { tokens, ids } = cfg.journeys[journey];
const viewports = { desktop: { width: 1280, height: 800 }, mobile: { width: 375, height: 667 }, tablet: { width: 768, height: 1024 } };
const { report, check } = newReport(journey);

const browser = await launch();

async function context(role) {
  const ctx = await browser.newContext({ viewport: viewports[journey], locale: 'fr-FR' });
  const u = new URL(base);
  await ctx.addCookies([{ name: 'atigip_session', value: tokens[role], domain: u.hostname, path: '/', httpOnly: true }]);
  await ctx.route((url) => !url.href.startsWith(base), (r) => r.abort());
  const page = await ctx.newPage();
  page.on('pageerror', (e) => check('no script error', false, String(e)));
  return page;
}

async function shot(page, name) {
  const file = join(out, `cases-${journey}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  report.shots.push(file);
}

const axe = axeCheck(report, check);

// state: axe-core and a screenshot of the page as it is.
async function state(page, name) {
  await axe(page, name);
  await shot(page, name);
}

async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
}

const text = (page, sel) => page.locator(sel).first().innerText();

// radio picks a DSFR radio button the way a user does, by its label.
const radio = (page, id) => page.click(`label[for="${id}"]`);

await settle(report, browser, async () => {
  // 1. CPIP: « Mon espace », the caseload filtered, the measure.
  let page = await context('cpip');
  await page.goto(`${base}/espace`);
  check('cpip: home card', (await page.content()).includes('Mes mesures'));
  await state(page, 'espace-cpip');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/mesures"]')]);
  await page.selectOption('#f-alerte', 'sans-proposition');
  await page.selectOption('#f-tri', 'heures');
  await submit(page, 'form[action="/mesures"] button[type=submit]');
  check('cpip: caseload filtered', page.url().includes('alerte=sans-proposition'), page.url());
  const link = `a[href="/mesures/${ids.measure}"]`;
  check('cpip: the measure is listed', await page.locator(link).count() > 0, page.url());
  await state(page, 'mesures');
  await Promise.all([page.waitForNavigation(), page.click(link)]);
  check('cpip: ranked posts', await page.locator('.cases-ranking li').count() > 0,
    await page.locator('main').innerText().catch(() => page.url()));
  check('cpip: near misses with their rule', await page.locator('.cases-excluded li').count() > 0);
  await state(page, 'mesure');

  // 2. Refused an unlawful post, typed with the keyboard only.
  const excluded = await text(page, '.cases-excluded li');
  const unlawful = /\(n° (\d+),/.exec(excluded)[1];
  await page.focus('#p-post');
  await page.keyboard.type(unlawful);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  const refusal = await text(page, '#p-post-err');
  check('cpip: unlawful post refused with the rule', refusal.length > 10 && excluded.includes(refusal.split('. ')[0].replace(/\.$/, '')), { refusal, excluded });
  check('cpip: typed value kept', (await page.inputValue('#p-post')) === unlawful);
  await state(page, 'mesure-refus');

  // 3. The lawful post proposed to the judge (FFS12).
  await submit(page, '.cases-ranking li form button');
  check('cpip: proposed', (await page.content()).includes('Proposition transmise au juge'), page.url());
  check('cpip: FFS12 in the timeline', (await text(page, '.cases-timeline')).includes('FFS12'));
  await state(page, 'mesure-proposee');
  await page.context().close();

  // 4. The judge assigns, then gives the habilitation opinions.
  page = await context('judge');
  await page.goto(`${base}/espace`);
  await state(page, 'espace-juge');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/juge"]')]);
  await state(page, 'juge');
  const form = `#decision-${ids.measure}`;
  await radio(page, `d-${ids.measure}-a`);
  await submit(page, `${form} button[type=submit]`);
  check('judge: assigned', (await page.content()).includes('Mesure affectée'), page.url());
  await state(page, 'juge-affecte');
  for (const auth of ['jap', 'prosecutor']) {
    const f = `#avis-${ids.procedure}`;
    await page.selectOption(`${f} select[name=authority]`, auth);
    await radio(page, `v-${ids.procedure}-f`);
    await submit(page, `${f} button[type=submit]`);
    check('judge: opinion ' + auth, (await page.content()).includes('Votre avis a été enregistré'));
  }
  await state(page, 'juge-avis');
  await page.context().close();

  // 5. The DSPIP decides the habilitation after the opinions.
  page = await context('dspip');
  await page.goto(`${base}/espace`);
  await state(page, 'espace-dspip');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/direction"]')]);
  await state(page, 'direction');
  await Promise.all([page.waitForNavigation(), page.click(`a[href="/direction/procedures/${ids.procedure}"]`)]);
  await state(page, 'procedure');
  await radio(page, 'dec-a');
  await submit(page, '#decision button[type=submit]');
  check('dspip: habilitation granted', (await page.content()).includes('Accordée'), page.url());
  await state(page, 'procedure-decidee');

  // 6. The global assignment, reviewed pair by pair.
  await page.goto(`${base}/direction/affectation`);
  await state(page, 'affectation');
  for (let i = 0; ; i++) {
    await submit(page, '#lancer button');
    if (!(await page.content()).includes('déjà en cours') || i > 60) break;
    await page.waitForTimeout(1000); // two jobs at most at once: wait for a turn
    await page.goto(`${base}/direction/affectation`);
  }
  for (let i = 0; i < 120 && await page.locator('#actualiser').count() > 0; i++) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  const pairs = await page.locator('.cases-pairs input[value=accepter]').count();
  check('dspip: pairs to review', pairs > 0, pairs);
  await state(page, 'affectation-revue');
  await submit(page, '#revue button[type=submit]');
  check('dspip: nothing leaves before every pair is reviewed', (await page.content()).includes('aucune proposition n’est partie') ||
    (await page.content()).includes("aucune proposition n'est partie"));
  await state(page, 'affectation-erreur');
  const accept = page.locator('.cases-pairs label[for^="pa-"]');
  const reject = page.locator('.cases-pairs label[for^="pr-"]');
  const n = await accept.count();
  await accept.nth(0).click();
  for (let i = 1; i < n; i++) await reject.nth(i).click();
  await submit(page, '#revue button[type=submit]');
  const done = await page.content();
  check('dspip: accepted pair proposed', done.includes('proposition transmise au juge') && done.includes('Proposée au juge'), page.url());
  await state(page, 'affectation-transmise');
});
