//go:build !race

package basemap

const raceEnabled = false
