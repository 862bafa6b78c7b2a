package sprites

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/image/vector"
)

// Icon is one SVG icon under the name the style uses.
type Icon struct {
	Name string
	SVG  []byte
}

// Sheet is a sprite sheet: the PNG and the JSON index MapLibre reads.
type Sheet struct {
	PNG  []byte
	JSON []byte
}

// Entry is one icon's place in the sheet.
type Entry struct {
	Width      int `json:"width"`
	Height     int `json:"height"`
	X          int `json:"x"`
	Y          int `json:"y"`
	PixelRatio int `json:"pixelRatio"`
}

// Icon colours: a dark glyph on a white disc, legible on any background.
var (
	ink  = color.NRGBA{0x4a, 0x44, 0x58, 0xff}
	disc = color.NRGBA{0xff, 0xff, 0xff, 0xf0}
	ring = color.NRGBA{0x9a, 0x92, 0xa8, 0xff}
)

const cell = 19 // px at 1×: a 13-px glyph in a disc

// Build renders icons at ratio (1 or 2) into one sheet, in name order.
func Build(icons []Icon, ratio int) (Sheet, error) {
	if ratio < 1 || ratio > 4 {
		return Sheet{}, fmt.Errorf("sprites: pixel ratio %d", ratio)
	}
	sort.Slice(icons, func(i, j int) bool { return icons[i].Name < icons[j].Name })
	size := cell * ratio
	cols := max(1, int(math.Ceil(math.Sqrt(float64(len(icons))))))
	rows := (len(icons) + cols - 1) / cols
	sheet := image.NewRGBA(image.Rect(0, 0, cols*size, max(rows, 1)*size))
	index := map[string]Entry{}
	for i, ic := range icons {
		x, y := (i%cols)*size, (i/cols)*size
		if err := drawIcon(sheet, ic.SVG, x, y, size, ratio); err != nil {
			return Sheet{}, fmt.Errorf("sprites: %s: %w", ic.Name, err)
		}
		index[ic.Name] = Entry{Width: size, Height: size, X: x, Y: y, PixelRatio: ratio}
	}
	var pb bytes.Buffer
	if err := png.Encode(&pb, sheet); err != nil {
		return Sheet{}, fmt.Errorf("sprites: %w", err)
	}
	jb, err := json.Marshal(index)
	if err != nil {
		return Sheet{}, fmt.Errorf("sprites: %w", err)
	}
	return Sheet{PNG: pb.Bytes(), JSON: jb}, nil
}

func drawIcon(dst *image.RGBA, svg []byte, x, y, size, ratio int) error {
	vb, paths, err := parseSVG(svg)
	if err != nil {
		return err
	}
	// The disc, its ring, then the glyph scaled into the middle.
	c := float32(size) / 2
	circle := func(r float32) *vector.Rasterizer {
		z := vector.NewRasterizer(size, size)
		const k = 0.5523 // cubic approximation of a quarter circle
		z.MoveTo(c+r, c)
		z.CubeTo(c+r, c+r*k, c+r*k, c+r, c, c+r)
		z.CubeTo(c-r*k, c+r, c-r, c+r*k, c-r, c)
		z.CubeTo(c-r, c-r*k, c-r*k, c-r, c, c-r)
		z.CubeTo(c+r*k, c-r, c+r, c-r*k, c+r, c)
		z.ClosePath()
		return z
	}
	paint := func(z *vector.Rasterizer, col color.NRGBA) {
		mask := image.NewAlpha(image.Rect(0, 0, size, size))
		z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
		draw.DrawMask(dst, image.Rect(x, y, x+size, y+size), image.NewUniform(col), image.Point{}, mask, image.Point{}, draw.Over)
	}
	paint(circle(c-0.5), ring)
	paint(circle(c-0.5-float32(ratio)), disc)
	glyph := float32(13 * ratio)
	scale := glyph / float32(max(vb[2], vb[3]))
	off := (float32(size) - glyph) / 2
	z := vector.NewRasterizer(size, size)
	for _, d := range paths {
		if err := tracePath(z, d, func(px, py float64) (float32, float32) {
			return off + float32(px-vb[0])*scale, off + float32(py-vb[1])*scale
		}); err != nil {
			return err
		}
	}
	paint(z, ink)
	return nil
}

var (
	reViewBox = regexp.MustCompile(`viewBox="([^"]+)"`)
	rePath    = regexp.MustCompile(`<path[^>]*\sd="([^"]+)"`)
)

func parseSVG(svg []byte) ([4]float64, []string, error) {
	var vb [4]float64
	m := reViewBox.FindSubmatch(svg)
	if m == nil {
		return vb, nil, fmt.Errorf("no viewBox")
	}
	f := strings.Fields(strings.ReplaceAll(string(m[1]), ",", " "))
	if len(f) != 4 {
		return vb, nil, fmt.Errorf("viewBox %q", m[1])
	}
	for i := range vb {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return vb, nil, fmt.Errorf("viewBox %q", m[1])
		}
		vb[i] = v
	}
	var paths []string
	for _, p := range rePath.FindAllSubmatch(svg, -1) {
		paths = append(paths, html.UnescapeString(string(p[1]))) // Maki wraps lines as &#xA;
	}
	if len(paths) == 0 || vb[2] <= 0 || vb[3] <= 0 {
		return vb, nil, fmt.Errorf("no path")
	}
	return vb, paths, nil
}

