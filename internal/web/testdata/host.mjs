// Journeys of the host's workspace, the CPIP's confirmation of hours and
// « Ma mesure », in Debian's headless Chromium driven by playwright-core,
// each page state checked by axe-core.
// Usage: node host.mjs <journey> with SITE (JSON: base, out, tokens, ids)
// in the environment. Journeys: desktop, mobile (375×667), tablet; each
// acts on its own measure. Prints a JSON report; exits 1 on a failed check.
import { settle, newReport, launch, axeCheck } from './journey.mjs';
import { join } from 'node:path';

const journey = process.argv[2];
const cfg = JSON.parse(process.env.SITE);
const { base, out, tokens, ids } = cfg;
const viewports = { desktop: { width: 1280, height: 800 }, mobile: { width: 375, height: 667 }, tablet: { width: 768, height: 1024 } };
const { report, check } = newReport(journey);

const browser = await launch();

async function context(role, viewport = viewports[journey]) {
  const ctx = await browser.newContext({ viewport, locale: 'fr-FR' });
  const u = new URL(base);
  await ctx.addCookies([{ name: 'atigip_session', value: tokens[role], domain: u.hostname, path: '/', httpOnly: true }]);
  await ctx.route((url) => !url.href.startsWith(base), (r) => { report.offsite = (report.offsite || 0) + 1; return r.abort(); });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => check('no script error', false, String(e)));
  return page;
}

