// Package web is the website of ATIGIP 360: server-rendered pages (Go
// templates sharing one layout on the State design system, DSFR), their
// scripts and style sheets, embedded in the binary with MapLibre GL JS and
// the DSFR. Pages work without JavaScript except the map itself.
//
// MapLibre and the DSFR come from npm (package.json, pinned, installed by
// `make web`, which runs `npm ci` then `npm run build` to copy what the
// pages load into static/vendor/, git-ignored): no third-party code is
// committed and no CDN is used at run time. The pages are served by
// internal/httpapi (tiles_web.go, site.go); map styles live in the
// top-level styles package; French number and date formats in frfmt.
//
// The package's tests also hold the independent checks that need node:
// an MVT decoder built on npm's @mapbox/vector-tile and pbf, and headless
// Chromium runs of the pages through playwright-core, checked by axe-core.
package web
