package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/tiles"
)

// ContentTypeMVT is the media type of vector tiles.
const ContentTypeMVT = "application/vnd.mapbox-vector-tile"

// TilesModule serves the vector tiles of the map. The viewer's audience
// comes from the principal's role (atigip.Role.Audience): everyone may read
// the "public" tileset, justice professionals also the "justice" one. The
// engine's caches are keyed by tileset, hence by audience.
type TilesModule struct {
	Engine *tiles.Engine
	// Archives are static tilesets served from PMTiles files (public),
	// by name: /tiles/{name}/{z}/{x}/{y}.mvt.
	Archives map[string]*tiles.Archive
	// MaxAge is the browser cache lifetime of tiles (default 60 s): the
	// map is live, so it stays short and ETags make revalidation cheap.
	MaxAge time.Duration
}

// Routes implements Module.
func (m TilesModule) Routes(s *Server) []Route {
	if m.MaxAge <= 0 {
		m.MaxAge = time.Minute
	}
	if m.Engine != nil {
		if _, err := registerOrReuse[prometheus.Collector](s.opts.Registry, tileCacheCollector{m.Engine}); err != nil {
			s.log.Warn("tiles: cache metrics not registered", "err", err)
		}
	}
	path := func(name, typ, desc string) Param {
		return Param{Name: name, In: "path", Type: typ, Description: desc, Required: true}
	}
	ts := path("tileset", "string", "Jeu de tuiles : public ou justice (ou une archive PMTiles configurée)")
	return []Route{
		{Method: fiber.MethodGet, Path: "/tiles/:tileset/:z/:x/:y.mvt", Tag: "carte", Produces: ContentTypeMVT,
			Summary: "Tuile vectorielle (Mapbox Vector Tile) : postes de TIG, établissements, surfaces d'implantation, contours",
			Params: append([]Param{ts, path("z", "integer", "Niveau de zoom"), path("x", "integer", "Colonne"),
				path("y", "integer", "Ligne (0 au nord)")}, filterParams...),
			Handler: m.tile(s)},
		{Method: fiber.MethodGet, Path: "/tiles/:tileset.json", Tag: "carte",
			Summary: "Description TileJSON 3.0 du jeu de tuiles (couches et attributs)",
			Params:  []Param{ts}, Response: tiles.TileJSON{}, Handler: m.tileJSON(s)},
		{Method: fiber.MethodGet, Path: "/tiles/:tileset/near", Tag: "carte",
			Summary: "Postes de TIG autour d'un point, du plus proche au plus lointain (avec les places restantes pour la justice)",
			Params: []Param{ts,
				{Name: "lon", In: "query", Type: "number", Description: "Longitude", Required: true},
				{Name: "lat", In: "query", Type: "number", Description: "Latitude", Required: true},
				{Name: "radius_km", In: "query", Type: "number", Description: "Rayon en km (au plus 200, 10 par défaut)"},
				{Name: "limit", In: "query", Type: "integer", Description: "Nombre maximal de postes (500 au plus)"}},
			Response: nearResponse{}, Handler: m.near(s)},
	}
}

// filterParams narrow the posts layer of a tile; the clusters then count
// the matching posts only (tiles.Filter).
var filterParams = []Param{
	{Name: "domain", In: "query", Type: "string", Description: "Domaine ROME : une lettre de A à N"},
	{Name: "departement", In: "query", Type: "string", Description: "Code du département (01, 2A, 971…)"},
	{Name: "minors", In: "query", Type: "boolean", Description: "Postes acceptant les mineurs"},
	{Name: "weekends", In: "query", Type: "boolean", Description: "Postes ouverts le week-end"},
	{Name: "wheelchair", In: "query", Type: "boolean", Description: "Postes accessibles en fauteuil roulant"},
	{Name: "transport", In: "query", Type: "boolean", Description: "Postes desservis par les transports en commun"},
	{Name: "places", In: "query", Type: "boolean", Description: "Postes ayant des places restantes (jeu justice seulement)"},
}

// tileCacheCollector exports the tile cache's counters at /metrics: the
// hit rate tells whether Options.CacheBytes fits the traffic.
type tileCacheCollector struct{ e *tiles.Engine }

