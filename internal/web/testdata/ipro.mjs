// End-to-end journeys of the IPRO 360 workspaces in headless Chromium,
// driven by playwright-core, each page state checked by axe-core.
// Usage: node ipro.mjs <journey> with SITE (JSON: base, out, tokens, ids)
// in the environment. Journeys: desktop, mobile (375×667), tablet
// (768×1024); the detainee's kiosk runs at 1024×768 in the desktop
// journey, at the journey's size otherwise; each journey has its own
// detainee and offers. Prints a JSON report; exits 1 on a failed check.
import { settle, newReport, launch, axeCheck } from './journey.mjs';
import { join } from 'node:path';

const journey = process.argv[2];
const cfg = JSON.parse(process.env.SITE);
const { base, out, tokens, ids } = cfg;
const viewports = {
  desktop: { width: 1280, height: 800 }, mobile: { width: 375, height: 667 },
  tablet: { width: 768, height: 1024 }, kiosk: { width: 1024, height: 768 },
};
const { report, check } = newReport(journey);

const browser = await launch();

async function context(role, size) {
  const ctx = await browser.newContext({ viewport: viewports[size || journey], locale: 'fr-FR', hasTouch: size === 'kiosk' || journey !== 'desktop' });
  if (role) {
    const u = new URL(base);
    await ctx.addCookies([{ name: 'atigip_session', value: tokens[role], domain: u.hostname, path: '/', httpOnly: true }]);
  }
  await ctx.route((url) => !url.href.startsWith(base), (r) => r.abort());
  return ctx;
}

