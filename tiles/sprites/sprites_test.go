package sprites

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestBuild(t *testing.T) {
	dir := filepath.Join("..", "..", "internal", "web", "static", "vendor", "sprites")
	var icons []Icon
	for _, n := range []string{"station", "townhall", "prison"} {
		b, err := os.ReadFile(filepath.Join(dir, n+".svg"))
		if err != nil {
			t.Fatalf("Maki icons not installed: run make web (%v)", err)
		}
		icons = append(icons, Icon{Name: n, SVG: b})
	}
	for _, ratio := range []int{1, 2} {
		sh, err := Build(icons, ratio)
		if err != nil {
			t.Fatal(err)
		}
		var idx map[string]Entry
		if err := json.Unmarshal(sh.JSON, &idx); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(sh.PNG))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"station", "townhall", "prison"} {
			e, ok := idx[n]
			if !ok || e.Width != cell*ratio || e.PixelRatio != ratio || e.X+e.Width > img.Bounds().Dx() {
				t.Fatalf("%s: %+v in %v", n, e, img.Bounds())
			}
			// The glyph's ink is drawn in the middle of the disc, the
			// corners are transparent.
			var inked int
			for y := e.Y; y < e.Y+e.Height; y++ {
				for x := e.X; x < e.X+e.Width; x++ {
					r, g, b, _ := img.At(x, y).RGBA()
					if r < 0x8000 && g < 0x8000 && b < 0x8000 {
						inked++
					}
				}
			}
			if _, _, _, a := img.At(e.X, e.Y).RGBA(); a != 0 || inked < 10*ratio*ratio {
				t.Fatalf("%s at %dx: corner alpha %d, %d inked pixels", n, ratio, a, inked)
			}
		}
	}
	for name, svg := range map[string]string{
		"no viewBox": `<svg><path d="M0 0L1 1z"/></svg>`,
		"no path":    `<svg viewBox="0 0 15 15"></svg>`,
		"bad path":   `<svg viewBox="0 0 15 15"><path d="5 5"/></svg>`,
	} {
		if _, err := Build([]Icon{{Name: "x", SVG: []byte(svg)}}, 1); err == nil {
			t.Errorf("%s: built", name)
		}
	}
}
