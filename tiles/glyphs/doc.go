// Package glyphs makes MapLibre label glyphs (signed distance fields in
// 256-codepoint PBF ranges, the format of a style's "glyphs" URL) from a
// TrueType font, so the binary serves its map's labels with no font
// server: the font comes from a package the build installs, the ranges are
// computed on first request and kept.
package glyphs
