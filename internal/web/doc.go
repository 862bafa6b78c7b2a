// Package web is the national map page of ATIGIP 360: an HTML page, its
// script and style sheet, embedded in the binary with MapLibre GL JS.
//
// MapLibre comes from npm (package.json, pinned, installed by `make web`,
// which runs `npm ci` then `npm run build` to copy its dist files into
// static/vendor/, git-ignored): no third-party code is committed and no
// CDN is used at run time. The page is served by internal/httpapi
// (tiles_web.go); map styles live in the top-level styles package.
//
// The package's tests also hold the independent checks that need node:
// an MVT decoder built on npm's @mapbox/vector-tile and pbf, and a
// headless Chromium run of the page through playwright-core.
package web