async function shot(page, name) {
  const file = join(out, `ipro-${journey}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  report.shots.push(file);
}

const axe = axeCheck(report, check);

// state: a screenshot and axe-core on the page as it is.
async function state(page, name) {
  await shot(page, name);
  await axe(page, name);
}

// Touch targets of the kiosk: every button or link of the content at
// least 44 px high (RGAA / WCAG 2.5.5 target size).
async function bigTargets(page) {
  return page.evaluate(() => [...document.querySelectorAll('main .fr-btn')]
    .filter((e) => e.offsetParent !== null)
    .map((e) => ({ t: e.textContent.trim().slice(0, 30), h: e.getBoundingClientRect().height }))
    .filter((x) => x.h < 44));
}

async function noHorizontalScroll(page, name) {
  const w = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, width: window.innerWidth,
    wide: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.fr-table__container'))
      .slice(0, 12).map((e) => e.tagName + '.' + String(e.className).slice(0, 60) + ' ' + Math.round(e.getBoundingClientRect().right)),
  }));
  check(`${name}: no horizontal scroll`, w.scroll <= w.width + 1, w);
}

await settle(report, browser, async () => {
  const errors = [];
  const watch = (page) => page.on('pageerror', (e) => errors.push(String(e)));
  const sfx = journey;
  const kioskSize = journey === 'desktop' ? 'kiosk' : journey;

  // 1. Prison staff: « Mon espace », then « Mon établissement ».
  const staffCtx = await context('staff');
  const staff = await staffCtx.newPage();
  watch(staff);
  await staff.goto(`${base}/espace`);
  check('home: staff card', await staff.isVisible('text=Mon établissement'), null);
  await state(staff, 'espace-personnel');
  await staff.click('a[href="/ipro/etablissement"]');
  await staff.waitForSelector('h1:has-text("Mon établissement")');
  await noHorizontalScroll(staff, 'establishment');
  await state(staff, 'etablissement');

  // Publishing: a wrong field first (French message next to it, the
  // typed values kept), then two offers of 30 h and 20 h a week.
  async function publish(title, start, end, places) {
    await staff.fill('#o-titre', title);
    await staff.selectOption('#o-type', 'work');
    await staff.fill('#o-rome', 'G1602');
    await staff.fill('#o-places', places);
    await staff.fill('#o-debut', start);
    await staff.fill('#o-fin', end);
    await Promise.all([staff.waitForNavigation(), staff.click('button:has-text("Publier l\'offre")')]);
  }
  await publish(`Atelier cuisine ${sfx}`, '08:00', '14:00', 'deux');
  check('publish: French error next to the field', await staff.isVisible('.fr-input-group--error >> text=nombre entier attendu'), null);
  check('publish: typed title kept', (await staff.inputValue('#o-titre')) === `Atelier cuisine ${sfx}`, null);
  await state(staff, 'publier-erreur');
  await publish(`Atelier cuisine ${sfx}`, '08:00', '14:00', '2');
  check('publish: offer page', await staff.isVisible('text=L\'offre est publiée.'), staff.url());
  const morningURL = staff.url().split('?')[0];
  await state(staff, 'offre-publiee');
  await staff.goto(`${base}/ipro/etablissement`);
  await publish(`Conditionnement ${sfx}`, '14:00', '18:00', '2');
  const eveningURL = staff.url().split('?')[0];

  // CPU clearance of this journey's detainee.
  await staff.goto(`${base}/ipro/etablissement?page_personnes=${ids.personPage}`);
  const row = staff.locator(`#personne-${ids.person}`);
  await Promise.all([staff.waitForNavigation(), row.locator('button:has-text("Classer au travail")').click()]);
  check('clearance: recorded', await staff.isVisible('text=La décision de la CPU est enregistrée.'), null);
  check('clearance: the row says Classé', await staff.locator(`#personne-${ids.person} >> text=Classé`).count() > 0, null);
  await state(staff, 'classement');

  // 2. The detainee's kiosk: short session shown, large targets, two steps.
  const kioskCtx = await context('person', kioskSize);
  const kiosk = await kioskCtx.newPage();
  watch(kiosk);
  await kiosk.goto(`${base}/ipro/kiosque`);
  check('kiosk: idle sign-out shown', await kiosk.isVisible('text=vous serez déconnecté'), null);
  check('kiosk: large touch targets', (await bigTargets(kiosk)).length === 0, await bigTargets(kiosk));
  await noHorizontalScroll(kiosk, 'kiosk');
  await state(kiosk, 'borne-offres');
  for (const title of [`Atelier cuisine ${sfx}`, `Conditionnement ${sfx}`]) {
    const card = kiosk.locator('.ipro-carte', { hasText: title });
    await Promise.all([kiosk.waitForNavigation(), card.locator('a:has-text("Voir")').click()]);
    check(`kiosk: ${title}: why they qualify`, await kiosk.isVisible('text=Vous pouvez demander'), null);
    check(`kiosk: ${title}: what it requires`, await kiosk.isVisible('text=Ce qu\'il faut'), null);
    if (title.startsWith('Atelier')) await state(kiosk, 'borne-confirmer');
    await Promise.all([kiosk.waitForNavigation(), kiosk.click('#confirmer')]);
    check(`kiosk: ${title}: sent with the place on the list`, await kiosk.isVisible('text=sur la liste d\'attente'), null);
  }
  await state(kiosk, 'borne-demandes');

  // 3. Staff: the waiting list, interview, the governor's assignment.
  await staff.goto(morningURL);
  const app = staff.locator('tr', { hasText: ids.pseudonym });
  check('offer: the applicant on the waiting list', await app.count() === 1, null);
  await state(staff, 'liste-attente');
  await Promise.all([staff.waitForNavigation(), app.locator('button:has-text("Prévoir l\'entretien")').click()]);
  check('offer: interview', await staff.isVisible('text=L\'entretien est prévu.'), null);
  await Promise.all([staff.waitForNavigation(), staff.locator('tr', { hasText: ids.pseudonym }).locator('button:has-text("Affecter")').click()]);
  check('offer: assigned within the limits', await staff.isVisible('text=La personne est affectée'), null);
  await state(staff, 'affectation');
  await staff.goto(eveningURL);
  await Promise.all([staff.waitForNavigation(), staff.locator('tr', { hasText: ids.pseudonym }).locator('button:has-text("Affecter")').click()]);
  const refusal = await staff.locator('.fr-alert--error').innerText().catch(() => '');
  check('offer: refused beyond 48 h with the rule\'s sentence', /Affectation refusée/.test(refusal) && /48/.test(refusal), refusal);
  await state(staff, 'affectation-refusee');

  // 4. The profile shows the new experience; the kiosk its state.
  await kiosk.goto(`${base}/ipro/kiosque`);
  check('kiosk: assigned', await kiosk.isVisible('text=Vous êtes affecté'), null);
  await kiosk.click('a:has-text("Mon profil et mon CV")');
  await kiosk.waitForSelector('h1:has-text("Profil professionnel")');
  check('profile: experience after assignment', await kiosk.isVisible(`text=Atelier cuisine ${sfx}`) && await kiosk.isVisible('text=en cours'), null);
  await state(kiosk, 'profil-personne');
  // The CV: saved for the Go test, which renders it with pdftoppm.
  const cv = await kioskCtx.request.get(`${base}/ipro/profil/${ids.person}/cv.pdf`);
  const body = await cv.body();
  check('cv: a PDF', cv.status() === 200 && cv.headers()['content-type'] === 'application/pdf' && body.subarray(0, 4).toString() === '%PDF', cv.status());
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(out, `ipro-${journey}-cv.pdf`), body);
  report.cv = join(out, `ipro-${journey}-cv.pdf`);

  // 5. Kiosk's end by inactivity: page emptied, session gone, nothing back.
  await kiosk.goto(`${base}/ipro/kiosque`);
  await kiosk.evaluate(() => window.atigipKiosk.expire());
  await kiosk.waitForURL(/\/ipro\/kiosque\/fin/, { timeout: 10000 });
  check('kiosk: signed out after idling', await kiosk.isVisible('text=Session terminée'), kiosk.url());
  await state(kiosk, 'borne-fin');
  await kiosk.goBack();
  const back = await kiosk.content();
  check('kiosk: nothing left after sign-out', !back.includes(ids.pseudonym) && !back.includes(`Atelier cuisine ${sfx}`), kiosk.url());
  await kiosk.goto(`${base}/ipro/kiosque`);
  check('kiosk: session ended', await kiosk.isVisible('text=Connexion requise'), null);

  // 6. Transfer: the profile follows the person.
  await staff.goto(`${base}/ipro/etablissement?page_personnes=${ids.personPage}`);
  await staff.selectOption('#transfert-personne', String(ids.person));
  await staff.selectOption('#transfert-vers', String(ids.other));
  await Promise.all([staff.waitForNavigation(), staff.click('button:has-text("Transférer")')]);
  check('transfer: recorded', await staff.isVisible('text=Le transfert est enregistré'), null);
  await state(staff, 'transfert');
  const otherCtx = await context('otherStaff');
  const other = await otherCtx.newPage();
  watch(other);
  await other.goto(`${base}/ipro/profil/${ids.person}`);
  check('profile after transfer: experience kept, new establishment', await other.isVisible(`text=Atelier cuisine ${sfx}`) &&
    await other.isVisible(`text=${ids.otherName}`), null);
  check('profile after transfer: assignment ended by the transfer', await other.isVisible('text=Contrat clos par le transfert'), null);
  await state(other, 'profil-apres-transfert');

  // 7. Profile edit by the CPIP: ROME search as you type, then a conflict.
  const cpipCtx = await context('cpip');
  const cp = await cpipCtx.newPage();
  watch(cp);
  await cp.goto(`${base}/ipro/profil/${ids.person}`);
  await cp.fill('#rome-q', 'cuisinier');
  await cp.waitForSelector('.ipro-suggestion input[name=rome]', { timeout: 10000 });
  check('profile: ROME suggestions as you type', await cp.locator('.ipro-suggestion').count() > 0, null);
  await state(cp, 'profil-recherche-rome');
  await cp.locator('.ipro-suggestion input[name=rome]').first().check({ force: true });
  await cp.fill('#p-souhaits', `Restauration collective ${sfx}`);
  // Someone else saves first (another tab): the CPIP's edit is kept.
  const cp2 = await cpipCtx.newPage();
  await cp2.goto(`${base}/ipro/profil/${ids.person}`);
  await cp2.fill('#p-diplomes', 'CAP Cuisine');
  await Promise.all([cp2.waitForNavigation(), cp2.click('button:has-text("Enregistrer le profil")')]);
  await Promise.all([cp.waitForNavigation(), cp.click('button:has-text("Enregistrer le profil")')]);
  check('profile: « Modifié entre-temps »', await cp.isVisible('text=Modifié entre-temps'), null);
  check('profile: typed values kept', (await cp.inputValue('#p-souhaits')) === `Restauration collective ${sfx}`, null);
  await state(cp, 'profil-conflit');
  await Promise.all([cp.waitForNavigation(), cp.click('button:has-text("Enregistrer le profil")')]);
  check('profile: saved after the conflict', await cp.isVisible('text=Le profil est enregistré.'), null);

  // 8. The business's space.
  const bizCtx = await context('business');
  const biz = await bizCtx.newPage();
  watch(biz);
  await biz.goto(`${base}/espace`);
  await biz.click('a[href="/ipro/entreprise"]');
  await biz.waitForSelector('h1:has-text("Mon entreprise")');
  await noHorizontalScroll(biz, 'business');
  await state(biz, 'entreprise');
  await biz.selectOption('#o-etablissement', String(ids.prison));
  await biz.fill('#o-titre', `Montage de luminaires ${sfx}`);
  await biz.fill('#o-places', '3');
  await Promise.all([biz.waitForNavigation(), biz.click('button:has-text("Publier l\'offre")')]);
  check('business: concessionnaire offer published', await biz.isVisible('text=L\'offre est publiée.'), biz.url());
  check('business: no applicant named', !(await biz.content()).includes(ids.pseudonym), null);
  await state(biz, 'entreprise-offre');

  // 9. Keyboard only (desktop): the kiosk's offers to the confirmation.
  if (journey === 'desktop') {
    const kb = await (await context('second', 'kiosk')).newPage();
    watch(kb);
    await kb.goto(`${base}/ipro/kiosque`);
    const focused = () => kb.evaluate(() => {
      const a = document.activeElement;
      return a ? (a.getAttribute('href') || a.id || a.textContent.trim().slice(0, 40)) : '';
    });
    let n = -1;
    for (let i = 0; i < 80; i++) {
      await kb.keyboard.press('Tab');
      if (String(await focused()).startsWith('/ipro/kiosque/offres/')) { n = i + 1; break; }
    }
    check('keyboard: reaches an offer', n > 0, n);
    await Promise.all([kb.waitForNavigation(), kb.keyboard.press('Enter')]);
    check('keyboard: opens the offer', /\/ipro\/kiosque\/offres\//.test(kb.url()), kb.url());
    await shot(kb, 'borne-clavier');
  }
  check('no page error', errors.length === 0, errors);
});
