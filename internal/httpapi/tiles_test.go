package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/tiles"
)

func tilesData() tiles.Data {
	org := &atigip.Organisation{Meta: atigip.Meta{ID: 1}, Name: "Mairie de Rennes", OrgKind: atigip.OrgCommune, Active: true,
		Contacts: []atigip.Contact{{Name: "Anne Tuteur", Email: "tig@rennes.example.fr"}}}
	post := func(id int64, vis atigip.Visibility) *atigip.Post {
		return &atigip.Post{Meta: atigip.Meta{ID: id}, OrganisationID: 1, Title: "Espaces verts", ROMECodes: []string{"A1203"},
			Places: 2, Location: atigip.Point{Lon: -1.6778, Lat: 48.1173 + float64(id)*0.001}, Status: atigip.PostOpen, Visibility: vis}
	}
	return tiles.Data{Organisations: []*atigip.Organisation{org},
		Posts: []*atigip.Post{post(1, atigip.VisibilityPublic), post(2, atigip.VisibilityJustice)}}
}

// tilesEnv serves tilesData; tilePath gives the z14 tile of its posts in
// a tileset.
func tilesEnv(t *testing.T) (env *testEnv, eng *tiles.Engine, tilePath func(tileset string) string) {
	eng, err := tiles.Build(tilesData(), tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env = newEnv(t, newMemStore(), func(o *Options) { o.Modules = append(o.Modules, TilesModule{Engine: eng}) })
	rennes := maptile.At(orb.Point{-1.6778, 48.12}, 14)
	return env, eng, func(ts string) string {
		return "/tiles/" + ts + "/14/" + itoa(int(rennes.X)) + "/" + itoa(int(rennes.Y)) + ".mvt"
	}
}

func TestTilesHTTP(t *testing.T) {
	env, eng, tilePath := tilesEnv(t)
	magistrate := env.token(atigip.Principal{Role: atigip.RoleMagistrate})
	business := env.token(atigip.Principal{Role: atigip.RoleBusiness})

	countPosts := func(body []byte) int {
		ls, err := mvt.Unmarshal(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.Name == tiles.LayerPosts {
				return len(l.Features)
			}
		}
		return 0
	}

	t.Run("public tile", func(t *testing.T) {
		r := env.do("GET", tilePath("public"), "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != ContentTypeMVT || r.header.Get("Content-Encoding") != "" {
			t.Fatalf("status %d type %q encoding %q", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Encoding"))
		}
		if !strings.HasPrefix(r.header.Get("Cache-Control"), "public") || r.header.Get("ETag") == "" {
			t.Fatalf("headers %v", r.header)
		}
		if n := countPosts(r.body); n != 1 {
			t.Fatalf("public posts %d, want 1", n)
		}
	})
	t.Run("gzip only when accepted", func(t *testing.T) {
		for _, c := range []struct {
			accept string
			gz     bool
		}{{"gzip", true}, {"deflate, gzip;q=0.5", true}, {"gzip;q=0", false}, {"br", false}, {"identity", false}, {"*", true}} {
			req := httptest.NewRequest("GET", tilePath("public"), nil)
			req.Header.Set("Accept-Encoding", c.accept)
			r := env.send(req)
			if got := r.header.Get("Content-Encoding") == "gzip"; got != c.gz {
				t.Fatalf("Accept-Encoding %q: Content-Encoding %q", c.accept, r.header.Get("Content-Encoding"))
			}
			if r.header.Get("Content-Encoding") == "br" {
				continue // the server's compression middleware, for br-only clients
			}
			body := r.body
			if c.gz {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			if countPosts(body) != 1 {
				t.Fatalf("Accept-Encoding %q: bad body", c.accept)
			}
		}
	})
	t.Run("etag 304", func(t *testing.T) {
		r := env.do("GET", tilePath("public"), "", nil)
		req := httptest.NewRequest("GET", tilePath("public"), nil)
		req.Header.Set("If-None-Match", r.header.Get("ETag"))
		r2 := env.send(req)
		if r2.status != 304 || len(r2.body) != 0 {
			t.Fatalf("status %d, body %d bytes", r2.status, len(r2.body))
		}
	})
	t.Run("empty 204", func(t *testing.T) {
		r := env.do("GET", "/tiles/public/4/0/8.mvt", "", nil)
		if r.status != 204 || len(r.body) != 0 {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("bad addresses 400", func(t *testing.T) {
		for _, p := range []string{"/tiles/public/23/0/0.mvt", "/tiles/public/3/8/0.mvt", "/tiles/public/3/0/9.mvt",
			"/tiles/public/a/0/0.mvt", "/tiles/public/3/x/0.mvt", "/tiles/public/3/0/-1.mvt"} {
			r := env.do("GET", p, "", nil)
			if r.status != 400 {
				t.Fatalf("%s: status %d", p, r.status)
			}
			if pd := r.problem(t); pd.Code != atigip.EINVALID || len(pd.Errors) == 0 {
				t.Fatalf("%s: problem %+v", p, pd)
			}
		}
	})
	t.Run("filters", func(t *testing.T) {
		r := env.do("GET", tilePath("public")+"?minors=true&weekends=true", "", nil)
		if r.status != 200 && r.status != 204 {
			t.Fatalf("filtered: status %d", r.status)
		}
		for _, q := range []string{"?couleur=rouge", "?minors=oui", "?domain=Z", "?departement=99", "?places=true"} {
			r := env.do("GET", tilePath("public")+q, "", nil)
			if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("%s: status %d %s", q, r.status, r.header.Get("Content-Type"))
			}
			if pd := r.problem(t); pd.Code != atigip.EINVALID || len(pd.Errors) == 0 {
				t.Fatalf("%s: problem %+v", q, pd)
			}
		}
		if r := env.do("GET", tilePath("justice")+"?places=true&minors=1", magistrate, nil); r.status != 200 && r.status != 204 {
			t.Fatalf("justice places: status %d", r.status)
		}
	})
	t.Run("justice tileset", func(t *testing.T) {
		if r := env.do("GET", tilePath("justice"), "", nil); r.status != 401 {
			t.Fatalf("anonymous: %d", r.status)
		}
		if r := env.do("GET", tilePath("justice"), business, nil); r.status != 403 {
			t.Fatalf("business: %d", r.status)
		}
		r := env.do("GET", tilePath("justice"), magistrate, nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Cache-Control"), "private") {
			t.Fatalf("magistrate: %d %v", r.status, r.header)
		}
		if n := countPosts(r.body); n != 2 {
			t.Fatalf("justice posts %d, want 2", n)
		}
		if r := env.do("GET", "/tiles/nope/0/0/0.mvt", "", nil); r.status != 404 {
			t.Fatalf("unknown tileset: %d", r.status)
		}
	})
	t.Run("tilejson", func(t *testing.T) {
		r := env.do("GET", "/tiles/public.json", "", nil)
		var tj tiles.TileJSON
		r.json(t, &tj)
		if r.status != 200 || tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || !strings.HasSuffix(tj.Tiles[0], "/tiles/public/{z}/{x}/{y}.mvt") {
			t.Fatalf("%d %+v", r.status, tj)
		}
		if len(tj.VectorLayers) != 4 {
			t.Fatalf("layers %+v", tj.VectorLayers)
		}
		for _, vl := range tj.VectorLayers {
			if vl.ID == tiles.LayerPosts {
				if _, ok := vl.Fields["places_left"]; ok {
					t.Fatal("public TileJSON lists places_left")
				}
			}
		}
		if r := env.do("GET", "/tiles/justice.json", "", nil); r.status != 401 {
			t.Fatalf("anonymous justice tilejson: %d", r.status)
		}
	})
	t.Run("near", func(t *testing.T) {
		var pub, jus nearResponse
		r := env.do("GET", "/tiles/public/near?lon=-1.6778&lat=48.12&radius_km=5", "", nil)
		r.json(t, &pub)
		r = env.do("GET", "/tiles/justice/near?lon=-1.6778&lat=48.12&radius_km=5", magistrate, nil)
		r.json(t, &jus)
		if pub.Total != 1 || jus.Total != 2 || jus.Posts[0].Properties["places_left"] == nil || pub.Posts[0].Properties["places_left"] != nil {
			t.Fatalf("public %+v justice %+v", pub, jus)
		}
		if r := env.do("GET", "/tiles/public/near?lon=abc&lat=48", "", nil); r.status != 400 {
			t.Fatalf("bad lon: %d", r.status)
		}
		if r := env.do("GET", "/tiles/public/near?lon=2&lat=48&radius_km=5000", "", nil); r.status != 400 {
			t.Fatalf("huge radius: %d", r.status)
		}
	})
	t.Run("cache metrics", func(t *testing.T) {
		st := eng.CacheStats()
		if st.Hits == 0 || st.Misses == 0 {
			t.Fatalf("the subtests above should have hit and missed the cache: %+v", st)
		}
		r := env.do("GET", "/metrics", "", nil)
		for _, want := range []string{
			"atigip_tiles_cache_hits_total " + strconv.FormatUint(st.Hits, 10),
			"atigip_tiles_cache_misses_total " + strconv.FormatUint(st.Misses, 10),
			"atigip_tiles_cache_entries " + strconv.Itoa(st.Entries),
		} {
			if !strings.Contains(string(r.body), want+"\n") {
				t.Fatalf("/metrics lacks %q", want)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
