// ATIGIP 360 — carte des pages du référent TIG (fiche d'un partenaire,
// prospection) : amélioration progressive d'un tableau dont les lignes
// portent data-lon et data-lat ; sans JavaScript, le tableau suffit.
'use strict';
(function () {
  const el = document.getElementById('carte-referent');
  const rows = [...document.querySelectorAll('[data-carte-point]')];
  if (!el || typeof maplibregl === 'undefined' || rows.length === 0) return;
  el.hidden = false;
  const features = rows.map((r, i) => ({
    type: 'Feature', id: i,
    geometry: { type: 'Point', coordinates: [Number(r.dataset.lon), Number(r.dataset.lat)] },
    properties: { nom: r.dataset.nom, loin: r.hasAttribute('data-loin') },
  })).filter((f) => Number.isFinite(f.geometry.coordinates[0]) && Number.isFinite(f.geometry.coordinates[1]));
  if (features.length === 0) { el.hidden = true; return; }
  const map = new maplibregl.Map({
    container: el, style: '/styles/public.json', center: [2.35, 46.6], zoom: 4.3,
    attributionControl: { compact: true }, locale: window.atigipLocale,
  });
  window.atigipReferent = { map, ready: false, points: features.length };
  map.on('load', () => {
    // The partner's page shows its own posts only; the prospection keeps
    // every open post of the site's tiles under its communes.
    const hide = ['prisons', 'floor-spaces', 'floor-spaces-outline'];
    if (!el.hasAttribute('data-garder-postes')) hide.push('posts-clusters', 'posts-points');
    for (const id of hide) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', 'none');
    map.addSource('referent', { type: 'geojson', data: { type: 'FeatureCollection', features } });
    map.addLayer({ id: 'referent', type: 'circle', source: 'referent',
      paint: { 'circle-radius': 7, 'circle-color': ['case', ['get', 'loin'], '#ce0500', '#1f8d49'],
        'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    const b = new maplibregl.LngLatBounds();
    for (const f of features) b.extend(f.geometry.coordinates);
    if (features.length > 1) map.fitBounds(b, { padding: 40, maxZoom: 11, duration: 0 });
    else map.jumpTo({ center: features[0].geometry.coordinates, zoom: 11 });
    map.once('idle', () => { window.atigipReferent.ready = true; });
  });
})();
