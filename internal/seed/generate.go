package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Options configure a seeding.
type Options struct {
	// Scale multiplies every count; 1 is the national set (about 15,000
	// organisations, 31,000 posts, 20,000 people). The 176 prisons stay
	// whole at any scale from 0.01. 0 means 1.
	Scale float64
	// Seed selects the data set: same Seed, Scale and Now, same data.
	Seed uint64
	// Progress, when not nil, is told the advancement of each phase (the
	// caller draws it: a progress bar for the command line).
	Progress func(Progress)
	// Now is the date the data is built around (sentences over the three
	// years before it, habilitations valid at it…). Zero means today, UTC
	// midnight, so that one day's runs agree.
	Now time.Time
	// Force seeds even a store that already holds data. Case references
	// derive from Seed: forcing the same Seed twice fails on the store's
	// uniqueness of references (another Seed almost never collides).
	Force bool
	// BatchSize is the number of entities per CreateMany call; 0 means 2,000.
	BatchSize int
}

// Progress is a seeding's advancement: Done of Total steps (generation,
// one per kind) or entities (insertion), Label naming the current kind.
type Progress struct {
	Phase       string // "generate" or "insert"
	Label       string // French, for display
	Done, Total int
}

// National counts at scale 1.
const (
	nOrganisations = 15000
	nPosts         = 31000
	nFloorSpaces   = 600
	nWorkOffers    = 2000
	nTrainings     = 800
	nReleaseJobs   = 1000
	nCommunity     = 16000
	nDetainees     = 4000
	maxScale       = 20
)

func (o Options) normalized() (Options, error) {
	if o.Scale == 0 {
		o.Scale = 1
	}
	if math.IsNaN(o.Scale) || o.Scale < 0 || o.Scale > maxScale {
		return o, atigip.Errorf(atigip.EINVALID, "Échelle invalide : %v (attendu : un nombre strictement positif, au plus %d).", o.Scale, maxScale)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = atigip.DateOf(o.Now).Time
	if o.BatchSize <= 0 {
		o.BatchSize = 2000
	}
	return o, nil
}

// scaled is n × scale, at least 1.
func (o Options) scaled(n int) int { return max(1, int(math.Round(float64(n)*o.Scale))) }

// Dataset is a generated data set, before insertion. Reference fields
// (OrganisationID, PrisonID, PersonID, PostID, OfferID, and the PostID of
// measure events) hold 1-based positions in the parent slice; Run replaces
// them with store IDs as parents are inserted.
type Dataset struct {
	Organisations []*atigip.Organisation
	Posts         []*atigip.Post
	Prisons       []*atigip.Prison
	FloorSpaces   []*atigip.FloorSpace
	Offers        []*atigip.Offer
	People        []*atigip.Person
	Measures      []*atigip.Measure
	Applications  []*atigip.Application
}

// Counts returns the number of entities of each kind.
func (d *Dataset) Counts() map[atigip.Kind]int {
	return map[atigip.Kind]int{
		atigip.KindOrganisation: len(d.Organisations),
		atigip.KindPost:         len(d.Posts),
		atigip.KindPrison:       len(d.Prisons),
		atigip.KindFloorSpace:   len(d.FloorSpaces),
		atigip.KindOffer:        len(d.Offers),
		atigip.KindPerson:       len(d.People),
		atigip.KindMeasure:      len(d.Measures),
		atigip.KindApplication:  len(d.Applications),
	}
}

// Entities lists every entity of kind k, in insertion order.
func (d *Dataset) Entities(k atigip.Kind) []atigip.Entity {
	switch k {
	case atigip.KindOrganisation:
		return entities(d.Organisations)
	case atigip.KindPost:
		return entities(d.Posts)
	case atigip.KindPrison:
		return entities(d.Prisons)
	case atigip.KindFloorSpace:
		return entities(d.FloorSpaces)
	case atigip.KindOffer:
		return entities(d.Offers)
	case atigip.KindPerson:
		return entities(d.People)
	case atigip.KindMeasure:
		return entities(d.Measures)
	case atigip.KindApplication:
		return entities(d.Applications)
	}
	return nil
}

func entities[T atigip.Entity](ts []T) []atigip.Entity {
	out := make([]atigip.Entity, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// Hash is a SHA-256 of every entity's JSON, kind by kind, store
// NumberByPosition gives every entity its 1-based position as ID, the
// number its children's references already use, so the data set is
// consistent in memory without a store (matching benchmarks, evaluation).
func (d *Dataset) NumberByPosition() {
	for _, k := range atigip.Kinds {
		for i, e := range d.Entities(k) {
			e.GetMeta().ID = int64(i + 1)
		}
	}
}

// bookkeeping (ids, versions, timestamps) left out: equal hashes, equal data.
func (d *Dataset) Hash() string {
	h := sha256.New()
	for _, k := range atigip.Kinds {
		fmt.Fprintf(h, "%s\n", k)
		for _, e := range d.Entities(k) {
			writeEntity(h, e)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeEntity writes e's JSON without its Meta.
func writeEntity(w io.Writer, e atigip.Entity) {
	m := e.GetMeta()
	saved := *m
	*m = atigip.Meta{}
	b, err := json.Marshal(e)
	*m = saved
	if err != nil {
		// Domain types always marshal; a failure is a programming error.
		panic(fmt.Sprintf("seed: hash %s: %v", e.Kind(), err))
	}
	w.Write(b)
	w.Write([]byte{'\n'})
}

// gen carries the shared state of one generation.
type gen struct {
	opts   Options
	now    time.Time
	places *places
	titles titlePool
	d      *Dataset
	// spip names the probation service of each département, from the
	// prisons' data.
	spip map[string]string
}

// rng returns the random stream of one step: steps draw from separate
// streams so that changing one leaves the others as they were.
func (g *gen) rng(step uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.opts.Seed, 0x9e3779b97f4a7c15*step+1))
}

// Generate builds the data set of opts without touching any store.
func Generate(opts Options) (*Dataset, error) {
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	return generate(o, nil), nil
}

// generate runs the steps in dependency order, telling onStep (when not
// nil) before each its French label and how many steps are done.
func generate(o Options, onStep func(label string, done, total int)) *Dataset {
	g := &gen{opts: o, now: o.Now, places: newPlaces(), titles: titlePool{}, d: &Dataset{}, spip: map[string]string{}}
	steps := []struct {
		kind atigip.Kind
		run  func()
	}{
		{atigip.KindPrison, g.prisons},
		{atigip.KindOrganisation, g.organisations},
		{atigip.KindPost, g.posts},
		{atigip.KindFloorSpace, g.floorSpaces},
		{atigip.KindOffer, g.offers},
		{atigip.KindPerson, g.people},
		{atigip.KindMeasure, g.measures},
		{atigip.KindApplication, g.applications},
	}
	for i, s := range steps {
		if onStep != nil {
			onStep(kindLabels[s.kind], i, len(steps))
		}
		s.run()
	}
	if onStep != nil {
		onStep("", len(steps), len(steps))
	}
	return g.d
}

// daysAgo is the time n days (at least one) before now, at a working hour.
func (g *gen) daysAgo(r *rand.Rand, n int) time.Time {
	n = max(1, n)
	return g.now.AddDate(0, 0, -n).Add(time.Duration(8*60+r.IntN(9*60)) * time.Minute)
}

func ptr[T any](v T) *T { return &v }
