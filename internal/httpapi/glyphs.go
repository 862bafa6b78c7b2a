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
