// ATIGIP 360 — amélioration progressive des pages : tout fonctionne sans
// ce script, qui ajoute l'impression et la carte des surfaces.
'use strict';
(function () {
  for (const b of document.querySelectorAll('[data-imprimer]')) b.addEventListener('click', () => window.print());

  const el = document.getElementById('carte-surfaces');
  const items = [...document.querySelectorAll('.liste-resultats [data-lon]')];
  if (!el || typeof maplibregl === 'undefined' || items.length === 0) return;
  el.hidden = false;
  const features = items.map((li, i) => ({
    type: 'Feature', id: i,
    geometry: { type: 'Point', coordinates: [Number(li.dataset.lon), Number(li.dataset.lat)] },
    properties: { nom: li.dataset.nom },
  }));
  const map = new maplibregl.Map({
    container: el, style: '/styles/public.json', center: [2.35, 46.6], zoom: 4.3,
    attributionControl: { compact: true }, locale: window.atigipLocale,
  });
  window.atigipSurfaces = { map, ready: false };
  map.on('load', () => {
    // Floor spaces only: the posts of TIG belong to the other map.
    for (const id of ['posts-clusters', 'posts-points']) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', 'none');
    map.addSource('resultats', { type: 'geojson', data: { type: 'FeatureCollection', features } });
    map.addLayer({ id: 'resultats', type: 'circle', source: 'resultats',
      paint: { 'circle-radius': 7, 'circle-color': '#1f8d49', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    const b = new maplibregl.LngLatBounds();
    for (const f of features) b.extend(f.geometry.coordinates);
    if (features.length > 1) map.fitBounds(b, { padding: 40, maxZoom: 10, duration: 0 });
    else map.jumpTo({ center: features[0].geometry.coordinates, zoom: 10 });
    map.once('idle', () => { window.atigipSurfaces.ready = true; });
  });
  map.on('click', 'resultats', (e) => {
    const li = items[e.features[0].id];
    const a = li && li.querySelector('a');
    if (a) a.focus();
  });
})();
