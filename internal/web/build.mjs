// Copies the front-end distribution files the pages load from node_modules
// into static/vendor/ (git-ignored), where the Go binary embeds them: the
// site is served with no CDN and no network at run time.
//   - MapLibre GL JS (the map);
//   - the State design system (DSFR, @gouvfr/dsfr): its style sheet, its
//     scripts, the Marianne and Spectral fonts, and only the icons its
//     style sheet refers to.
import { copyFileSync, mkdirSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'static', 'vendor');
mkdirSync(out, { recursive: true });

const maplibre = join(here, 'node_modules', 'maplibre-gl', 'dist');
for (const f of ['maplibre-gl.js', 'maplibre-gl.css', 'LICENSE.txt']) {
  const src = existsSync(join(maplibre, f)) ? join(maplibre, f) : join(here, 'node_modules', 'maplibre-gl', f);
  copyFileSync(src, join(out, f));
}

const dsfr = join(here, 'node_modules', '@gouvfr', 'dsfr');
const dist = join(dsfr, 'dist');
const dout = join(out, 'dsfr');
const copy = (rel, to = rel) => {
  mkdirSync(dirname(join(dout, to)), { recursive: true });
  copyFileSync(join(dist, rel), join(dout, to));
};
for (const f of ['dsfr.min.css', 'dsfr.print.min.css', 'dsfr.module.min.js', 'dsfr.nomodule.min.js']) copy(f);
copyFileSync(join(dsfr, 'LICENSE.md'), join(dout, 'LICENSE.md'));
for (const f of readdirSync(join(dist, 'fonts'))) if (f.endsWith('.woff2') || f.endsWith('.woff')) copy('fonts/' + f);
for (const f of readdirSync(join(dist, 'favicon'))) if (/\.(svg|png|ico|webmanifest)$/.test(f)) copy('favicon/' + f);
const css = readFileSync(join(dist, 'dsfr.min.css'), 'utf8');
const icons = new Set([...css.matchAll(/url\((icons\/[^)"']+\.svg)\)/g)].map((m) => m[1]));
// The icon classes the templates use (fr-icon-…), taken from the DSFR's
// icon utility into one small style sheet instead of its 8 MB.
const used = ['lock-line', 'account-circle-line', 'logout-box-r-line', 'printer-line', 'map-pin-2-line'];
const all = readFileSync(join(dist, 'utility', 'icons', 'icons.min.css'), 'utf8');
let sheet = '';
for (const name of used) {
  const m = all.match(new RegExp(`\\.fr-icon-${name}:after,\\.fr-icon-${name}:before\\{-webkit-mask-image:url\\(\\.\\./\\.\\./(icons/[^)]+)\\)`));
  if (!m) throw new Error('DSFR icon not found: ' + name);
  icons.add(m[1]);
  sheet += `.fr-icon-${name}:after,.fr-icon-${name}:before{-webkit-mask-image:url(${m[1]});mask-image:url(${m[1]})}\n`;
}
writeFileSync(join(dout, 'icons.css'), sheet);
for (const f of icons) copy(f);
console.log(`maplibre-gl and @gouvfr/dsfr (${icons.size} icons) copied to static/vendor/`);

// Noto Sans (SIL Open Font License), from which the binary makes the map's
// label glyphs (SDF ranges, tiles/glyphs): labels render with no network.
const noto = join(here, 'node_modules', '@expo-google-fonts', 'noto-sans');
mkdirSync(join(out, 'fonts'), { recursive: true });
copyFileSync(join(noto, '400Regular', 'NotoSans_400Regular.ttf'), join(out, 'fonts', 'NotoSans-Regular.ttf'));
copyFileSync(join(noto, '700Bold', 'NotoSans_700Bold.ttf'), join(out, 'fonts', 'NotoSans-Bold.ttf'));
copyFileSync(join(noto, 'LICENSE_FONT'), join(out, 'fonts', 'LICENSE-NotoSans.txt'));
console.log('Noto Sans (regular, bold) copied to static/vendor/fonts/');

// Maki icons (CC0) for the basemap's points of interest, from which the
// binary draws its sprite sheet (tiles/sprites): named by the kind of the
// basemap's pois layer.
const maki = join(here, 'node_modules', '@mapbox', 'maki');
const sprites = { townhall: 'town-hall', courthouse: 'landmark', police: 'police', prison: 'prison',
  station: 'rail', airport: 'airport', hospital: 'hospital' };
mkdirSync(join(out, 'sprites'), { recursive: true });
for (const [kind, icon] of Object.entries(sprites)) copyFileSync(join(maki, 'icons', icon + '.svg'), join(out, 'sprites', kind + '.svg'));
copyFileSync(join(maki, 'LICENSE.txt'), join(out, 'sprites', 'LICENSE-maki.txt'));
console.log(`${Object.keys(sprites).length} Maki icons copied to static/vendor/sprites/`);
