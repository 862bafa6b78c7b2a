// Independent MVT decoder for the Go tests: decodes every tile listed in
// <dir>/manifest.json with npm's @mapbox/vector-tile and pbf (not our Go
// code) and prints, per tile, the features with their id, attributes and
// WGS84 geometry as @mapbox/vector-tile computes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';

const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const out = [];
for (const t of manifest.tiles) {
  const tile = new VectorTile(new PbfReader(readFileSync(join(dir, t.file))));
  const layers = {};
  for (const name of Object.keys(tile.layers)) {
    const layer = tile.layers[name];
    const feats = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      const gj = f.toGeoJSON(t.x, t.y, t.z);
      feats.push({ id: f.id, type: gj.geometry.type, props: f.properties, coords: gj.geometry.type === 'Point' ? gj.geometry.coordinates : null,
        extent: layer.extent, version: layer.version, polygons: gj.geometry.type === 'Polygon' ? 1 : gj.geometry.type === 'MultiPolygon' ? gj.geometry.coordinates.length : 0 });
    }
    layers[name] = feats;
  }
  out.push({ z: t.z, x: t.x, y: t.y, layers });
}
process.stdout.write(JSON.stringify(out));
