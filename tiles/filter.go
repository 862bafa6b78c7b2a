package tiles

import (
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Filter narrows the posts layer of a tileset to the posts meeting every
// criterion. The clusters are then built from those posts only, so their
// point_count is exact for the combination. The zero Filter keeps every
// post (the plain tiles).
type Filter struct {
	Domain      byte   // ROME domain letter 'A'..'N'; 0: any
	Departement string // département code; "": any
	Minors      bool   // accepts minors
	Weekends    bool   // open at weekends
	Wheelchair  bool   // wheelchair access
	Transport   bool   // served by public transport
	// WithPlaces keeps the posts with places left: justice tileset only,
	// places are not public.
	WithPlaces bool
}

// FilterParams are the names ParseFilter reads, as in the tile URLs.
var FilterParams = []string{"domain", "departement", "minors", "weekends", "wheelchair", "transport", "places"}

// IsZero reports whether f keeps every post.
func (f Filter) IsZero() bool { return f == Filter{} }

func (f Filter) match(r *postRec) bool {
	switch {
	case f.Domain != 0 && r.domains&(1<<(f.Domain-'A')) == 0,
		f.Departement != "" && r.departement != f.Departement,
		f.Minors && !r.minors, f.Weekends && !r.weekends,
		f.Wheelchair && !r.wheelchair, f.Transport && !r.transport,
		f.WithPlaces && r.placesLeft <= 0:
		return false
	}
	return true
}

var depCodes = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, d := range refdata.Departements() {
		m[d.Code] = true
	}
	return m
})

// ParseFilter reads a filter from query parameters (name → value) for
// tileset. Unknown names, bad values and "places" on a tileset other than
// justice are EINVALID, with French messages naming each parameter.
func ParseFilter(tileset string, params map[string]string) (Filter, error) {
	var f Filter
	var pr atigip.Problems
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names) // problems in a stable order
	flag := func(k, v string) bool {
		switch v {
		case "true", "1":
			return true
		case "false", "0", "":
			return false
		}
		pr.Add(k, "%s vaut true ou false (reçu %q).", k, v)
		return false
	}
	for _, k := range names {
		v := params[k]
		switch k {
		case "domain":
			if len(v) == 1 && v[0] >= 'A' && v[0] <= 'N' {
				f.Domain = v[0]
			} else if v != "" {
				pr.Add(k, "Le domaine ROME est une lettre de A à N (reçu %q).", v)
			}
		case "departement":
			if v != "" && !depCodes()[v] {
				pr.Add(k, "Département inconnu : %q.", v)
			}
			f.Departement = v
		case "minors":
			f.Minors = flag(k, v)
		case "weekends":
			f.Weekends = flag(k, v)
		case "wheelchair":
			f.Wheelchair = flag(k, v)
		case "transport":
			f.Transport = flag(k, v)
		case "places":
			f.WithPlaces = flag(k, v)
			pr.Check(f.WithPlaces && Tilesets[tileset] != atigip.AudienceJustice, k,
				"Le filtre des places restantes est réservé au jeu de tuiles justice.")
		default:
			pr.Add(k, "Paramètre inconnu %q (admis : %s).", k, strings.Join(FilterParams, ", "))
		}
	}
	if err := pr.Err("Filtre des tuiles"); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// filterIDs numbers the filter combinations seen, for the tile cache keys
// (0 is no filter). Combinations are finite (15 × 102 × 2⁵), so the table
// stays small.
type filterIDs struct {
	mu sync.Mutex
	m  map[Filter]uint32
}

func (t *filterIDs) id(f Filter) uint32 {
	if f.IsZero() {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[Filter]uint32{}
	}
	id, ok := t.m[f]
	if !ok {
		id = uint32(len(t.m) + 1)
		t.m[f] = id
	}
	return id
}

// filteredSet holds the pyramids of the filter combinations asked for,
// drawn from one set of posts: a snapshot whose posts change gets a new,
// empty set. It is bounded in bytes (its share of Options.CacheBytes) and
// drops arbitrary pyramids when over, keeping the newest.
type filteredSet struct {
	recs   []*postRec // the drawable posts of the snapshot
	limit  int64
	mu     sync.Mutex
	m      map[filteredKey]*filteredEntry
	bytes  int64
	builds int // pyramids built, for tests
}

type filteredKey struct {
	f   uint32
	aud int
}

type filteredEntry struct {
	once sync.Once
	p    *pyramid
	size int64
	done bool // under filteredSet.mu: built and counted
}

func newFilteredSet(recs []*postRec, limit int64) *filteredSet {
	return &filteredSet{recs: recs, limit: limit, m: map[filteredKey]*filteredEntry{}}
}

// pyramid returns the pyramid of the posts of audience aud meeting f,
// building it once however many requests ask at the same time.
func (fs *filteredSet) pyramid(id uint32, f Filter, aud int, clusterBelow int, radius float64) *pyramid {
	k := filteredKey{id, aud}
	fs.mu.Lock()
	en := fs.m[k]
	if en == nil {
		en = &filteredEntry{}
		fs.m[k] = en
	}
	fs.mu.Unlock()
	en.once.Do(func() {
		recs := make([]*postRec, 0, len(fs.recs)/4)
		for _, r := range fs.recs {
			if f.match(r) {
				recs = append(recs, r)
			}
		}
		en.p = buildPyramid(recs, aud, clusterBelow, radius)
		en.size = en.p.bytes()
		fs.mu.Lock()
		defer fs.mu.Unlock()
		fs.builds++
		en.done = true
		fs.bytes += en.size
		for kk, ee := range fs.m {
			if fs.bytes <= fs.limit {
				break
			}
			if kk != k && ee.done {
				fs.bytes -= ee.size
				delete(fs.m, kk)
			}
		}
	})
	return en.p
}

// bytes is the pyramid's weight in memory (its items and leaf pointers;
// the posts are shared with the snapshot).
func (p *pyramid) bytes() int64 {
	n := 0
	for _, l := range p.levels {
		n += len(l)
	}
	return int64(n)*int64(unsafe.Sizeof(item{})) + int64(len(p.leaves))*int64(unsafe.Sizeof(&postRec{}))
}
