package glyphs

import (
	"fmt"
	"image"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/atigip/atigip360/internal/atigip"
)

// The SDF parameters MapLibre expects (those of fontnik and tiny-sdf).
const (
	size   = 24
	border = 3
	radius = 8
	cutoff = 0.25
)

// Font makes glyph ranges of one font, cached.
type Font struct {
	name  string
	font  *sfnt.Font
	mu    sync.Mutex
	cache map[int][]byte
}

// Parse reads a TrueType/OpenType font; name is its fontstack name
// ("Noto Sans Regular").
func Parse(name string, ttf []byte) (*Font, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("glyphs: %s: %w", name, err)
	}
	return &Font{name: name, font: f, cache: map[int][]byte{}}, nil
}

// Name is the fontstack name.
func (f *Font) Name() string { return f.name }

// Range returns the PBF of codepoints start..start+255 (start a multiple
// of 256, below 65536).
func (f *Font) Range(start int) ([]byte, error) {
	if start < 0 || start > 65280 || start%256 != 0 {
		return nil, atigip.Errorf(atigip.EINVALID, "Plage de glyphes invalide : %d.", start)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.cache[start]; ok {
		return b, nil
	}
	var buf sfnt.Buffer
	var glyphs []byte
	for cp := start; cp < start+256; cp++ {
		g, err := f.glyph(&buf, rune(cp))
		if err != nil {
			return nil, err
		}
		if g != nil {
			glyphs = protowire.AppendTag(glyphs, 3, protowire.BytesType)
			glyphs = protowire.AppendBytes(glyphs, g)
		}
	}
	var stack []byte
	stack = protowire.AppendTag(stack, 1, protowire.BytesType)
	stack = protowire.AppendString(stack, f.name)
	stack = protowire.AppendTag(stack, 2, protowire.BytesType)
	stack = protowire.AppendString(stack, fmt.Sprintf("%d-%d", start, start+255))
	stack = append(stack, glyphs...)
	var out []byte
	out = protowire.AppendTag(out, 1, protowire.BytesType)
	out = protowire.AppendBytes(out, stack)
	f.cache[start] = out
	return out, nil
}

// glyph encodes one glyph message, or nil when the font lacks cp.
func (f *Font) glyph(buf *sfnt.Buffer, cp rune) ([]byte, error) {
	idx, err := f.font.GlyphIndex(buf, cp)
	if err != nil || idx == 0 {
		return nil, nil
	}
	ppem := fixed.I(size)
	adv, err := f.font.GlyphAdvance(buf, idx, ppem, font.HintingNone)
	if err != nil {
		return nil, nil
	}
	segs, err := f.font.LoadGlyph(buf, idx, ppem, nil)
	if err != nil {
		return nil, nil
	}
	b := segs.Bounds()
	left, top := b.Min.X.Floor(), b.Min.Y.Floor() // y grows downwards
	w, h := b.Max.X.Ceil()-left, b.Max.Y.Ceil()-top
	g := protowire.AppendTag(nil, 1, protowire.VarintType)
	g = protowire.AppendVarint(g, uint64(cp))
	if len(segs) > 0 && w > 0 && h > 0 {
		bitmap := sdf(segs, left, top, w, h)
		g = protowire.AppendTag(g, 2, protowire.BytesType)
		g = protowire.AppendBytes(g, bitmap)
	} else {
		w, h, left, top = 0, 0, 0, 0
	}
	for _, kv := range []struct {
		n protowire.Number
		v uint64
	}{{3, uint64(w)}, {4, uint64(h)}, {5, protowire.EncodeZigZag(int64(left))},
		{6, protowire.EncodeZigZag(int64(-top))}, {7, uint64(math.Round(float64(adv) / 64))}} {
		g = protowire.AppendTag(g, kv.n, protowire.VarintType)
		g = protowire.AppendVarint(g, kv.v)
	}
	return g, nil
}

// sdf rasterises the outline into a (w+2·border)×(h+2·border) alpha grid
// and turns it into a signed distance field (Felzenszwalb's transform, as
// tiny-sdf does).
func sdf(segs sfnt.Segments, left, top, w, h int) []byte {
	W, H := w+2*border, h+2*border
	r := vector.NewRasterizer(W, H)
	ox, oy := float32(border-left), float32(border-top)
	pt := func(p fixed.Point26_6) (float32, float32) {
		return float32(p.X)/64 + ox, float32(p.Y)/64 + oy
	}
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			x, y := pt(s.Args[0])
			r.MoveTo(x, y)
		case sfnt.SegmentOpLineTo:
			x, y := pt(s.Args[0])
			r.LineTo(x, y)
		case sfnt.SegmentOpQuadTo:
			x1, y1 := pt(s.Args[0])
			x, y := pt(s.Args[1])
			r.QuadTo(x1, y1, x, y)
		case sfnt.SegmentOpCubeTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			x, y := pt(s.Args[2])
			r.CubeTo(x1, y1, x2, y2, x, y)
		}
	}
	r.ClosePath()
	alpha := image.NewAlpha(image.Rect(0, 0, W, H))
	r.Draw(alpha, alpha.Bounds(), image.Opaque, image.Point{})

	const inf = 1e20
	outer := make([]float64, W*H)
	inner := make([]float64, W*H)
	for i, a8 := range alpha.Pix {
		a := float64(a8) / 255
		switch {
		case a >= 1:
			outer[i], inner[i] = 0, inf
		case a <= 0:
			outer[i], inner[i] = inf, 0
		default:
			d := 0.5 - a
			outer[i], inner[i] = max(d, 0)*max(d, 0), min(d, 0)*min(d, 0)
		}
	}
	edt(outer, W, H)
	edt(inner, W, H)
	out := make([]byte, W*H)
	for i := range out {
		d := math.Sqrt(outer[i]) - math.Sqrt(inner[i])
		out[i] = uint8(min(max(math.Round(255-255*(d/radius+cutoff)), 0), 255))
	}
	return out
}

// edt is the 2-D squared Euclidean distance transform, in place.
func edt(g []float64, w, h int) {
	n := max(w, h)
	f, d := make([]float64, n), make([]float64, n)
	v, z := make([]int, n), make([]float64, n+1)
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			f[y] = g[y*w+x]
		}
		edt1(f[:h], d[:h], v, z)
		for y := 0; y < h; y++ {
			g[y*w+x] = d[y]
		}
	}
	for y := 0; y < h; y++ {
		copy(f[:w], g[y*w:(y+1)*w])
		edt1(f[:w], d[:w], v, z)
		copy(g[y*w:(y+1)*w], d[:w])
	}
}

func edt1(f, d []float64, v []int, z []float64) {
	n := len(f)
	k := 0
	v[0] = 0
	z[0], z[1] = math.Inf(-1), math.Inf(1)
	for q := 1; q < n; q++ {
		s := ((f[q] + float64(q*q)) - (f[v[k]] + float64(v[k]*v[k]))) / float64(2*q-2*v[k])
		for s <= z[k] {
			k--
			s = ((f[q] + float64(q*q)) - (f[v[k]] + float64(v[k]*v[k]))) / float64(2*q-2*v[k])
		}
		k++
		v[k] = q
		z[k], z[k+1] = s, math.Inf(1)
	}
	k = 0
	for q := 0; q < n; q++ {
		for z[k+1] < float64(q) {
			k++
		}
		d[q] = float64((q-v[k])*(q-v[k])) + f[v[k]]
	}
}
