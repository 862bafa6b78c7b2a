// Carte nationale ATIGIP 360 — MapLibre GL JS, servi localement.
'use strict';
(function () {
  const cfg = JSON.parse(document.getElementById('config').textContent);
  const status = { ready: false, error: null };
  window.atigip = status;
  if (typeof maplibregl === 'undefined') {
    document.getElementById('vendor-missing').hidden = false;
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
    attributionControl: { compact: false },
  });
  status.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('error', (e) => { status.lastError = String(e && e.error && e.error.message || e); });

  // Cluster counts as HTML markers: the map has no glyph server, it works offline.
  const markers = new Map();
  function updateCounts() {
    const seen = new Set();
    for (const f of map.queryRenderedFeatures({ layers: ['posts-clusters'] })) {
      const key = f.id + ':' + f.geometry.coordinates.join(',');
      seen.add(key);
      if (markers.has(key)) continue;
      const el = document.createElement('div');
      el.className = 'count';
      el.textContent = f.properties.point_count_abbreviated;
      markers.set(key, new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map));
    }
    for (const [key, m] of markers) {
      if (!seen.has(key)) { m.remove(); markers.delete(key); }
    }
  }
  map.on('idle', updateCounts);
  map.on('movestart', () => { for (const m of markers.values()) m.getElement().style.visibility = 'hidden'; });
  map.on('moveend', () => { for (const m of markers.values()) m.getElement().style.visibility = ''; });

  // Clusters open on click: zoom to where they split.
  map.on('click', 'posts-clusters', (e) => {
    const f = e.features[0];
    const z = Math.max(f.properties.expansion_zoom || map.getZoom() + 2, map.getZoom() + 1);
    map.easeTo({ center: f.geometry.coordinates, zoom: z });
    status.lastClusterClick = { from: map.getZoom(), to: z };
  });
  for (const layer of ['posts-clusters', 'posts-points', 'prisons', 'floor-spaces']) {
    map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
  }

  const yes = (v) => (v === true || v === 'true' ? 'oui' : 'non');
  function details(title, rows) {
    const root = document.createElement('div');
    root.className = 'popup';
    const h = document.createElement('h3');
    h.textContent = title;
    root.appendChild(h);
    const dl = document.createElement('dl');
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === '') continue;
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = String(v);
      dl.append(dt, dd);
    }
    root.appendChild(dl);
    return root;
  }
  function postRows(p) {
    const rows = [
      ['Structure', p.organisation], ['Commune', p.city], ['Tâches', p.tasks], ['Codes ROME', p.rome],
      ['Horaires', p.schedule], ['Heures / semaine', p.hours_per_week], ['Week-ends', yes(p.weekends)],
      ['Mineurs acceptés', yes(p.minors_accepted)], ['Accessible en fauteuil', yes(p.wheelchair_access)],
      ['Transports en commun', yes(p.public_transport)], ['Visite médicale', yes(p.medical_check)],
    ];
    if (justice) {
      rows.push(['Places restantes', p.places_left + ' sur ' + p.places], ['Adresse', p.address],
        ['Contact', [p.contact_name, p.contact_role].filter(Boolean).join(', ')],
        ['Courriel', p.contact_email], ['Téléphone', p.contact_phone],
        ['Visibilité', p.visibility === 'justice' ? 'réservé aux professionnels' : 'public']);
    }
    return rows;
  }
  map.on('click', 'posts-points', (e) => {
    const f = e.features[0];
    new maplibregl.Popup({ maxWidth: '340px' }).setLngLat(f.geometry.coordinates)
      .setDOMContent(details(f.properties.title, postRows(f.properties))).addTo(map);
  });
  map.on('click', 'prisons', (e) => {
    const p = e.features[0].properties;
    new maplibregl.Popup().setLngLat(e.features[0].geometry.coordinates).setDOMContent(details(p.name, [
      ['Type', p.type_label], ['Commune', p.city], ['Direction interrégionale', p.disp], ['Capacité', p.capacity],
      ['Surfaces disponibles', p.floor_spaces], ['Contact', p.contact_name], ['Courriel', p.contact_email],
      ['Téléphone', p.contact_phone],
      ['Position', p.location_precision === 'commune_centroid' ? 'centre de la commune (approximative)' : ''],
    ])).addTo(map);
  });
  map.on('click', 'floor-spaces', (e) => {
    const p = e.features[0].properties;
    new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(details(p.name, [
      ['Établissement', p.prison], ['Usage', p.use_label], ['Surface', p.area_m2 + ' m²'],
      ['Hauteur sous plafond', p.ceiling_height_m + ' m'], ['Quai de chargement', yes(p.loading_dock)],
      ['Puissance', p.power_kva + ' kVA'], ['Statut', p.status_label], ['Disponible le', p.available_from],
    ])).addTo(map);
  });

  // Filters: exact on single posts, "at least one" on clusters.
  const $ = (id) => document.getElementById(id);
  function applyFilters() {
    const pts = ['all', ['!=', ['get', 'cluster'], true]];
    const cls = ['all', ['==', ['get', 'cluster'], true]];
    const dom = $('domaine').value;
    if (dom) {
      pts.push(['in', dom, ['get', 'domains']]);
      cls.push(['in', dom, ['get', 'domains']]);
    }
    const checks = [['f-mineurs', 'minors_accepted', 'minors_count'], ['f-weekends', 'weekends', 'weekends_count'],
      ['f-fauteuil', 'wheelchair_access', 'wheelchair_count'], ['f-places', null, 'with_places_count']];
    for (const [id, field, count] of checks) {
      const box = $(id);
      if (!box || !box.checked) continue;
      pts.push(field ? ['==', ['get', field], true] : ['>', ['coalesce', ['get', 'places_left'], 0], 0]);
      cls.push(['>', ['coalesce', ['get', count], 0], 0]);
    }
    map.setFilter('posts-points', pts);
    map.setFilter('posts-clusters', cls);
    status.filters = { points: pts, clusters: cls };
    map.once('idle', updateCounts);
  }
  $('filtres').addEventListener('change', applyFilters);

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
      const dl = $('communes');
      dl.replaceChildren(...communes.map((c) => {
        const o = document.createElement('option');
        o.value = c.label;
        return o;
      }));
    }, 150);
  });
  $('autour').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('resultats');
    const label = $('commune').value.trim();
    let c = communes.find((x) => x.label === label) || communes[0];
    if (!c || (label && !c.label.toLowerCase().includes(label.split(' (')[0].toLowerCase()))) {
      const r = await fetch('/carte/communes?q=' + encodeURIComponent(label));
      communes = r.ok ? await r.json() : [];
      c = communes[0];
    }
    if (!c) { out.textContent = 'Commune introuvable.'; return; }
    const km = Number($('rayon').value);
    map.flyTo({ center: [c.lon, c.lat], zoom: km <= 5 ? 12 : km <= 10 ? 11 : km <= 20 ? 10 : 9 });
    const r = await fetch('/tiles/' + tileset + '/near?lon=' + c.lon + '&lat=' + c.lat + '&radius_km=' + km + '&limit=200');
    if (!r.ok) { out.textContent = 'Recherche impossible (' + r.status + ').'; return; }
    const body = await r.json();
    const h = document.createElement('h2');
    h.textContent = body.total + ' poste(s) à moins de ' + km + ' km de ' + c.label;
    const ol = document.createElement('ol');
    for (const p of body.posts) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = p.properties.title;
      b.addEventListener('click', () => {
        map.flyTo({ center: [p.lon, p.lat], zoom: 15 });
        new maplibregl.Popup({ maxWidth: '340px' }).setLngLat([p.lon, p.lat])
          .setDOMContent(details(p.properties.title, postRows(p.properties))).addTo(map);
      });
      const extra = document.createElement('div');
      extra.textContent = p.distance_km + ' km — ' + (p.properties.organisation || '') +
        (justice ? ' — ' + p.properties.places_left + ' place(s) restante(s)' : '');
      li.append(b, extra);
      ol.appendChild(li);
    }
    out.replaceChildren(h, ol);
  });

  $('toggle').addEventListener('click', () => {
    const panel = $('panneau');
    const closed = panel.classList.toggle('closed');
    $('toggle').setAttribute('aria-expanded', String(!closed));
  });

  map.on('load', () => { status.loaded = true; });
  map.once('idle', () => { status.ready = true; updateCounts(); });
})();
