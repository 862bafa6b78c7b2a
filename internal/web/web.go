package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
)

//go:embed static
var static embed.FS

//go:embed index.html
var indexHTML string

var indexTmpl = template.Must(template.New("index").Parse(indexHTML))

// Static returns the page's assets: app.js, app.css and vendor/ (MapLibre,
// present once `make web` has run).
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded: cannot fail
	}
	return sub
}

// VendorReady reports whether MapLibre was built into static/vendor.
func VendorReady() bool {
	_, err := fs.Stat(Static(), "vendor/maplibre-gl.js")
	return err == nil
}

// Page is what the map page shows of the session.
type Page struct {
	Tileset    string // public or justice
	Signed     bool   // a principal is signed in
	RoleLabel  string // French label of the role
	Name       string // display name of the principal
	SignInURL  string // development sign-in page, empty in production
	SignOutURL string
	Domains    []Domain // ROME grands domaines, for the filter
}

// Domain is a ROME grand domaine (letter A..N).
type Domain struct {
	Code, Label string
}

type pageData struct {
	Page
	Config template.JS
}

// Render writes the map page.
func Render(p Page) ([]byte, error) {
	cfg, err := json.Marshal(map[string]any{"tileset": p.Tileset, "signed": p.Signed})
	if err != nil {
		return nil, fmt.Errorf("web: config: %w", err)
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, pageData{Page: p, Config: template.JS(cfg)}); err != nil {
		return nil, fmt.Errorf("web: render: %w", err)
	}
	return b.Bytes(), nil
}
