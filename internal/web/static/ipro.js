// IPRO pages: the kiosk's idle sign-out and the ROME search as you type.
// Both enhance pages that work without JavaScript (a <noscript> refresh
// signs the kiosk out; the ROME search is a plain GET form).
(function () {
  'use strict';
  // Kiosk: after the idle delay without a touch, a key or a scroll, the
  // page is emptied and the session ended. The remaining time is shown.
  var idle = document.querySelector('[data-ipro-idle]');
  if (idle) {
    var total = Number(idle.getAttribute('data-ipro-idle')) || 180;
    var left = total;
    var label = function (s) {
      if (s >= 60) { var m = Math.ceil(s / 60); return m + (m > 1 ? ' minutes' : ' minute'); }
      return s + (s > 1 ? ' secondes' : ' seconde');
    };
    var reset = function () { left = total; idle.textContent = label(left); };
    ['pointerdown', 'keydown', 'scroll', 'touchstart'].forEach(function (ev) {
      window.addEventListener(ev, reset, { passive: true });
    });
    window.setInterval(function () {
      left -= 1;
      if (left <= 60) idle.textContent = label(left);
      if (left <= 0) {
        document.querySelector('main').innerHTML = '';
        window.location.replace('/ipro/kiosque/fin?inactif=1');
      }
    }, 1000);
    window.atigipKiosk = { expire: function () { left = 1; } };
  }
  // ROME search as you type: suggestions become unticked checkboxes of
  // the profile form.
  var q = document.querySelector('[data-ipro-rome]');
  if (q) {
    var url = q.getAttribute('data-ipro-rome');
    var jobs = document.getElementById('rome-metiers');
    var skills = document.getElementById('rome-competences');
    var status = document.getElementById('rome-statut');
    var timer = null;
    var seq = 0;
    var box = function (name, prefix, code, label) {
      var id = prefix + code;
      if (document.getElementById(id)) return null;
      var wrap = document.createElement('div');
      wrap.className = 'fr-fieldset__element ipro-suggestion';
      var g = document.createElement('div');
      g.className = 'fr-checkbox-group';
      var input = document.createElement('input');
      input.type = 'checkbox'; input.id = id; input.name = name; input.value = code;
      var l = document.createElement('label');
      l.className = 'fr-label'; l.htmlFor = id; l.textContent = label;
      g.appendChild(input); g.appendChild(l); wrap.appendChild(g);
      return wrap;
    };
    q.addEventListener('input', function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var mine = ++seq;
        var text = q.value.trim();
        document.querySelectorAll('.ipro-suggestion').forEach(function (n) {
          var i = n.querySelector('input');
          if (!i.checked) n.remove();
        });
        if (text.length < 2) { status.textContent = ''; return; }
        fetch(url + '?q=' + encodeURIComponent(text), { headers: { Accept: 'application/json' } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (hits) {
            if (mine !== seq) return;
            var n = 0;
            hits.forEach(function (h) {
              var el = h.kind === 'metier' ? box('rome', 'rome-', h.code, h.label + ' (' + h.code + ')') : box('competences', 'skill-', h.code, h.label);
              if (el) { (h.kind === 'metier' ? jobs : skills).appendChild(el); n++; }
            });
            status.textContent = n ? n + ' résultat(s) ajouté(s) au formulaire, à cocher.' : 'Aucun résultat.';
          })
          .catch(function () { status.textContent = ''; });
      }, 200);
    });
  }
})();
