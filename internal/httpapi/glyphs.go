package httpapi

import (
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/tiles/glyphs"
	"github.com/atigip/atigip360/tiles/sprites"
)

// fontSet is the label fonts, read from the embedded vendor files (copied
// from npm by make web) on first use.
type fontSet struct {
	once  sync.Once
	fonts map[string]*glyphs.Font
	err   error
}

func newFontSet() *fontSet { return &fontSet{} }

// fontFiles maps fontstack names to the files build.mjs copies.
var fontFiles = map[string]string{
	"Noto Sans Regular": "vendor/fonts/NotoSans-Regular.ttf",
	"Noto Sans Bold":    "vendor/fonts/NotoSans-Bold.ttf",
}

func (fsx *fontSet) load() (map[string]*glyphs.Font, error) {
	fsx.once.Do(func() {
		fsx.fonts = map[string]*glyphs.Font{}
		for name, file := range fontFiles {
			b, err := fs.ReadFile(web.Static(), file)
			if err != nil {
				fsx.err = atigip.Errorf(atigip.ENOTFOUND, "Police introuvable : %s n'est pas installée (lancez make web).", name)
				return
			}
			if fsx.fonts[name], err = glyphs.Parse(name, b); err != nil {
				fsx.err = err
				return
			}
		}
	})
	return fsx.fonts, fsx.err
}

// glyphs serves a glyph range of the first font of the stack we have
// (a stack of fonts we lack gets the regular one).
func (m MapModule) glyphs(s *Server, fonts *fontSet) fiber.Handler {
	return func(c *fiber.Ctx) error {
		stack, err := url.PathUnescape(c.Params("fontstack"))
		if err != nil {
			return s.Problem(c, atigip.Errorf(atigip.EINVALID, "Nom de police invalide."))
		}
		lo, hi, ok := strings.Cut(c.Params("range"), "-")
		start, err1 := strconv.Atoi(lo)
		end, err2 := strconv.Atoi(hi)
		if !ok || err1 != nil || err2 != nil || end != start+255 {
			return s.Problem(c, atigip.Errorf(atigip.EINVALID, "Plage de glyphes invalide : %q (attendu : 0-255, 256-511…).", c.Params("range")))
		}
		all, err := fonts.load()
		if err != nil {
			return s.Problem(c, err)
		}
		font := all["Noto Sans Regular"]
		for _, name := range strings.Split(stack, ",") {
			if f, ok := all[strings.TrimSpace(name)]; ok {
				font = f
				break
			}
		}
		b, err := font.Range(start)
		if err != nil {
			return s.Problem(c, err)
		}
		c.Set(fiber.HeaderContentType, "application/x-protobuf")
		// The glyphs change only with the font, that is with the binary.
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
		return c.Send(b)
	}
}

// spriteSet is the basemap's sprite sheets (1×, 2×), drawn on first use
// from the embedded Maki icons (copied from npm by make web).
type spriteSet struct {
	once   sync.Once
	sheets map[string][]byte // file name → content
	err    error
}

func (ss *spriteSet) load() (map[string][]byte, error) {
	ss.once.Do(func() {
		entries, err := fs.ReadDir(web.Static(), "vendor/sprites")
		if err != nil {
			ss.err = atigip.Errorf(atigip.ENOTFOUND, "Icônes de la carte introuvables (lancez make web).")
			return
		}
		var icons []sprites.Icon
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".svg")
			if !ok {
				continue
			}
			b, err := fs.ReadFile(web.Static(), "vendor/sprites/"+e.Name())
			if err != nil {
				ss.err = err
				return
			}
			icons = append(icons, sprites.Icon{Name: name, SVG: b})
		}
		ss.sheets = map[string][]byte{}
		for _, r := range []struct {
			suffix string
			ratio  int
		}{{"", 1}, {"@2x", 2}} {
			sh, err := sprites.Build(icons, r.ratio)
			if err != nil {
				ss.err = err
				return
			}
			ss.sheets["basemap"+r.suffix+".png"], ss.sheets["basemap"+r.suffix+".json"] = sh.PNG, sh.JSON
		}
	})
	return ss.sheets, ss.err
}

// sprites serves the sprite sheet files: basemap.json, basemap.png and
// their @2x forms.
func (m MapModule) sprites(s *Server, set *spriteSet) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sheets, err := set.load()
		if err != nil {
			return s.Problem(c, err)
		}
		b, ok := sheets[c.Params("file")]
		if !ok {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Planche d'icônes inconnue : %q (basemap.json, basemap.png, basemap@2x.json, basemap@2x.png).", c.Params("file")))
		}
		if strings.HasSuffix(c.Params("file"), ".png") {
			c.Set(fiber.HeaderContentType, "image/png")
		} else {
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
		return c.Send(b)
	}
}