var (
	descTileHits    = prometheus.NewDesc("atigip_tiles_cache_hits_total", "Tiles served from the tile cache.", nil, nil)
	descTileMisses  = prometheus.NewDesc("atigip_tiles_cache_misses_total", "Tiles generated because they were not in the tile cache.", nil, nil)
	descTileBytes   = prometheus.NewDesc("atigip_tiles_cache_bytes", "Weight of the cached tiles in bytes (data and room for gzip).", nil, nil)
	descTileEntries = prometheus.NewDesc("atigip_tiles_cache_entries", "Tiles in the tile cache.", nil, nil)
)

func (tileCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTileHits
	ch <- descTileMisses
	ch <- descTileBytes
	ch <- descTileEntries
}

func (c tileCacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.e.CacheStats()
	ch <- prometheus.MustNewConstMetric(descTileHits, prometheus.CounterValue, float64(st.Hits))
	ch <- prometheus.MustNewConstMetric(descTileMisses, prometheus.CounterValue, float64(st.Misses))
	ch <- prometheus.MustNewConstMetric(descTileBytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(descTileEntries, prometheus.GaugeValue, float64(st.Entries))
}

type nearResponse struct {
	Posts []tiles.NearPost `json:"posts"`
	Total int              `json:"total"`
}

// audience is the viewer's audience; errors about the justice tileset
// become 401 for anonymous viewers, who may simply need to sign in.
func (m TilesModule) fail(s *Server, c *fiber.Ctx, err error) error {
	if atigip.ErrorCode(err) == atigip.EFORBIDDEN {
		if authed, _ := c.Locals(localAuthed).(bool); !authed {
			err = atigip.Errorf(atigip.EUNAUTHORIZED, "Authentification requise : ce jeu de tuiles est réservé aux professionnels de la justice.")
		}
	}
	return s.Problem(c, err)
}

func (m TilesModule) cacheControl(tileset string) string {
	age := strconv.Itoa(int(m.MaxAge / time.Second))
	if tiles.Tilesets[tileset] == atigip.AudienceJustice {
		return "private, max-age=" + age
	}
	return "public, max-age=" + age
}

func (m TilesModule) tile(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		tileset := c.Params("tileset")
		var pr atigip.Problems
		num := func(name string) int {
			v, err := strconv.Atoi(c.Params(name))
			if err != nil || len(c.Params(name)) > 10 {
				pr.Add(name, "%s doit être un entier.", name)
			}
			return v
		}
		z, x, y := num("z"), num("x"), num("y")
		if err := pr.Err("Adresse de tuile"); err != nil {
			return s.Problem(c, err)
		}
		q := c.Queries()
		if a, ok := m.Archives[tileset]; ok {
			if len(q) > 0 {
				return s.Problem(c, atigip.Errorf(atigip.EINVALID, "Une archive de tuiles ne se filtre pas."))
			}
			return m.archiveTile(s, c, a, z, x, y)
		}
		f, err := tiles.ParseFilter(tileset, q)
		if err != nil {
			return s.Problem(c, err)
		}
		t, err := m.Engine.FilteredTile(c.UserContext(), s.Principal(c).Role.Audience(), tileset, f, z, x, y)
		if err != nil {
			return m.fail(s, c, err)
		}
		c.Set(fiber.HeaderCacheControl, m.cacheControl(tileset))
		gz := acceptsGzip(c.Get(fiber.HeaderAcceptEncoding))
		m.tileHeaders(c, tileset)
		// Each encoding is its own representation, with its own strong
		// ETag (RFC 9110 §8.8.3): a cache must not serve one for the other.
		etag := t.ETag
		if gz && !t.Empty {
			etag = gzipETag(etag)
		}
		c.Set(fiber.HeaderETag, etag)
		if etagMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
			return c.SendStatus(fiber.StatusNotModified)
		}
		if t.Empty {
			return c.SendStatus(fiber.StatusNoContent)
		}
		c.Set(fiber.HeaderContentType, ContentTypeMVT)
		if gz {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(t.Gzip())
		}
		return c.Send(t.Data)
	}
}

// tileHeaders sets Vary and CORS for a tile of tileset and reports
// whether it is public. A public tile is the same for every viewer: it
// varies only by encoding, so shared caches and CDNs keep it, and map
// clients on other origins may load it. A justice tile depends on who
// asks and stays private, same-origin.
func (m TilesModule) tileHeaders(c *fiber.Ctx, tileset string) bool {
	if _, archive := m.Archives[tileset]; archive || tiles.Tilesets[tileset] == atigip.AudiencePublic {
		c.Set(fiber.HeaderVary, "Accept-Encoding")
		c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
		c.Set(fiber.HeaderAccessControlExposeHeaders, "ETag, Content-Encoding")
		return true
	}
	c.Set(fiber.HeaderVary, "Accept-Encoding, Authorization, Cookie")
	return false
}

