package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/store/postgres"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
)

// truth is what a plain scan of the store says of one indexed entity,
// computed from the entities and the référentiel, not from the index's
// documents: the oracle of TestFilterProperty.
type truth struct {
	typ                                     Type
	public                                  bool // the public audience may see it
	dep, region, status                     string
	communes                                []string // INSEE code, and the city's of an arrondissement
	rome                                    []string
	minors, weekends, wheelchair, available bool
	loc                                     atigip.Point // zero when the entity has no place
	updated                                 time.Time
}

// scanTruth reads every indexed entity of store.
func scanTruth(tb testing.TB, store atigip.Store) map[string]*truth {
	tb.Helper()
	ctx := context.Background()
	out := map[string]*truth{}
	place := func(t *truth, a atigip.Address, loc atigip.Point, m atigip.Meta) *truth {
		t.dep, t.loc = a.Departement, loc
		if d, ok := refdata.DepartementByCode(a.Departement); ok {
			t.region = d.Region
		}
		if a.Commune != "" {
			t.communes = []string{a.Commune}
			if c, ok := refdata.CommuneByINSEE(a.Commune); ok && c.Parent != "" {
				t.communes = append(t.communes, c.Parent)
			}
		}
		t.updated = m.UpdatedAt
		if t.updated.IsZero() {
			t.updated = m.CreatedAt
		}
		return t
	}
	orgs, err := atigip.Of[*atigip.Organisation](store).All(ctx, atigip.ListFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	orgByID := map[int64]*atigip.Organisation{}
	for _, o := range orgs {
		orgByID[o.ID] = o
		out[docID(atigip.KindOrganisation, o.ID)] = place(&truth{typ: TypeOrganisation,
			public: o.Active && o.Habilitation.Status == atigip.HabHabilitated,
			status: string(o.Habilitation.Status)}, o.Address, o.Location, o.Meta)
	}
	prisons := map[int64]*atigip.Prison{}
	ps, err := atigip.Of[*atigip.Prison](store).All(ctx, atigip.ListFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range ps {
		prisons[p.ID] = p
	}
	posts, err := atigip.Of[*atigip.Post](store).All(ctx, atigip.ListFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range posts {
		out[docID(atigip.KindPost, p.ID)] = place(&truth{typ: TypePost,
			public: p.Listed(orgByID[p.OrganisationID], atigip.AudiencePublic),
			status: string(p.Status), rome: p.ROMECodes, minors: p.MinorsAccepted,
			weekends: p.Schedule.Weekends(), wheelchair: p.WheelchairAccess,
			available: p.Status == atigip.PostOpen && p.PlacesLeft() > 0}, p.Address, p.Location, p.Meta)
	}
	offers, err := atigip.Of[*atigip.Offer](store).All(ctx, atigip.ListFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range offers {
		a := o.Address
		if pr := prisons[o.PrisonID]; a.Commune == "" && pr != nil {
			a = pr.Address
		}
		out[docID(atigip.KindOffer, o.ID)] = place(&truth{typ: TypeOffer, public: o.Listed(atigip.AudiencePublic),
			status: string(o.Status), rome: o.ROMECodes, weekends: o.Schedule.Weekends(),
			available: o.Status == atigip.OfferOpen && o.PlacesLeft() > 0}, a, o.Location, o.Meta)
	}
	floors, err := atigip.Of[*atigip.FloorSpace](store).All(ctx, atigip.ListFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range floors {
		a := atigip.Address{Departement: f.Departement, Commune: f.Commune}
		if pr := prisons[f.PrisonID]; pr != nil && (a.Commune == "" || a.Commune == pr.Address.Commune) {
			a = pr.Address
		}
		out[docID(atigip.KindFloorSpace, f.ID)] = place(&truth{typ: TypeFloorSpace, public: true,
			status: string(f.Status), available: f.Status == atigip.FloorAvailable}, a, centroid(f.Geometry), f.Meta)
	}
	return out
}

// keeps reports whether t passes every filter of r, with the radius
// scaled by slack (bleve draws the circle on geohash cells: a document
// right on it may fall either side).
func (t *truth) keeps(r *Request, slack float64) bool {
	if !t.public && r.Role.Audience() != atigip.AudienceJustice {
		return false
	}
	has := func(vs []string, v string) bool { return len(vs) == 0 || slices.Contains(vs, v) }
	flag := func(want *bool, v bool) bool { return want == nil || *want == v }
	rt := r.Types
	if len(rt) == 0 {
		rt = DefaultTypes(r.Role)
	}
	types := make([]string, len(rt))
	for i, x := range rt {
		types[i] = string(x)
	}
	switch {
	case !has(types, string(t.typ)), !has(r.Status, t.status),
		r.Departement != "" && t.dep != r.Departement,
		r.Region != "" && t.region != r.Region,
		r.Commune != "" && !slices.Contains(t.communes, r.Commune),
		!flag(r.Minors, t.minors), !flag(r.Weekends, t.weekends),
		!flag(r.Wheelchair, t.wheelchair), !flag(r.Available, t.available):
		return false
	}
	if len(r.ROME) > 0 && !slices.ContainsFunc(t.rome, func(c string) bool {
		return slices.ContainsFunc(r.ROME, func(f string) bool { return c == f || len(f) == 1 && c[:1] == f })
	}) {
		return false
	}
	if r.Near != nil && r.RadiusKm > 0 {
		return !t.loc.IsZero() && atigip.DistanceKm(*r.Near, t.loc) <= r.RadiusKm*slack
	}
	return true
}

// allHits pages through every hit of r, checking that the pages agree on
// the total and that each hit encodes as JSON (a NaN score did not).
func allHits(tb testing.TB, ix *Index, r Request) []Hit {
	tb.Helper()
	var out []Hit
	r.PerPage = MaxPerPage
	for r.Page = 1; ; r.Page++ {
		res, err := ix.Search(context.Background(), r)
		if err != nil {
			tb.Fatalf("%+v: %v", r, err)
		}
		if _, err := json.Marshal(res); err != nil {
			tb.Fatalf("%+v: encode the result: %v", r, err)
		}
		out = append(out, res.Hits...)
		if len(res.Hits) < r.PerPage || len(out) >= int(res.Total) || r.Page >= MaxWindow/r.PerPage {
			if len(out) != int(res.Total) && len(out) < MaxWindow {
				tb.Fatalf("%+v: %d hits over the pages, total %d", r, len(out), res.Total)
			}
			return out
		}
	}
}

// propertyTexts are the query texts drawn: jobs, typos, phrases, places,
// organisation words, stop words alone, and none.
var propertyTexts = []string{"", "", "", "jardinier", "agent", "mairie", "entretien", "cuisine",
	"peintre", "espaces verts", "plombier", "formation", "atelier", "nettoyage", "jardinnier",
	`"taille des haies"`, "espaces verts bretagne", "agent d'entretien des espaces verts",
	"association", "lyon", "animatuer", "animateur", "bibliothèque", "maçon", "électricien"}

// drawRequest adds to r (text and role) a combination of filters, geo and
// sort. Most filter values come from one of anchors (the documents the
// text finds) that the role may see, so that most combinations match
// something; the others from any document.
func drawRequest(rng *rand.Rand, r Request, anchors, docs []*truth) Request {
	maybe := func(p float64) bool { return rng.Float64() < p }
	justice := r.Role.Audience() == atigip.AudienceJustice
	if len(anchors) == 0 {
		anchors = docs
	}
	var anchor *truth
	for anchor == nil || !anchor.public && !justice {
		anchor = anchors[rng.IntN(len(anchors))]
	}
	pick := func() *truth {
		if maybe(0.8) {
			return anchor
		}
		return docs[rng.IntN(len(docs))]
	}
	if maybe(0.4) {
		all := []Type{TypePost, TypeOffer, TypeOrganisation, TypeFloorSpace}
		r.Types = append(r.Types, pick().typ)
		if maybe(0.3) {
			r.Types = append(r.Types, all[rng.IntN(len(all))])
		}
	}
	switch n := rng.IntN(6); n {
	case 0:
		r.Departement = pick().dep
	case 1:
		r.Region = pick().region
	case 2:
		if c := pick().communes; len(c) > 0 {
			r.Commune = c[rng.IntN(len(c))]
		}
	case 3:
		r.Commune = []string{"75056", "69123", "13055"}[rng.IntN(3)] // Paris, Lyon, Marseille
	}
	if maybe(0.3) {
		if codes := pick().rome; len(codes) > 0 {
			c := codes[rng.IntN(len(codes))]
			if maybe(0.5) {
				c = c[:1] // the domain
			}
			r.ROME = append(r.ROME, c)
		}
	}
	if maybe(0.25) {
		r.Status = append(r.Status, pick().status)
	}
	flag := func(p float64, v func(*truth) bool) *bool {
		if !maybe(p) {
			return nil
		}
		return ptr(v(pick()))
	}
	r.Minors = flag(0.15, func(t *truth) bool { return t.minors })
	r.Weekends = flag(0.15, func(t *truth) bool { return t.weekends })
	r.Wheelchair = flag(0.15, func(t *truth) bool { return t.wheelchair })
	if justice {
		r.Available = flag(0.3, func(t *truth) bool { return t.available })
	}
	if maybe(0.3) {
		if d := pick(); !d.loc.IsZero() {
			r.Near = &d.loc
			if maybe(0.7) {
				r.RadiusKm = []float64{5, 20, 50, 150}[rng.IntN(4)]
			}
		}
	}
	switch rng.IntN(3) {
	case 1:
		r.Sort = SortDate
	case 2:
		if r.Near != nil {
			r.Sort = SortDistance
		}
	}
	return r
}

// checkProperty runs n random requests on ix against the truth of store:
// every hit passes every filter; the hits are exactly the documents the
// text alone finds (or all, without text) that pass the filters, up to
// the geohash edge of a radius; and they come in the order asked. The
// texts are drawn from texts, the rest from a generator seeded by seed.
func checkProperty(t *testing.T, ix *Index, store atigip.Store, n int, texts []string, seed uint64) {
	truths := scanTruth(t, store)
	docs := make([]*truth, 0, len(truths))
	for _, id := range slicesSorted(truths) {
		docs = append(docs, truths[id])
	}
	rng := rand.New(rand.NewPCG(20261205, seed))
	matched := 0
	for i := range n {
		roles := []atigip.Role{atigip.RolePublic, atigip.RoleBusiness, atigip.RoleCPIP, atigip.RoleMagistrate, atigip.RoleReferent}
		r := Request{Query: texts[rng.IntN(len(texts))], Role: roles[rng.IntN(len(roles))]}
		// The candidates: what the text finds alone, or every document.
		var cands []string
		var anchors []*truth
		if strings.TrimSpace(r.Query) == "" {
			cands = slicesSorted(truths)
		} else {
			for _, h := range allHits(t, ix, r) {
				id := string(h.Type) + ":" + itoa(h.ID)
				cands = append(cands, id)
				anchors = append(anchors, truths[id])
			}
		}
		r = drawRequest(rng, r, anchors, docs)
		name := fmt.Sprintf("%03d q=%q role=%s types=%v dep=%s reg=%s com=%s rome=%v status=%v minors=%v weekends=%v wheelchair=%v available=%v near=%v r=%g sort=%s",
			i, r.Query, r.Role, r.Types, r.Departement, r.Region, r.Commune, r.ROME, r.Status,
			str(r.Minors), str(r.Weekends), str(r.Wheelchair), str(r.Available), r.Near, r.RadiusKm, r.Sort)
		hits := allHits(t, ix, r)
		if strings.TrimSpace(r.Query) == "" {
			sameAsBleve(t, name, ix, r, len(hits))
		}
		got := map[string]bool{}
		for _, h := range hits {
			id := string(h.Type) + ":" + itoa(h.ID)
			got[id] = true
			tr := truths[id]
			if tr == nil {
				t.Fatalf("%s: hit %s is not in the store", name, id)
			}
			if !tr.keeps(&r, 1.01) {
				t.Errorf("%s: hit %s fails a filter: %+v", name, id, *tr)
			}
		}
		for _, id := range cands {
			if truths[id].keeps(&r, 0.99) && !got[id] {
				t.Errorf("%s: %s passes every filter and the text but is missing", name, id)
			}
		}
		if len(hits) > 0 {
			matched++
		}
		checkOrder(t, name, &r, hits, truths)
	}
	// Most draws must match something, or the property proves little. Not
	// two thirds: on PostgreSQL the seed's concurrent inserts number the
	// records differently from run to run, so the draws differ too, and
	// they matched 199 to 204 of 300 there.
	if matched < n*3/5 {
		t.Errorf("only %d of %d requests matched a document", matched, n)
	}
	t.Logf("%d requests, %d with hits", n, matched)
}

// sameAsBleve checks that the filter table answers a request without text
// exactly as bleve does: total, hits in order, facets, on the first page
// and on a page further on.
func sameAsBleve(t *testing.T, name string, ix *Index, r Request, total int) {
	t.Helper()
	if !ix.table.isReady() {
		t.Fatal("the filter table is not loaded after a build")
	}
	ctx := context.Background()
	pages := []int{1}
	if r.PerPage = 7; total > r.PerPage {
		pages = append(pages, 1+total/r.PerPage/2)
	}
	for _, p := range pages {
		r.Page = p
		table, err := ix.Search(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ix.mu.Lock()
		kept := ix.table
		ix.table, ix.browse = newFilterTable(), browseCache{} // not ready: bleve answers
		ix.mu.Unlock()
		bl, err := ix.Search(ctx, r)
		ix.mu.Lock()
		ix.table, ix.browse = kept, browseCache{}
		ix.mu.Unlock()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		table.Took, bl.Took = 0, 0
		if !reflect.DeepEqual(table, bl) {
			a, _ := json.Marshal(table)
			b, _ := json.Marshal(bl)
			t.Errorf("%s page %d: the filter table answers\n%s\nwhere bleve answers\n%s", name, p, a, b)
		}
	}
}

func checkOrder(t *testing.T, name string, r *Request, hits []Hit, truths map[string]*truth) {
	for i := 1; i < len(hits); i++ {
		a, b := hits[i-1], hits[i]
		ta, tb := truths[string(a.Type)+":"+itoa(a.ID)], truths[string(b.Type)+":"+itoa(b.ID)]
		var bad bool
		switch {
		case r.Sort == SortDistance:
			// Bleve's distance formula differs from ours by a few metres
			// per hundred kilometres.
			da, db := atigip.DistanceKm(*r.Near, ta.loc), atigip.DistanceKm(*r.Near, tb.loc)
			bad = da > db*1.001+0.05
		case r.Sort == SortDate || strings.TrimSpace(r.Query) == "":
			// The index orders dates to the second.
			bad = ta.updated.Truncate(time.Second).Before(tb.updated.Truncate(time.Second))
		}
		if bad {
			t.Errorf("%s: hits %d and %d out of %s order", name, i-1, i, r.Sort)
			return
		}
	}
	for _, h := range hits {
		if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
			t.Errorf("%s: score %v", name, h.Score)
			return
		}
	}
}

func str(b *bool) string {
	if b == nil {
		return "-"
	}
	return fmt.Sprint(*b)
}

func slicesSorted(m map[string]*truth) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestFilterProperty draws random combinations of text, filters, geo and
// sort over the demo set in SQLite, on an index on disk (an index in
// memory keeps norms differently and hid the NaN scores of issue 12).
func TestFilterProperty(t *testing.T) {
	db, ix := diskIndex(t)
	checkProperty(t, ix, db, 300, propertyTexts, 12)
}

// TestFilterPropertyPostgres runs the same property with the index fed from
// PostgreSQL.
func TestFilterPropertyPostgres(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, db, seed.Options{Scale: testScale, Seed: testSeed}); err != nil {
		t.Fatal(err)
	}
	ix := builtIndex(t, db, t.TempDir()+"/index")
	checkProperty(t, ix, db, 300, propertyTexts, 12)
}

// TestFilterTableFollowsWrites moves, recodes, reschedules, hides, closes,
// deletes and creates posts in rounds, the index following each round
// (Apply, through CatchUp), and runs random requests without text after
// each: the filter table reuses the slots of deleted rows and moves each
// changed row to the head of its order, yet it must answer as bleve does
// and as a scan of the store says (see checkProperty).
func TestFilterTableFollowsWrites(t *testing.T) {
	db, ix := diskIndex(t)
	ctx := context.Background()
	posts := atigip.Of[*atigip.Post](db)
	all, err := posts.All(ctx, atigip.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(20261205, 7))
	statuses := []atigip.PostStatus{atigip.PostOpen, atigip.PostFull, atigip.PostClosed, atigip.PostRegistered, atigip.PostDraft}
	deleted := map[int64]bool{}
	live := func() *atigip.Post {
		for {
			p := all[rng.IntN(len(all))]
			if deleted[p.ID] {
				continue
			}
			got, err := posts.Get(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
	}
	for round := range 4 {
		for range 40 {
			p, other := live(), all[rng.IntN(len(all))]
			switch rng.IntN(6) {
			case 0:
				p.Address, p.Location = other.Address, other.Location
			case 1:
				p.ROMECodes = slices.Clone(other.ROMECodes)
			case 2:
				p.Status = statuses[rng.IntN(len(statuses))]
			case 3:
				p.MinorsAccepted, p.WheelchairAccess = !p.MinorsAccepted, !p.WheelchairAccess
			case 4:
				p.Visibility = map[atigip.Visibility]atigip.Visibility{atigip.VisibilityPublic: atigip.VisibilityJustice,
					atigip.VisibilityJustice: atigip.VisibilityPublic}[p.Visibility]
			case 5:
				p.Schedule, p.PlacesTaken = other.Schedule, p.Places
			}
			if err := posts.Update(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for range 5 {
			p := live()
			if err := db.Entities(atigip.KindPost).Delete(ctx, p.ID, p.Version); err != nil {
				t.Fatal(err)
			}
			deleted[p.ID] = true
		}
		for range 5 {
			p := *live()
			p.Meta = atigip.Meta{}
			if err := posts.Create(ctx, &p); err != nil {
				t.Fatal(err)
			}
			all = append(all, &p)
		}
		if _, err := ix.CatchUp(ctx, db); err != nil {
			t.Fatal(err)
		}
		checkProperty(t, ix, db, 60, []string{""}, uint64(round))
	}
}
