package httpapi

import (
	"context"
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// axelorPage stands for an Axelor form with an html view: a plain page
// of another origin whose iframe opens the partner page by its signed
// link (the src query parameter).
var axelorPage = template.Must(template.New("axelor").Parse(`<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Axelor — Partenaire</title>
<style>body{font-family:sans-serif;margin:0}header{background:#2e3a4b;color:#fff;padding:.5rem 1rem}iframe{width:100%;height:1400px;border:0}</style>
</head><body><header><h1>Axelor CRM — fiche partenaire</h1></header>
<main><iframe id="atigip" title="Fiche ATIGIP 360 du partenaire" src="{{.}}"></iframe></main></body></html>`))

var frameServeOnce sync.Once

// serveAxelorStandIn serves axelorPage on the reserved listener.
func serveAxelorStandIn(t *testing.T) string {
	t.Helper()
	ln, err := referentFrameListener()
	if err != nil {
		t.Fatal(err)
	}
	frameServeOnce.Do(func() {
		mux := http.NewServeMux()
		mux.HandleFunc("/axelor.html", func(w http.ResponseWriter, r *http.Request) {
			src := r.URL.Query().Get("src")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = axelorPage.Execute(w, template.URL(src))
		})
		go (&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
	})
	return referentFrameOrigin()
}

// TestTigrefInChromium walks the TIG referent's journeys in headless
// Chromium at desktop size, on a 768×1024 tablet and a 375×667 phone,
// and keyboard only:
// « Mon espace » → partners → a partner's page with its map; the same
// page inside a page of another origin standing for Axelor, by a signed
// link (and refused when expired, or framed by an origin not allowed);
// the prospection map, list, pages and CSV; the indicators with their
// charts, a région and a CSV. axe-core must report no violation on any
// page state; screenshots referent-*.png and indicateurs-*.png are left
// as artefacts.
func TestTigrefInChromium(t *testing.T) {
	t.Parallel()
	node, chromium := browserEnv(t)
	site := sharedBrowserSite(t)
	frame := serveAxelorStandIn(t)
	partner := findPartner(t, site.store)
	now := time.Now()
	cfg := map[string]any{
		"base":  site.url,
		"frame": frame,
		// The same server under another name: an origin Axelor is not.
		"otherFrame": strings.Replace(frame, "127.0.0.1", "localhost", 1),
		"tokens": map[string]string{
			"referent": site.token(t, atigip.Principal{Role: atigip.RoleReferent, Name: "Référente TIG (démonstration)"}),
			"dspip":    site.token(t, atigip.Principal{Role: atigip.RoleDSPIP, Name: "Direction (démonstration)"}),
		},
		"ids": map[string]any{
			"partner":     partner.ID,
			"partnerName": partner.Name,
			"signed":      site.url + signedLink(partner.ID, "referent.axelor", now.Add(10*time.Minute)),
			"expired":     site.url + signedLink(partner.ID, "referent.axelor", now.Add(-time.Minute)),
			"departement": partner.Address.Departement,
		},
	}
	for _, journey := range []string{"desktop", "tablet", "mobile", "keyboard"} {
		t.Run(journey, func(t *testing.T) {
			t.Parallel()
			own := maps.Clone(cfg) // journeys run side by side: each its own out
			own["out"] = artefacts(t)
			b, err := json.Marshal(own)
			if err != nil {
				t.Fatal(err)
			}
			rep := runJourney(t, node, chromium, "referent.mjs", string(b), journey)
			t.Logf("%d checks, axe on %d page states, screenshots: %v", len(rep.Checks), len(rep.Axe), rep.Shots)
		})
	}
}

// findPartner picks the organisation with the most located posts,
// preferring one with a habilitation procedure.
func findPartner(t *testing.T, s atigip.Store) *atigip.Organisation {
	t.Helper()
	ctx := context.Background()
	posts := map[int64]int{}
	err := atigip.Of[*atigip.Post](s).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Post) error {
		if p.Location.Lon != 0 && p.Status != atigip.PostDraft {
			posts[p.OrganisationID]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	procs := map[int64]bool{}
	err = atigip.Of[*atigip.Procedure](s).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Procedure) error {
		procs[p.OrganisationID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var best int64
	score := func(id int64) int {
		n := posts[id]
		if procs[id] {
			n += 1000
		}
		return n
	}
	for id := range posts {
		if best == 0 || score(id) > score(best) || (score(id) == score(best) && id < best) {
			best = id
		}
	}
	if best == 0 {
		t.Fatal("no organisation with a located post in the seed")
	}
	o, err := atigip.Of[*atigip.Organisation](s).Get(ctx, best)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