// gzipETag is the strong ETag of the gzip encoding of a tile whose plain
// ETag is etag.
func gzipETag(etag string) string {
	return strings.TrimSuffix(etag, `"`) + `-gz"`
}

func (m TilesModule) archiveTile(s *Server, c *fiber.Ctx, a *tiles.Archive, z, x, y int) error {
	b, err := a.Tile(z, x, y)
	if err != nil {
		return s.Problem(c, err)
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(m.MaxAge/time.Second)))
	m.tileHeaders(c, c.Params("tileset"))
	if b == nil {
		return c.SendStatus(fiber.StatusNoContent)
	}
	etag := `"a` + strconv.FormatUint(fnv64(b), 36) + `"`
	gz := a.Gzipped() && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding))
	if gz {
		etag = gzipETag(etag)
	}
	c.Set(fiber.HeaderETag, etag)
	if etagMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, ContentTypeMVT)
	if !a.Gzipped() {
		return c.Send(b)
	}
	if gz {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(b)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return s.Problem(c, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return s.Problem(c, err)
	}
	return c.Send(raw)
}

func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func (m TilesModule) tileJSON(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		tileset := c.Params("tileset")
		url := c.BaseURL() + "/tiles/" + tileset + "/{z}/{x}/{y}.mvt"
		m.tileHeaders(c, tileset)
		if a, ok := m.Archives[tileset]; ok {
			c.Set(fiber.HeaderCacheControl, "public, max-age=300")
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			return c.Send(archiveTileJSON(a, url))
		}
		tj, err := m.Engine.TileJSON(s.Principal(c).Role.Audience(), tileset, url)
		if err != nil {
			return m.fail(s, c, err)
		}
		c.Set(fiber.HeaderCacheControl, strings.Replace(m.cacheControl(tileset), "max-age=", "no-cache, max-age=", 1))
		return c.JSON(tj)
	}
}

// archiveTileJSON merges the archive's metadata (vector_layers…) with the
// fields TileJSON needs.
func archiveTileJSON(a *tiles.Archive, url string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"tilejson":"3.0.0","scheme":"xyz","minzoom":0,"maxzoom":`)
	b.WriteString(strconv.Itoa(a.MaxZoom()))
	bounds, center := a.Bounds()
	if bounds != ([4]float64{}) {
		bj, _ := json.Marshal(bounds)
		cj, _ := json.Marshal(center)
		b.WriteString(`,"bounds":`)
		b.Write(bj)
		b.WriteString(`,"center":`)
		b.Write(cj)
	}
	b.WriteString(`,"tiles":[`)
	b.WriteString(strconv.Quote(url))
	b.WriteString("]")
	meta := bytes.TrimSpace(a.Metadata())
	if len(meta) > 2 && meta[0] == '{' {
		b.WriteByte(',')
		b.Write(meta[1:])
	} else {
		b.WriteByte('}')
	}
	return b.Bytes()
}

func (m TilesModule) near(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var pr atigip.Problems
		f := func(name string, def float64) float64 {
			v := c.Query(name)
			if v == "" {
				return def
			}
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				pr.Add(name, "%s doit être un nombre.", name)
			}
			return n
		}
		lon, lat, r := f("lon", 0), f("lat", 0), f("radius_km", 10)
		limit := int(f("limit", 100))
		if err := pr.Err("Recherche autour d'un point"); err != nil {
			return s.Problem(c, err)
		}
		posts, err := m.Engine.Near(s.Principal(c).Role.Audience(), c.Params("tileset"), atigip.Point{Lon: lon, Lat: lat}, r, limit)
		if err != nil {
			return m.fail(s, c, err)
		}
		if posts == nil {
			posts = []tiles.NearPost{}
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(nearResponse{Posts: posts, Total: len(posts)})
	}
}

// etagMatch implements If-None-Match: a list of tags, or "*".
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a non-zero quality.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		if strings.HasPrefix(q, "q=") {
			if v, err := strconv.ParseFloat(q[2:], 64); err == nil && v == 0 {
				if name == "gzip" {
					return false
				}
				continue
			}
		}
		return true
	}
	return false
}
