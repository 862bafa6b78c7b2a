package glyphs

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func noto(t *testing.T) *Font {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "web", "static", "vendor", "fonts", "NotoSans-Regular.ttf"))
	if err != nil {
		t.Fatalf("Noto Sans not installed: run make web (%v)", err)
	}
	f, err := Parse("Noto Sans Regular", b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

type glyph struct {
	id, w, h, adv uint64
	left, top     int64
	bitmap        []byte
}

// decode reads a glyphs PBF (fontstack name, range, glyphs).
func decode(t *testing.T, b []byte) (name, rng string, gs map[rune]glyph) {
	t.Helper()
	gs = map[rune]glyph{}
	num, typ, n := protowire.ConsumeTag(b)
	if num != 1 || typ != protowire.BytesType {
		t.Fatalf("top-level field %d/%d", num, typ)
	}
	stack, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		t.Fatal("bad stack")
	}
	for len(stack) > 0 {
		num, _, n := protowire.ConsumeTag(stack)
		v, m := protowire.ConsumeBytes(stack[n:])
		stack = stack[n+m:]
		switch num {
		case 1:
			name = string(v)
		case 2:
			rng = string(v)
		case 3:
			var g glyph
			for len(v) > 0 {
				num, typ, n := protowire.ConsumeTag(v)
				v = v[n:]
				if typ == protowire.BytesType {
					bm, m := protowire.ConsumeBytes(v)
					g.bitmap, v = bm, v[m:]
					continue
				}
				x, m := protowire.ConsumeVarint(v)
				v = v[m:]
				switch num {
				case 1:
					g.id = x
				case 3:
					g.w = x
				case 4:
					g.h = x
				case 5:
					g.left = protowire.DecodeZigZag(x)
				case 6:
					g.top = protowire.DecodeZigZag(x)
				case 7:
					g.adv = x
				}
			}
			gs[rune(g.id)] = g
		}
	}
	return name, rng, gs
}

func TestRange(t *testing.T) {
	f := noto(t)
	b, err := f.Range(0)
	if err != nil {
		t.Fatal(err)
	}
	name, rng, gs := decode(t, b)
	if name != "Noto Sans Regular" || rng != "0-255" {
		t.Fatalf("stack %q range %q", name, rng)
	}
	for _, r := range "AzéÉèàçôœ0-" {
		if r > 255 {
			continue
		}
		g, ok := gs[r]
		if !ok {
			t.Fatalf("glyph %q missing", r)
		}
		if g.adv == 0 || g.w == 0 || uint64(len(g.bitmap)) != (g.w+2*border)*(g.h+2*border) {
			t.Fatalf("glyph %q: %+v (bitmap %d)", r, g, len(g.bitmap))
		}
		// Inside the letter is above the edge value (192), far outside below.
		var in, out bool
		for _, v := range g.bitmap {
			in = in || v > 200
			out = out || v < 100
		}
		if !in || !out {
			t.Fatalf("glyph %q: SDF has no inside or outside", r)
		}
	}
	if g := gs[' ']; g.adv == 0 || len(g.bitmap) != 0 {
		t.Errorf("space: %+v", g)
	}
	if gs['A'].top < 15 || gs['A'].top > 20 || gs['g'].top > gs['A'].top {
		t.Errorf("A top %d, g top %d: glyphs not on the baseline", gs['A'].top, gs['g'].top)
	}
	// Latin Extended-A (Œ, ł…): the second range French names need.
	b, err = f.Range(256)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, gs := decode(t, b); len(gs['Œ'].bitmap) == 0 {
		t.Error("Œ missing")
	}
	for _, bad := range []int{-256, 1, 65536} {
		if _, err := f.Range(bad); err == nil {
			t.Errorf("range %d accepted", bad)
		}
	}
}
