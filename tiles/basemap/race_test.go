//go:build race

package basemap

// raceEnabled: the race detector slows the XML extracts tenfold.
const raceEnabled = true
