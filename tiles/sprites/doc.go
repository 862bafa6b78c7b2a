// Package sprites makes a MapLibre sprite sheet (PNG and its JSON index,
// at 1× and 2×) from SVG icons, so the binary serves its map's icons with
// no sprite server: the icons (Maki, CC0) come from a package the build
// installs. Only what icon SVGs use is read: one or more <path d="…">
// (M, L, H, V, C, S, Q, T, Z and their relative forms; arcs are drawn as
// chords) in a viewBox.
package sprites
