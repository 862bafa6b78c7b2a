package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web/frfmt"
)

//go:embed static
var static embed.FS

//go:embed templates/*.html
var templateFS embed.FS

// Static returns the pages' assets: app.js, site.js, app.css, site.css and
// vendor/ (MapLibre and the DSFR, present once `make web` has run).
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded: cannot fail
	}
	return sub
}

// VendorReady reports whether MapLibre and the DSFR were built into
// static/vendor.
func VendorReady() bool {
	for _, f := range []string{"vendor/maplibre-gl.js", "vendor/dsfr/dsfr.min.css"} {
		if _, err := fs.Stat(Static(), f); err != nil {
			return false
		}
	}
	return true
}

// Layout is what every page shows around its content: the header with
// the session, the menu, the demonstration banner and the footer.
type Layout struct {
	Title string // the page's title (h1 and <title>)
	// Path is the page's own path and query, where sign-in and sign-out
	// lead back to.
	Path       string
	Nav        string // active menu entry: carte, autour, surfaces, espace
	Crumbs     []Crumb
	Signed     bool   // a principal is signed in
	RoleLabel  string // French label of the role
	SignInURL  string // sign-in page, empty when none
	SignOutURL string
	// Demo shows the « Environnement de démonstration » banner.
	Demo bool
	// Hearing shows the « Postes autour de… » entry (justice roles).
	Hearing bool
	// Map loads MapLibre's style sheet.
	Map bool
	// CSRF is the token the page's forms carry.
	CSRF string
}

// SignIn is the content of the sign-in page (/connexion).
type SignIn struct {
	Providers []SignInProvider
	// Demo is the development sign-in, with the way back; empty when none.
	Demo string
}

// SignInProvider is one identity provider's button.
type SignInProvider struct{ Label, Who, URL string }

// Crumb is a breadcrumb link above the current page.
type Crumb struct{ Label, URL string }

// Domain is a ROME grand domaine (letter A..N), or any coded choice of a
// select (région, département, usage).
type Domain struct {
	Code, Label string
	Lon, Lat    float64 // centre, for départements
}

// MapPage is the content of the map page.
type MapPage struct {
	Tileset      string // public or justice
	Justice      bool
	Domains      []Domain
	Departements []Domain
	// Config is the JSON the script reads.
	Config template.JS
}

// NewMapPage fills Config from the tileset.
func NewMapPage(tileset string, domains, deps []Domain) (MapPage, error) {
	cfg, err := json.Marshal(map[string]any{"tileset": tileset})
	if err != nil {
		return MapPage{}, fmt.Errorf("web: map config: %w", err)
	}
	return MapPage{Tileset: tileset, Justice: tileset == "justice", Domains: domains, Departements: deps,
		Config: template.JS(cfg)}, nil
}

// Home is the content of « Mon espace ».
type Home struct {
	Role  string // the principal's role, in French
	Cards []HomeCard
}

// HomeCard is one workspace entry of « Mon espace »: where to go and what
// waits there.
type HomeCard struct {
	Title, URL, Desc string
	// Waiting are the counts of what needs the principal's attention
	// (« 3 mesures sans proposition »), already phrased in French.
	Waiting []string
}

// ErrorPage is the content of an error page.
type ErrorPage struct {
	Status      int
	Title, Lead string
	Detail      string
	SignIn      string // sign-in link with the way back, on 401
}

var funcs = template.FuncMap{
	"num":      func(v float64) string { return frfmt.Number(v, 1) },
	"int":      frfmt.Int,
	"surface":  frfmt.Surface,
	"distance": frfmt.Distance,
	"metres":   frfmt.Metres,
	"power":    frfmt.Power,
	"hours":    frfmt.Hours,
	"clock":    frfmt.Clock,
	"plural":   frfmt.Plural,
	"date": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return frfmt.Date(v)
		case *time.Time:
			if v != nil {
				return frfmt.Date(*v)
			}
		case atigip.Date:
			return frfmt.Date(v.Time)
		}
		return ""
	},
	"datetime":  frfmt.DateTime,
	"useLabel":  func(u atigip.FloorUse) string { return atigip.FloorUses[u] },
	"offerKind": func(k atigip.OfferKind) string { return atigip.OfferKinds[k] },
	"availability": func(f *atigip.FloorSpace) string {
		switch {
		case f.Status != atigip.FloorAvailable:
			return atigip.FloorStatuses[f.Status]
		case f.AvailableFrom != nil && f.AvailableFrom.After(time.Now()):
			return "Disponible à partir du " + frfmt.Date(*f.AvailableFrom)
		}
		return "Disponible immédiatement"
	},
}

// pages are the templates, each parsed with the layout.
var pages = func() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := n[len("templates/") : len(n)-len(".html")]
		if name == "layout" || name == iproParts {
			continue
		}
		files := []string{n}
		if strings.HasPrefix(name, "ipro-") {
			files = append(files, "templates/"+iproParts+".html") // the IPRO pages' shared parts
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, files...))
	}
	return out
}()

// Render writes page name ("carte", "poste", "etablissement", "surfaces",
// "autour", "erreur", "mentions-legales", "donnees-personnelles",
// "accessibilite") with its layout and content d.
func Render(name string, l Layout, d any) ([]byte, error) {
	t, ok := pages[name]
	if !ok {
		return nil, fmt.Errorf("web: render: no page %q", name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", struct {
		L Layout
		D any
	}{l, d}); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return b.Bytes(), nil
}