var reToken = regexp.MustCompile(`[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`)

// tracePath adds SVG path data d to z, through the coordinate transform tf.
func tracePath(z *vector.Rasterizer, d string, tf func(x, y float64) (float32, float32)) error {
	toks := reToken.FindAllString(d, -1)
	var cmd byte
	var cx, cy, sx, sy, lcx, lcy float64 // current, subpath start, last control
	var prev byte
	i := 0
	num := func() (float64, error) {
		if i >= len(toks) {
			return 0, fmt.Errorf("path ends early")
		}
		v, err := strconv.ParseFloat(toks[i], 64)
		if err != nil {
			return 0, fmt.Errorf("path: %q", toks[i])
		}
		i++
		return v, nil
	}
	nums := func(n int) ([]float64, error) {
		out := make([]float64, n)
		for k := range out {
			v, err := num()
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	moveTo := func(x, y float64) { a, b := tf(x, y); z.MoveTo(a, b) }
	lineTo := func(x, y float64) { a, b := tf(x, y); z.LineTo(a, b) }
	for i < len(toks) {
		t := toks[i]
		if c := t[0]; strings.IndexByte("MmLlHhVvCcSsQqTtAaZz", c) >= 0 {
			cmd = c
			i++
		} else if cmd == 0 {
			return fmt.Errorf("path starts with a number")
		}
		rel := cmd >= 'a'
		ox, oy := 0.0, 0.0
		if rel {
			ox, oy = cx, cy
		}
		switch cmd | 0x20 { // lower case
		case 'z':
			z.ClosePath()
			cx, cy = sx, sy
		case 'm':
			v, err := nums(2)
			if err != nil {
				return err
			}
			cx, cy = ox+v[0], oy+v[1]
			sx, sy = cx, cy
			moveTo(cx, cy)
			// Further pairs are implicit line-tos.
			if rel {
				cmd = 'l'
			} else {
				cmd = 'L'
			}
		case 'l':
			v, err := nums(2)
			if err != nil {
				return err
			}
			cx, cy = ox+v[0], oy+v[1]
			lineTo(cx, cy)
		case 'h':
			v, err := num()
			if err != nil {
				return err
			}
			cx = ox + v
			lineTo(cx, cy)
		case 'v':
			v, err := num()
			if err != nil {
				return err
			}
			cy = oy + v
			lineTo(cx, cy)
		case 'c', 's':
			var x1, y1 float64
			var v []float64
			var err error
			if cmd|0x20 == 'c' {
				if v, err = nums(6); err != nil {
					return err
				}
				x1, y1, v = ox+v[0], oy+v[1], v[2:]
			} else {
				if v, err = nums(4); err != nil {
					return err
				}
				x1, y1 = cx, cy
				if p := prev | 0x20; p == 'c' || p == 's' {
					x1, y1 = 2*cx-lcx, 2*cy-lcy
				}
			}
			x2, y2, x, y := ox+v[0], oy+v[1], ox+v[2], oy+v[3]
			a, b := tf(x1, y1)
			c, d := tf(x2, y2)
			e, f := tf(x, y)
			z.CubeTo(a, b, c, d, e, f)
			lcx, lcy, cx, cy = x2, y2, x, y
		case 'q', 't':
			var x1, y1 float64
			var v []float64
			var err error
			if cmd|0x20 == 'q' {
				if v, err = nums(4); err != nil {
					return err
				}
				x1, y1, v = ox+v[0], oy+v[1], v[2:]
			} else {
				if v, err = nums(2); err != nil {
					return err
				}
				x1, y1 = cx, cy
				if p := prev | 0x20; p == 'q' || p == 't' {
					x1, y1 = 2*cx-lcx, 2*cy-lcy
				}
			}
			x, y := ox+v[0], oy+v[1]
			a, b := tf(x1, y1)
			e, f := tf(x, y)
			z.QuadTo(a, b, e, f)
			lcx, lcy, cx, cy = x1, y1, x, y
		case 'a':
			v, err := nums(3)
			if err != nil {
				return err
			}
			// The two flags are single digits, often packed ("011").
			for range 2 {
				if i >= len(toks) || (toks[i][0] != '0' && toks[i][0] != '1') {
					return fmt.Errorf("path: arc flag")
				}
				if toks[i] = toks[i][1:]; toks[i] == "" {
					i++
				} else if toks[i][0] == '.' {
					toks[i] = "0" + toks[i]
				}
			}
			if v, err = nums(2); err != nil {
				return err
			}
			cx, cy = ox+v[0], oy+v[1]
			lineTo(cx, cy) // a chord: icons use few, small arcs
		}
		prev = cmd
	}
	return nil
}
