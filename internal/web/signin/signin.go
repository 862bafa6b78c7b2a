package signin

import (
	"embed"
	"fmt"
	"html/template"
	"io"

	"github.com/atigip/atigip360/internal/atigip"
)

//go:embed signin.html
var files embed.FS

var page = template.Must(template.ParseFS(files, "signin.html"))

// Role is one choice of the page.
type Role struct {
	Value string
	Label string
}

// Page is what the page shows.
type Page struct {
	Roles []Role
	// Current is the signed-in principal, nil when anonymous.
	Current *atigip.Principal
	// CurrentLabel is the French label of Current's role.
	CurrentLabel string
	// Token is the token just issued, shown once for use with curl.
	Token string
	// Origin is the server's base URL for the curl example.
	Origin string
	// Error is a French message to show, if any.
	Error string
	// TTL describes the token lifetime in French ("12 heures").
	TTL string
	// Return is the page to go back to after signing in ("" when none).
	Return string
	// CSRF is the token of the page's forms: a signed-in browser's
	// writes need it, signing in again or out included.
	CSRF string
	// Examples suggest perimeters that hold data in the demonstration
	// set (« Structure d'accueil n° 12 : 3 tigistes »), from the modules.
	Examples []string
}

// Roles returns every role of atigip.Roles with its French label.
func Roles() []Role {
	out := make([]Role, 0, len(atigip.Roles))
	for _, r := range atigip.Roles {
		out = append(out, Role{Value: string(r.Role), Label: r.Label})
	}
	return out
}

// Render writes the page.
func Render(w io.Writer, p Page) error {
	if err := page.Execute(w, p); err != nil {
		return fmt.Errorf("signin: render: %w", err)
	}
	return nil
}