async function shot(page, name) {
  const file = join(out, `host-${journey}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  report.shots.push(file);
}

const axe = axeCheck(report, check);

// state checks, screenshots and axe-checks a page state.
async function state(page, name) {
  await shot(page, name);
  await axe(page, name);
}

// The page fits the viewport's width (no horizontal scroll of the page;
// wide tables scroll in their own container).
async function fits(page, name) {
  const vw = viewports[journey].width;
  const res = await page.evaluate((vw) => ({
    scrollWidth: document.documentElement.scrollWidth,
    wide: [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > vw + 1)
      .slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)),
  }), vw);
  check('fits the width: ' + name, res.scrollWidth <= vw + 1, res);
}

const cell = (i) => {
  const d = new Date(ids.monday + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + i);
  return `h-${ids.measure}-${d.toISOString().slice(0, 10)}`;
};
const week = [7, 11, 7, 7, 6]; // Monday to Friday; Tuesday over the 10 h of an adult

await settle(report, browser, async () => {
  // 1. The tutor: « Mon espace », the structure, a post created and edited.
  let page = await context('host');
  await page.goto(`${base}/espace`);
  check('host: card on « Mon espace »', await page.isVisible('a[href="/structure"]'), null);
  await state(page, 'espace-tuteur');
  await page.click('a[href="/structure"]');
  await page.waitForURL(/\/structure$/);
  check('host: workspace lists the posts', (await page.locator('#postes ~ * table tbody tr, #postes + div table tbody tr').count()) > 0 ||
    (await page.textContent('main')).includes('Mes postes'), null);
  await fits(page, 'structure');
  await state(page, 'structure');

  await page.click('a[href="/structure/postes/nouveau"] >> nth=0');
  await page.waitForURL(/\/structure\/postes\/nouveau$/);
  await page.fill('#rome', 'A1203');
  await page.fill('#places', '2');
  await page.fill('#jour1', '09:00-12:00');
  await page.fill('#jour3', '14:00-17:00');
  await page.click('main form button[type=submit]');
  await page.waitForSelector('#title-err');
  check('post: refused without a title, message next to the field', (await page.textContent('#title-err')).includes('intitulé'), null);
  check('post: typed values kept', (await page.inputValue('#jour3')) === '14:00-17:00' && (await page.inputValue('#rome')) === 'A1203', null);
  await state(page, 'poste-erreur');
  await page.fill('#title', ids.postTitle);
  await Promise.all([page.waitForURL(/\/structure\?cree=/), page.click('main form button[type=submit]')]);
  check('post: created, flash shown', (await page.textContent('[role=status]')).includes('brouillon'), null);
  await state(page, 'poste-cree');
  const created = new URL(page.url()).searchParams.get('cree');
  await page.goto(`${base}/structure/postes/${created}`);
  check('post: edit form holds the schedule', (await page.inputValue('#jour1')) === '09:00-12:00', null);
  await page.fill('#title', ids.postTitle + ' — modifié');
  await page.fill('#description', 'Entretien du jardin partagé, arrosage, semis.');
  await state(page, 'poste-modification');
  await Promise.all([page.waitForURL(/\/structure\?modifie=/), page.click('main form button[type=submit]')]);
  check('post: edit saved', (await page.textContent('main')).includes('modifié'), null);

  // 2. A week of hours: refused beyond the daily limit, the rule next to
  //    the cell; the rest stored; the corrected cell then stored.
  await page.goto(`${base}/structure/heures`);
  await Promise.all([page.waitForURL(/semaine=/), page.click('text=Semaine précédente')]);
  check('hours: last week\'s grid', page.url().includes(ids.monday), page.url());
  for (let i = 0; i < week.length; i++) await page.fill(`#${cell(i)}`, String(week[i]).replace('.', ','));
  await state(page, 'heures-saisie');
  await Promise.all([page.waitForNavigation(), page.click('text=Déclarer les heures saisies')]);
  const err = page.locator(`#${cell(1)}-err`);
  const msg = (await err.count()) ? await err.textContent() : '';
  check('hours: 11 h refused with the French rule next to the cell', /L3121-18/.test(msg) && /10 h/.test(msg), msg);
  check('hours: the cell keeps what was typed and names its error',
    (await page.inputValue(`#${cell(1)}`)) === '11' && (await page.getAttribute(`#${cell(1)}`, 'aria-describedby')) === `${cell(1)}-err`, null);
  check('hours: the other days stored', (await page.locator(`#${cell(0)}`).count()) === 0 || /4\s+déclarations enregistrées/.test(await page.textContent('main')), null);
  await fits(page, 'heures-refus');
  await state(page, 'heures-refus');
  await page.fill(`#${cell(1)}`, '7');
  await Promise.all([page.waitForURL(/enregistre=1/), page.click('text=Déclarer les heures saisies')]);
  check('hours: corrected day stored', /1\s+déclaration enregistrée/.test(await page.textContent('[role=status]')), null);
  await state(page, 'heures-enregistrees');
  await page.close();

  // 3. The CPIP confirms them (a contest without reason is refused).
  page = await context('cpip');
  await page.goto(`${base}/espace`);
  check('cpip: « Heures à confirmer » card', await page.isVisible('a[href="/heures-a-confirmer"]'), null);
  await page.click('a[href="/heures-a-confirmer"]');
  await page.waitForURL(/heures-a-confirmer/);
  await state(page, 'a-confirmer');
  await page.goto(`${base}/mesures/${ids.measure}/heures`);
  const pending = await page.locator('li.declaration').count();
  check('cpip: the five days wait', pending === 5, pending);
  await state(page, 'confirmation');
  await Promise.all([page.waitForNavigation(), page.locator('li.declaration >> nth=0 >> button[value=contester]').click()]);
  check('cpip: contest without reason refused, said next to the field', (await page.locator('li.declaration .fr-error-text').count()) === 1 &&
    (await page.textContent('li.declaration .fr-error-text')).includes('motif'), null);
  await state(page, 'confirmation-refus');
  for (let i = 0; i < 5; i++) {
    await Promise.all([page.waitForNavigation(), page.locator('li.declaration >> nth=0 >> button[value=confirmer]').click()]);
  }
  check('cpip: all confirmed', (await page.locator('li.declaration').count()) === 0 && (await page.textContent('main')).includes('Aucune déclaration en attente'), null);
  await state(page, 'confirmees');
  await page.close();

  // 4. The person, on a phone in the mobile journey: the confirmed hours
  //    on « Ma mesure », then an absence reported by keyboard.
  page = await context('person');
  await page.goto(`${base}/espace`);
  await page.click('a[href="/ma-mesure"]');
  await page.waitForURL(/\/ma-mesure$/);
  const rows = await page.locator('section[aria-labelledby=historique] tbody tr').count();
  check('person: the five confirmed days on « Ma mesure »', rows >= 5, rows);
  check('person: hours left and deadline shown', /Il vous reste/.test(await page.textContent('main')) && /Date limite/.test(await page.textContent('main')), null);
  await fits(page, 'ma-mesure');
  await state(page, 'ma-mesure');
  await page.fill('#abs-raison', '');
  await Promise.all([page.waitForNavigation(), page.click('text=Signaler mon absence')]);
  check('person: absence without reason refused next to the field', (await page.textContent('#abs-raison-err')).includes('raison'), null);
  await state(page, 'absence-erreur');
  // Keyboard only: from the top of the page to the form and its button
  // (the date keeps today; Tab walks its day, month and year first).
  const tabTo = async (pred, max) => {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(pred)) return true;
    }
    return false;
  };
  await page.focus('body');
  check('keyboard: the absence form is reachable', await tabTo(() => document.activeElement && document.activeElement.id === 'abs-date', 80), null);
  check('keyboard: then the reason', await tabTo(() => document.activeElement.id === 'abs-raison', 4), null);
  await page.keyboard.type('Malade, certificat médical envoyé au SPIP');
  await page.keyboard.press('Tab');
  const onButton = await page.evaluate(() => document.activeElement.textContent.trim());
  check('keyboard: next stop is the button', onButton === 'Signaler mon absence', onButton);
  await Promise.all([page.waitForURL(/envoye=1/), page.keyboard.press('Enter')]);
  check('person: absence reported', (await page.textContent('[role=status]')).includes('Absence signalée') &&
    (await page.textContent('main')).includes('Malade, certificat médical'), null);
  await fits(page, 'absence-signalee');
  await state(page, 'absence-signalee');
  await page.close();
});
