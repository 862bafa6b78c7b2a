package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// ErrNotEmpty is wrapped in the ECONFLICT error Run returns when the store
// already holds data and Options.Force is not set.
var ErrNotEmpty = errors.New("seed: store is not empty")

// Report says what Run did.
type Report struct {
	Counts map[atigip.Kind]int `json:"counts"`
	Scale  float64             `json:"scale"`
	Seed   uint64              `json:"seed"`
	// Generate is the time spent building the data, Insert the time spent
	// in the store, Duration the whole run.
	Generate time.Duration `json:"generate_ns"`
	Insert   time.Duration `json:"insert_ns"`
	Duration time.Duration `json:"duration_ns"`
}

// Total is the number of entities created.
func (r Report) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// kindLabels are French plural labels for the report.
var kindLabels = map[atigip.Kind]string{
	atigip.KindOrganisation: "structures d'accueil",
	atigip.KindPost:         "postes de TIG",
	atigip.KindPrison:       "établissements pénitentiaires",
	atigip.KindFloorSpace:   "surfaces d'implantation",
	atigip.KindOffer:        "offres de travail et de formation",
	atigip.KindPerson:       "profils de personnes suivies",
	atigip.KindMeasure:      "mesures de TIG",
	atigip.KindApplication:  "candidatures",
}

// String is a one-paragraph French summary for the command line.
func (r Report) String() string {
	var parts []string
	for _, k := range atigip.Kinds {
		parts = append(parts, fmt.Sprintf("%d %s", r.Counts[k], kindLabels[k]))
	}
	// French decimal commas: "12,3 s", "échelle 0,05".
	fr := func(s string) string { return strings.ReplaceAll(s, ".", ",") }
	return fmt.Sprintf("Jeu de démonstration créé en %s s (échelle %s, graine %d) : %s.",
		fr(fmt.Sprintf("%.1f", r.Duration.Seconds())), fr(fmt.Sprintf("%g", r.Scale)), r.Seed, strings.Join(parts, ", "))
}

// IsSeeded reports whether the store already holds data of any kind: a
// store someone has started to fill is never seeded on top.
func IsSeeded(ctx context.Context, store atigip.Store) (bool, error) {
	for _, k := range atigip.Kinds {
		_, total, err := store.Entities(k).List(ctx, atigip.ListFilter{Limit: 1})
		if err != nil {
			return false, fmt.Errorf("seed: count %s: %w", k, err)
		}
		if total > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Run generates the data set of opts and inserts it into store in one
// transaction, parents first, in CreateMany batches. It refuses a store
// that already holds data unless opts.Force is set.
func Run(ctx context.Context, store atigip.Store, opts Options) (Report, error) {
	start := time.Now()
	o, err := opts.normalized()
	if err != nil {
		return Report{}, err
	}
	if !o.Force {
		seeded, err := IsSeeded(ctx, store)
		if err != nil {
			return Report{}, err
		}
		if seeded {
			return Report{}, &atigip.Error{Code: atigip.ECONFLICT,
				Message: "La base contient déjà des données : le jeu de démonstration n'est créé que dans une base vide.", Err: ErrNotEmpty}
		}
	}
	var onStep func(string, int, int)
	if o.Progress != nil {
		onStep = func(label string, done, total int) {
			o.Progress(Progress{Phase: "generate", Label: label, Done: done, Total: total})
		}
	}
	d := generate(o, onStep)
	rep := Report{Counts: d.Counts(), Scale: o.Scale, Seed: o.Seed, Generate: time.Since(start)}
	ins := time.Now()
	if err := insert(ctx, store, d, o); err != nil {
		return Report{}, err
	}
	rep.Insert = time.Since(ins)
	rep.Duration = time.Since(start)
	return rep, nil
}

// insert writes d parents first, resolving each child's references to its
// parents' new IDs. It is bound by the processor, not the disk: one
// commit, and at scale 10 a 1 GiB SQLite page cache, which kept the
// load's pages out of the WAL, saved nothing (98 s of processor time
// either way, 2026-12-06).
func insert(ctx context.Context, store atigip.Store, d *Dataset, o Options) error {
	total := 0
	for _, n := range d.Counts() {
		total += n
	}
	done := 0
	return store.InTx(ctx, func(tx atigip.Tx) error {
		for _, k := range atigip.Kinds {
			resolve(d, k)
			es := d.Entities(k)
			if o.Progress != nil {
				o.Progress(Progress{Phase: "insert", Label: kindLabels[k], Done: done, Total: total})
			}
			for lo := 0; lo < len(es); lo += o.BatchSize {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("seed: %w", err)
				}
				hi := min(lo+o.BatchSize, len(es))
				if err := tx.Entities(k).CreateMany(ctx, es[lo:hi]); err != nil {
					return fmt.Errorf("seed: insert %s: %w", k, err)
				}
				done += hi - lo
				if o.Progress != nil {
					o.Progress(Progress{Phase: "insert", Label: kindLabels[k], Done: done, Total: total})
				}
			}
		}
		return nil
	})
}

// resolve replaces the 1-based parent positions of kind k's entities with
// the IDs the store gave the parents. Kinds come parents first
// (atigip.Kinds), so the parents are inserted by then.
func resolve(d *Dataset, k atigip.Kind) {
	id := func(pos int64, parentID func(int) int64) int64 {
		if pos <= 0 {
			return 0
		}
		return parentID(int(pos - 1))
	}
	org := func(i int) int64 { return d.Organisations[i].ID }
	post := func(i int) int64 { return d.Posts[i].ID }
	prison := func(i int) int64 { return d.Prisons[i].ID }
	offer := func(i int) int64 { return d.Offers[i].ID }
	person := func(i int) int64 { return d.People[i].ID }
	switch k {
	case atigip.KindPost:
		for _, p := range d.Posts {
			p.OrganisationID = id(p.OrganisationID, org)
		}
	case atigip.KindFloorSpace:
		for _, f := range d.FloorSpaces {
			f.PrisonID = id(f.PrisonID, prison)
		}
	case atigip.KindOffer:
		for _, o := range d.Offers {
			o.PrisonID = id(o.PrisonID, prison)
		}
	case atigip.KindPerson:
		for _, p := range d.People {
			p.PrisonID = id(p.PrisonID, prison)
		}
	case atigip.KindMeasure:
		for _, m := range d.Measures {
			m.PersonID = id(m.PersonID, person)
			m.PostID = id(m.PostID, post)
			for i := range m.History {
				m.History[i].PostID = id(m.History[i].PostID, post)
			}
		}
	case atigip.KindApplication:
		for _, a := range d.Applications {
			a.PersonID = id(a.PersonID, person)
			a.OfferID = id(a.OfferID, offer)
		}
	}
}
