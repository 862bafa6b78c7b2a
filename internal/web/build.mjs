// Copies MapLibre GL JS's distribution files from node_modules into
// static/vendor/ (git-ignored), where the Go binary embeds them: the map
// is served with no CDN and no network at run time.
import { copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'node_modules', 'maplibre-gl', 'dist');
const out = join(here, 'static', 'vendor');
mkdirSync(out, { recursive: true });
for (const f of ['maplibre-gl.js', 'maplibre-gl.css', 'LICENSE.txt']) {
  const src = existsSync(join(dist, f)) ? join(dist, f) : join(here, 'node_modules', 'maplibre-gl', f);
  copyFileSync(src, join(out, f));
}
console.log('maplibre-gl copied to static/vendor/');
