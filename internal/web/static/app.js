// Carte nationale ATIGIP 360 — MapLibre GL JS, servi localement.
'use strict';
(function () {
  const cfg = JSON.parse(document.getElementById('config').textContent);
  const status = { ready: false, error: null, counts: 0 };
  window.atigip = status;
  const $ = (id) => document.getElementById(id);
  $('toggle').addEventListener('click', () => {
    const closed = $('panneau').classList.toggle('closed');
    $('toggle').setAttribute('aria-expanded', String(!closed));
    $('toggle').textContent = closed ? 'Afficher la liste et les filtres' : 'Masquer la liste et les filtres';
  });
  if (typeof maplibregl === 'undefined') {
    $('vendor-missing').hidden = false;
    status.error = 'maplibre-gl manquant';
    return;
  }
  const tileset = cfg.tileset;
  const justice = tileset === 'justice';
  const map = new maplibregl.Map({
    container: 'map',
    style: '/styles/' + tileset + '.json',
    center: [2.35, 46.6],
    zoom: 5,
    hash: true,
    locale: window.atigipLocale,
    attributionControl: { compact: false },
  });
  status.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('error', (e) => { status.lastError = String(e && e.error && e.error.message || e); });

  // Cluster counts as HTML markers (independent of the basemap's glyphs): it works
  // offline. They are drawn as soon as the posts' tiles are in, not at the
  // first 'idle' (which waits for every source, a basemap included).
  const markers = new Map();
  function updateCounts() {
    if (!map.getLayer('posts-clusters')) return;
    const seen = new Set();
    for (const f of map.queryRenderedFeatures({ layers: ['posts-clusters'] })) {
      const key = f.id + ':' + f.geometry.coordinates.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      if (markers.has(key)) continue;
      const el = document.createElement('div');
      el.className = 'count';
      el.setAttribute('aria-hidden', 'true');
      el.textContent = countLabel(f.properties);
      markers.set(key, new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map));
    }
    for (const [key, m] of markers) {
      if (!seen.has(key)) { m.remove(); markers.delete(key); }
    }
    status.counts = markers.size;
    if (markers.size > 0 && !status.countsAt) status.countsAt = performance.now();
  }
  // A cluster's label is its point_count: the tiles are asked with the
  // filters (tileURL), so clusters count the matching posts only, exact
  // for any combination.
  const abbr = (n) => (n >= 10000 ? Math.round(n / 1000) + '\u202fk' : n >= 1000 ? nf.format(Math.round(n / 100) / 10) + '\u202fk' : String(n));
  const countLabel = (p) => abbr(Number(p.point_count));
  function resetCounts() {
    for (const m of markers.values()) m.remove();
    markers.clear();
  }
  map.on('idle', updateCounts);
  map.on('sourcedata', (e) => { if (e.sourceId === 'atigip' && e.isSourceLoaded && !map.isMoving()) updateCounts(); });
  map.on('movestart', () => { for (const m of markers.values()) m.getElement().style.visibility = 'hidden'; });
  map.on('moveend', () => { for (const m of markers.values()) m.getElement().style.visibility = ''; updateCounts(); });

  // Unknown (undefined) stays empty: the row is left out, never « non ».
  const yes = (v) => (v === undefined || v === null ? '' : v === true || v === 'true' ? 'oui' : 'non');
  const nf = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
  const km = (v) => nf.format(v) + '\u00a0km';
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  function details(title, rows, href) {
    const root = el('div', 'popup');
    const h = el('h3');
    if (href) {
      const a = el('a', null, title);
      a.href = href;
      h.appendChild(a);
    } else h.textContent = title;
    root.appendChild(h);
    const dl = el('dl');
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === '') continue;
      dl.append(el('dt', null, k), el('dd', null, String(v)));
    }
    root.appendChild(dl);
    return root;
  }
  // Practical facts first: what a judge needs before the hearing.
  function postRows(p) {
    const rows = [];
    if (justice) {
      rows.push(['Places restantes', p.places_left + ' sur ' + p.places], ['Adresse', p.address],
        ['Contact', [p.contact_name, p.contact_role].filter(Boolean).join(', ')],
        ['Courriel', p.contact_email], ['Téléphone', p.contact_phone]);
    }
    rows.push(['Structure', p.organisation], ['Commune', p.city], ['Tâches', p.tasks], ['Horaires', p.schedule],
      ['Heures par semaine', p.hours_per_week !== undefined ? nf.format(p.hours_per_week) : ''], ['Week-ends', yes(p.weekends)],
      ['Mineurs acceptés', yes(p.minors_accepted)], ['Accessible en fauteuil', yes(p.wheelchair_access)],
      ['Transports en commun', yes(p.public_transport)], ['Visite médicale', yes(p.medical_check)], ['Codes ROME', p.rome]);
    if (justice) rows.push(['Visibilité', p.visibility === 'justice' ? 'réservé aux professionnels' : 'public']);
    return rows;
  }
  const postURL = (id) => '/postes/' + id;
  const popupOpts = { maxWidth: 'min(360px, 90vw)', focusAfterOpen: true };
  let popup = null;
  function openPopup(lnglat, node) {
    if (popup) popup.remove();
    popup = new maplibregl.Popup(popupOpts).setLngLat(lnglat).setDOMContent(node).addTo(map);
    status.popup = popup;
    return popup;
  }
  // Posts at one address open as one list.
  function postsPopup(lnglat, feats) {
    if (feats.length === 1) {
      const f = feats[0];
      return openPopup(lnglat, details(f.properties.title, postRows(f.properties), postURL(f.id)));
    }
    const root = el('div', 'popup');
    root.appendChild(el('h3', null, feats.length + ' postes à cette adresse'));
    for (const f of feats) {
      const d = el('details');
      const s = el('summary', null, f.properties.title + (justice ? ' — ' + f.properties.places_left + ' place(s)' : ''));
      d.append(s, details(f.properties.title, postRows(f.properties), postURL(f.id)));
      root.appendChild(d);
    }
    return openPopup(lnglat, root);
  }

  // One click handler: only the feature drawn on top acts, so a click on a
  // cluster zooms and opens nothing else.
  const clickable = ['posts-clusters', 'posts-points', 'prisons', 'floor-spaces'];
  map.on('click', (e) => {
    const layers = clickable.filter((l) => map.getLayer(l));
    const top = map.queryRenderedFeatures(e.point, { layers })[0];
    if (!top) return;
    const hit = (layer) => map.queryRenderedFeatures(e.point, { layers: [layer] });
    if (top.layer.id === 'posts-clusters') {
      const f = top;
      const z = Math.max(f.properties.expansion_zoom || map.getZoom() + 2, map.getZoom() + 1);
      map.easeTo({ center: f.geometry.coordinates, zoom: z });
      status.lastClusterClick = { from: map.getZoom(), to: z };
      return;
    }
    if (top.layer.id === 'posts-points') {
      const c = top.geometry.coordinates;
      const same = new Map();
      for (const f of hit('posts-points')) if (f.geometry.coordinates[0] === c[0] && f.geometry.coordinates[1] === c[1]) same.set(f.id, f);
      postsPopup(c, [...same.values()]);
      return;
    }
    if (top.layer.id === 'prisons') {
      const p = top.properties;
      openPopup(top.geometry.coordinates, details(p.name, [
        ['Type', p.type_label], ['Commune', p.city], ['Surfaces disponibles', p.floor_spaces],
        ['Direction interrégionale', p.disp], ['Capacité', p.capacity], ['Contact', p.contact_name || p.service],
        ['Courriel', p.contact_email], ['Téléphone', p.contact_phone],
        ['Position', p.location_precision === 'commune_centroid' ? 'centre de la commune (approximative)' : ''],
      ], '/etablissements/' + top.id));
      return;
    }
    const p = top.properties;
    openPopup(e.lngLat, details(p.name, [
      ['Établissement', p.prison], ['Usage', p.use_label], ['Surface', nf.format(p.area_m2) + '\u00a0m²'],
      ['Hauteur sous plafond', nf.format(p.ceiling_height_m) + '\u00a0m'], ['Quai de chargement', yes(p.loading_dock)],
      ['Puissance', nf.format(p.power_kva) + '\u00a0kVA'], ['Statut', p.status_label],
      ['Disponible le', p.available_from ? p.available_from.split('-').reverse().join('/') : ''],
    ], '/etablissements/' + p.prison_id));
  });
  for (const layer of ['posts-clusters', 'posts-points', 'prisons', 'floor-spaces']) {
    map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
  }

  // Filters: exact on single posts, "at least one" on clusters, and the
  // same test on the lists (near and search).
  // [checkbox, post attribute, tile URL parameter, search parameter]
  const checks = [['f-mineurs', 'minors_accepted', 'minors', 'minors'], ['f-weekends', 'weekends', 'weekends', 'weekends'],
    ['f-fauteuil', 'wheelchair_access', 'wheelchair', 'wheelchair'], ['f-places', null, 'places', 'available']];
  function active() {
    const a = { domain: $('domaine').value, dep: $('f-departement').value, boxes: [] };
    for (const c of checks) if ($(c[0]) && $(c[0]).checked) a.boxes.push(c);
    return a;
  }
  function keep(p) {
    const a = active();
    if (a.domain && !String(p.domains || '').includes(a.domain)) return false;
    if (a.dep && p.departement !== a.dep) return false;
    for (const [, field] of a.boxes) {
      if (field ? !(p[field] === true || p[field] === 'true') : !(Number(p.places_left) > 0)) return false;
    }
    return true;
  }
  // The filtered tileset: the server clusters the matching posts only.
  function tileURL(a) {
    const q = new URLSearchParams();
    if (a.domain) q.set('domain', a.domain);
    if (a.dep) q.set('departement', a.dep);
    for (const c of a.boxes) q.set(c[2], 'true');
    const qs = q.toString();
    return location.origin + '/tiles/' + tileset + '/{z}/{x}/{y}.mvt' + (qs ? '?' + qs : '');
  }
  function applyFilters() {
    const a = active();
    // Points are also filtered here, so that the tiles drawn before the
    // filtered ones arrive never show a post that does not match.
    const pts = ['all', ['!=', ['get', 'cluster'], true]];
    if (a.domain) pts.push(['in', a.domain, ['get', 'domains']]);
    if (a.dep) pts.push(['==', ['get', 'departement'], a.dep]);
    for (const [, field] of a.boxes) {
      pts.push(field ? ['==', ['get', field], true] : ['>', ['coalesce', ['get', 'places_left'], 0], 0]);
    }
    map.setFilter('posts-points', pts);
    const url = tileURL(a);
    const src = map.getSource('atigip'); // none before the style loads: the load handler comes back here
    if (src && url !== status.tiles) {
      status.tiles = url;
      src.setTiles([url]);
    }
    status.filters = { points: pts };
    resetCounts();
    map.once('idle', updateCounts);
    if (lastList) lastList();
  }
  $('filtres').addEventListener('change', (ev) => {
    if (ev.target.id === 'f-departement' && ev.target.value) {
      const o = ev.target.selectedOptions[0];
      map.flyTo({ center: [Number(o.dataset.lon), Number(o.dataset.lat)], zoom: 8 });
    }
    applyFilters();
  });

  // Lists beside the map: every post is reachable by keyboard there.
  let lastList = null;
  const out = $('resultats');
  function showList(title, items) {
    const h = el('h2', 'fr-h6', title);
    h.tabIndex = -1;
    const ol = el('ol', 'liste-postes');
    for (const it of items) {
      const li = el('li');
      const a = el('a', null, it.title);
      a.href = postURL(it.id);
      const b = el('button', 'fr-btn fr-btn--tertiary-no-outline fr-btn--sm', 'Voir sur la carte');
      b.type = 'button';
      b.setAttribute('aria-label', 'Voir sur la carte : ' + it.title);
      b.addEventListener('click', () => {
        for (const x of ol.querySelectorAll('.actif')) x.classList.remove('actif');
        li.classList.add('actif');
        highlight([it]);
        // On a phone the map is below the list: bring it into view.
        if (window.matchMedia('(max-width: 62em)').matches) map.getContainer().scrollIntoView({ block: 'end' });
        // The post lands low on the map, so that its popup opens above it
        // with room to be read, phone included.
        map.flyTo({ center: [it.lon, it.lat], zoom: Math.max(map.getZoom(), 14),
          offset: [0, Math.round(map.getContainer().clientHeight * 0.3)] });
        // The tile's own attributes when the post is drawn (all of them, and
        // the other posts at the same address); the list's otherwise.
        map.once('idle', () => {
          const all = map.queryRenderedFeatures({ layers: ['posts-points'] });
          const self = all.find((f) => f.id === it.id);
          const at = self && self.geometry.coordinates;
          const uniq = new Map(all.filter((f) => at && f.geometry.coordinates[0] === at[0] && f.geometry.coordinates[1] === at[1]).map((f) => [f.id, f]));
          postsPopup([it.lon, it.lat], uniq.size ? [...uniq.values()] : [{ id: it.id, properties: it.props }]);
        });
      });
      li.append(a, el('div', 'fr-text--sm fr-mb-0', it.extra), b);
      ol.appendChild(li);
    }
    out.replaceChildren(h, ol);
    highlight(items);
    status.list = items.length;
  }
  function highlight(items) {
    const data = { type: 'FeatureCollection', features: items.map((it) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [it.lon, it.lat] } })) };
    if (!map.getSource('surlignage')) {
      map.addSource('surlignage', { type: 'geojson', data });
      map.addLayer({ id: 'surlignage', type: 'circle', source: 'surlignage',
        paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#ce0500', 'circle-stroke-width': 3 } });
    } else map.getSource('surlignage').setData(data);
  }

  // Job search (the French full-text search), with the filters.
  $('recherche').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = $('q').value.trim();
    if (!q) return;
    const run = async () => {
      const a = active();
      const u = new URLSearchParams({ q, type: 'post', per_page: '50' });
      if (a.domain) u.set('rome', a.domain);
      if (a.dep) u.set('departement', a.dep);
      for (const [, , , param] of a.boxes) u.set(param, 'true');
      const r = await fetch('/api/search?' + u, { headers: { Accept: 'application/json' } });
      if (!r.ok) { out.textContent = 'Recherche impossible (' + r.status + ').'; return; }
      const body = await r.json();
      const items = body.hits.filter((h) => h.location).map((h) => ({
        id: h.id, title: h.title, lon: h.location.lon, lat: h.location.lat,
        extra: [h.parent, h.city && h.city + (h.departement ? ' (' + h.departement + ')' : ''),
          h.places_left !== undefined && h.places_left !== null ? h.places_left + ' place(s) restante(s)' : ''].filter(Boolean).join(' — '),
        props: { title: h.title, organisation: h.parent, city: h.city, rome: (h.rome || []).join(', '), places_left: h.places_left },
      }));
      const n = body.total;
      showList(n + ' poste' + (n > 1 ? 's' : '') + ' pour « ' + q + ' »' + (items.length < n ? ' (' + items.length + ' premiers)' : ''), items);
      if (items.length) {
        const b = new maplibregl.LngLatBounds();
        for (const it of items) b.extend([it.lon, it.lat]);
        map.fitBounds(b, { padding: 60, maxZoom: 12 });
      }
      out.querySelector('h2').focus();
    };
    lastList = run;
    await run();
  });

  // Jump to a commune and list the posts within the radius.
  let communes = [];
  let timer;
  $('commune').addEventListener('input', () => {
    clearTimeout(timer);
    const q = $('commune').value.trim();
    if (q.length < 2) return;
    timer = setTimeout(async () => {
      const r = await fetch('/carte/communes?q=' + encodeURIComponent(q));
      if (!r.ok) return;
      communes = await r.json();
      $('communes').replaceChildren(...communes.map((c) => { const o = el('option'); o.value = c.label; return o; }));
    }, 150);
  });
  $('autour').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const label = $('commune').value.trim();
    let c = communes.find((x) => x.label === label);
    if (!c) {
      const r = await fetch('/carte/communes?q=' + encodeURIComponent(label));
      communes = r.ok ? await r.json() : [];
      c = communes[0];
    }
    if (!c) { out.textContent = 'Commune introuvable.'; return; }
    const radius = Number($('rayon').value);
    map.flyTo({ center: [c.lon, c.lat], zoom: radius <= 5 ? 12 : radius <= 10 ? 11 : radius <= 20 ? 10 : 9 });
    const r = await fetch('/tiles/' + tileset + '/near?lon=' + c.lon + '&lat=' + c.lat + '&radius_km=' + radius + '&limit=500');
    if (!r.ok) { out.textContent = 'Recherche impossible (' + r.status + ').'; return; }
    const body = await r.json();
    const run = () => {
      const items = body.posts.filter((p) => keep(p.properties)).map((p) => ({
        id: p.id, title: p.properties.title, lon: p.lon, lat: p.lat, props: p.properties,
        extra: km(p.distance_km) + ' — ' + (p.properties.organisation || '') +
          (justice ? ' — ' + p.properties.places_left + ' place(s) restante(s)' : ''),
      }));
      showList(items.length + ' poste(s) à moins de ' + radius + '\u00a0km de ' + c.label, items);
    };
    lastList = run;
    run();
    out.querySelector('h2').focus();
  });

  map.on('load', () => {
    status.loaded = true;
    status.loadAt = performance.now();
    // Filters kept by the browser (back, reload): the first tiles drawn
    // after load are the filtered ones.
    const a = active();
    if (a.domain || a.dep || a.boxes.length) applyFilters();
  });
  map.once('idle', () => { status.ready = true; updateCounts(); });
})();
