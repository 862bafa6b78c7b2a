// The sign-in journey in headless Chromium: « Se connecter » on a page,
// the provider's choice, the OpenID Connect code flow through the
// in-process provider (IDP), back on the page signed in, « Se
// déconnecter », back on the page signed out. axe-core on each state.
// Input: SITE (JSON: base, idp, out); output: a JSON report on stdout.
import { chromium } from 'playwright-core';
import { settle } from './journey.mjs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const { base, idp, out } = JSON.parse(process.env.SITE);
const report = { checks: {}, shots: [], axe: {} };
function check(name, ok, detail) {
  report.checks[name] = { ok: !!ok, detail };
  if (!ok) report.failed = true;
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
async function axe(page, state) {
  await page.addScriptTag({ path: axePath });
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  report.axe[state] = res.length;
  check('axe: ' + state, res.length === 0, res);
}
async function shot(page, name) {
  const file = join(out, `signin-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  report.shots.push(file);
}
await settle(report, browser, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'fr-FR' });
  // No internet: only the site and the provider answer.
  await ctx.route((url) => !url.href.startsWith(base) && !url.href.startsWith(idp), (r) => r.abort());
  const page = await ctx.newPage();
  await page.goto(`${base}/accessibilite`);
  await Promise.all([page.waitForNavigation(), page.click('text=Se connecter')]);
  check('the sign-in page lists ProConnect', await page.isVisible('text=ProConnect'), page.url());
  await axe(page, 'connexion');
  await shot(page, 'choix');
  await Promise.all([page.waitForURL(`${base}/accessibilite`), page.click('text=ProConnect')]);
  check('back on the page, signed in', await page.isVisible('text=Se déconnecter'), page.url());
  const cookies = await ctx.cookies(base);
  const sid = cookies.find((c) => c.name === 'atigip_sid');
  check('session cookie HttpOnly, SameSite=Lax', sid && sid.httpOnly && sid.sameSite === 'Lax', sid);
  await axe(page, 'connecte');
  await shot(page, 'connecte');
  await Promise.all([page.waitForURL(`${base}/accessibilite`), page.click('text=Se déconnecter')]);
  check('back on the page, signed out', await page.isVisible('text=Se connecter') && !(await page.isVisible('text=Se déconnecter')), page.url());
  await shot(page, 'deconnecte');
  await ctx.close();
});
