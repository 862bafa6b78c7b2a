package httpapi

import (
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/styles"
)

// MapModule serves the national map page at /, its assets, its MapLibre
// styles and the commune lookup of its "postes autour d'une commune" form.
// It needs TilesModule for the tiles themselves.
type MapModule struct {
	// Basemap is the raster basemap URL template ({z}/{x}/{y}); empty
	// means no raster basemap.
	Basemap string
	// VectorBasemap says TilesModule serves the vector basemap archive
	// ("basemap"): the styles then draw it, labels included, offline.
	VectorBasemap bool
	// BasemapStyle, when set, is the MapLibre style of a basemap archive
	// in another schema than ours (styles.Options.Base).
	BasemapStyle []byte
}

// communeHit is one answer of the commune lookup.
type communeHit struct {
	Code     string  `json:"code"`
	Label    string  `json:"label"`
	Postcode string  `json:"postcode"`
	Lon      float64 `json:"lon"`
	Lat      float64 `json:"lat"`
}

// Routes implements Module.
func (m MapModule) Routes(s *Server) []Route {
	html := "text/html; charset=utf-8"
	file := Param{Name: "file", In: "path", Type: "string", Description: "Nom du fichier", Required: true}
	return []Route{
		{Method: fiber.MethodGet, Path: "/", Tag: "carte", Produces: html,
			Summary: "Carte nationale des postes de TIG, des établissements pénitentiaires et de leurs surfaces d'implantation",
			Handler: m.page(s)},
		{Method: fiber.MethodGet, Path: "/static/:file", Tag: "carte", Params: []Param{file}, Produces: "application/octet-stream",
			Summary: "Script et feuille de style de la carte", Handler: m.asset(s, "")},
		{Method: fiber.MethodGet, Path: "/static/vendor/:file", Tag: "carte", Params: []Param{file}, Produces: "application/octet-stream",
			Summary: "MapLibre GL JS, servi localement (installé par make web)", Handler: m.asset(s, "vendor/")},
		{Method: fiber.MethodGet, Path: "/styles/:name.json", Tag: "carte",
			Params:  []Param{{Name: "name", In: "path", Type: "string", Description: "public ou justice", Required: true}},
			Summary: "Style MapLibre de la carte", Handler: m.style(s)},
		{Method: fiber.MethodGet, Path: "/fonts/:fontstack/:range.pbf", Tag: "carte", Produces: "application/x-protobuf",
			Params: []Param{{Name: "fontstack", In: "path", Type: "string", Description: "Police : Noto Sans Regular ou Noto Sans Bold", Required: true},
				{Name: "range", In: "path", Type: "string", Description: "Plage de 256 points de code Unicode, par exemple 0-255", Required: true}},
			Summary: "Glyphes des libellés de la carte (SDF, format MapLibre), tirés de la police Noto Sans installée avec le binaire",
			Handler: m.glyphs(s, newFontSet())},
		{Method: fiber.MethodGet, Path: "/sprites/:file", Tag: "carte", Produces: "application/octet-stream",
			Params:  []Param{{Name: "file", In: "path", Type: "string", Description: "basemap.json, basemap.png, basemap@2x.json ou basemap@2x.png", Required: true}},
			Summary: "Planche d'icônes du fond de carte (format MapLibre), tirée des icônes Maki installées avec le binaire",
			Handler: m.sprites(s, &spriteSet{})},
		{Method: fiber.MethodGet, Path: "/carte/communes", Tag: "carte",
			Params:   []Param{{Name: "q", In: "query", Type: "string", Description: "Début du nom de la commune ou code postal", Required: true}},
			Summary:  "Communes correspondant à un début de nom ou à un code postal (pour centrer la carte)",
			Response: []communeHit{}, Handler: m.communes(s)},
	}
}

func (m MapModule) page(s *Server) fiber.Handler {
	domains, deps := domainChoices(), departementChoices()
	return func(c *fiber.Ctx) error {
		tileset := "public"
		if s.Principal(c).Role.Audience() == atigip.AudienceJustice {
			tileset = "justice"
		}
		pg, err := web.NewMapPage(tileset, domains, deps)
		if err != nil {
			return s.Problem(c, err)
		}
		return s.page(c, fiber.StatusOK, "carte", s.layout(c, "Carte des postes de TIG", "carte"), pg)
	}
}

func (m MapModule) asset(s *Server, dir string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := c.Params("file")
		if name == "" || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Fichier introuvable."))
		}
		b, err := fs.ReadFile(web.Static(), dir+name)
		if err != nil {
			msg := "Fichier introuvable."
			if dir == "vendor/" {
				msg = "Fichier introuvable : MapLibre GL JS n'est pas installé (lancez make web)."
			}
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "%s", msg))
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		c.Set(fiber.HeaderContentType, ct)
		// Vendor files change only with package.json; ours with each build.
		if dir == "vendor/" {
			c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		} else {
			c.Set(fiber.HeaderCacheControl, "no-cache")
		}
		return c.Send(b)
	}
}

func (m MapModule) style(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := c.Params("name")
		if name != "public" && name != "justice" {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Style inconnu : %q (public ou justice).", name))
		}
		b, err := styles.RenderWith(name, c.BaseURL(), styles.Options{Raster: m.Basemap, Vector: m.VectorBasemap, Base: m.BasemapStyle})
		if err != nil {
			return s.Problem(c, err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return c.Send(b)
	}
}

func (m MapModule) communes(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q := strings.TrimSpace(c.Query("q"))
		if len(q) > 100 {
			return s.Problem(c, atigip.Errorf(atigip.EINVALID, "Recherche trop longue."))
		}
		hits := []communeHit{}
		var found []refdata.Commune
		if len(q) == 5 && strings.Trim(q, "0123456789") == "" {
			for _, cm := range refdata.Communes() {
				for _, pc := range cm.Postcodes {
					if pc == q && cm.Kind != refdata.KindArrondissement {
						found = append(found, cm)
						break
					}
				}
				if len(found) >= 10 {
					break
				}
			}
		} else if label, _, _ := strings.Cut(q, " ("); label != "" {
			found = refdata.CommunePrefix(label, 10)
		}
		for _, cm := range found {
			hits = append(hits, communeHit{Code: cm.INSEE, Label: cm.NameWithArticle + " (" + cm.Departement + ")",
				Postcode: cm.Postcode, Lon: cm.Lon, Lat: cm.Lat})
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		return c.JSON(hits)
	}
}
