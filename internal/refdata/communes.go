package refdata

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Commune kinds.
const (
	KindCommune        = "COM" // commune
	KindArrondissement = "ARM" // arrondissement municipal of Paris, Lyon or Marseille
)

// Commune is a French commune (or a municipal arrondissement) with its
// centroid. Source: INSEE / La Poste / IGN via communes-fr (COG 2024).
type Commune struct {
	INSEE string // INSEE code, e.g. "69123", "2A004", "97411"
	// Name is the name without its leading article ("Mans"), the form used
	// for sorting; NameWithArticle is the official name ("Le Mans"), the one
	// to display.
	Name            string
	NameWithArticle string
	Postcode        string   // smallest postcode of the commune
	Postcodes       []string // every postcode, sorted
	Departement     string   // département code, e.g. "69", "2A", "974"
	Region          string   // région code, e.g. "84"
	Lat, Lon        float64  // WGS84 centroid
	Population      int      // population 2021 (INSEE)
	Kind            string   // KindCommune or KindArrondissement
	// Parent is, for an arrondissement, the INSEE code of its commune
	// ("69381" → "69123"); empty otherwise.
	Parent string
	// ApproxCoord marks the few communes without a centroid upstream, placed
	// at the mean centroid of the communes sharing their postcode (and Paris,
	// Lyon, Marseille, placed at the mean of their arrondissements).
	ApproxCoord bool
}

// Departement is a French département. Source: communes-fr (IGN centre).
type Departement struct {
	Code            string // "01".."95", "2A", "2B", "971".."976"
	Name            string
	NameWithArticle string
	Region          string  // région code
	Lat, Lon        float64 // IGN geographic centre
	ChefLieu        string  // INSEE code of the prefecture commune
}

// Region is a French région (2016 boundaries).
type Region struct {
	Code            string // "01".."06" overseas, "11".."94"
	Name            string
	NameWithArticle string
	Lat, Lon        float64 // IGN geographic centre
	ChefLieu        string  // INSEE code of the prefecture commune
}

type communeData struct {
	list    []Commune
	byINSEE map[string]int
	// byPostcode lists the communes and arrondissements serving a postcode.
	byPostcode map[string][]int32
	// byKey maps a nameKey to communes: names, official names and the names
	// of former communes (communes déléguées) merged into them.
	byKey map[string][]nameRef
	// prefix is sorted by key for autocomplete.
	prefix []prefixEntry
}

// nameRef points from a name to a commune; postcode is set for the name of a
// commune déléguée, which is only valid with its own postcode.
type nameRef struct {
	idx      int32
	postcode string
}

type prefixEntry struct {
	key string
	idx int32
}

var (
	communesOnce sync.Once
	communes     *communeData
)

func loadedCommunes() *communeData {
	communesOnce.Do(func() {
		d, err := loadCommunes()
		mustLoad(err)
		communes = d
	})
	return communes
}

var communesHeader = []string{"kind", "insee", "parent", "name", "article", "postcodes", "dep", "reg", "lat", "lon", "pop", "approx"}

func loadCommunes() (*communeData, error) {
	d := &communeData{
		list:       make([]Commune, 0, 35000),
		byINSEE:    make(map[string]int, 35000),
		byPostcode: make(map[string][]int32, 6500),
		byKey:      make(map[string][]nameRef, 40000),
	}
	type delegated struct{ parent, name, article, postcode string }
	var dels []delegated
	err := eachRecord("communes.csv.gz", communesHeader, func(rec []string) error {
		if rec[0] == "COMD" {
			dels = append(dels, delegated{rec[1], rec[3], rec[4], rec[5]})
			return nil
		}
		lat, err := parseFloat(rec[8])
		if err != nil {
			return err
		}
		lon, err := parseFloat(rec[9])
		if err != nil {
			return err
		}
		pop, err := parseInt(rec[10])
		if err != nil {
			return err
		}
		pcs := strings.Fields(rec[5])
		if len(pcs) == 0 {
			return fmt.Errorf("commune %s has no postcode", rec[1])
		}
		d.list = append(d.list, Commune{
			INSEE: rec[1], Parent: rec[2], Name: rec[3], NameWithArticle: rec[4],
			Postcode: pcs[0], Postcodes: pcs, Departement: rec[6], Region: rec[7],
			Lat: lat, Lon: lon, Population: pop, Kind: rec[0], ApproxCoord: rec[11] == "1",
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.prefix = make([]prefixEntry, 0, len(d.list)+len(d.list)/8)
	for i := range d.list {
		c := &d.list[i]
		d.byINSEE[c.INSEE] = i
		for _, pc := range c.Postcodes {
			d.byPostcode[pc] = append(d.byPostcode[pc], int32(i))
		}
		k1, k2 := nameKey(c.Name), nameKey(c.NameWithArticle)
		d.byKey[k1] = append(d.byKey[k1], nameRef{idx: int32(i)})
		if k2 != k1 {
			d.byKey[k2] = append(d.byKey[k2], nameRef{idx: int32(i)})
		}
		n1, n2 := Normalize(c.Name), Normalize(c.NameWithArticle)
		d.prefix = append(d.prefix, prefixEntry{n1, int32(i)})
		if n2 != n1 {
			d.prefix = append(d.prefix, prefixEntry{n2, int32(i)})
		}
	}
	for _, dl := range dels {
		i, ok := d.byINSEE[dl.parent]
		if !ok {
			return nil, fmt.Errorf("refdata: communes: delegated %q: unknown commune %s", dl.name, dl.parent)
		}
		for _, k := range []string{nameKey(dl.name), nameKey(dl.article)} {
			if !hasRef(d.byKey[k], int32(i)) {
				d.byKey[k] = append(d.byKey[k], nameRef{idx: int32(i), postcode: dl.postcode})
			}
		}
	}
	sort.Slice(d.prefix, func(a, b int) bool {
		if d.prefix[a].key != d.prefix[b].key {
			return d.prefix[a].key < d.prefix[b].key
		}
		return d.prefix[a].idx < d.prefix[b].idx
	})
	return d, nil
}

func hasRef(refs []nameRef, idx int32) bool {
	for _, r := range refs {
		if r.idx == idx {
			return true
		}
	}
	return false
}

// Communes returns every commune and municipal arrondissement (Paris, Lyon,
// Marseille appear both whole and by arrondissement), sorted by INSEE code.
func Communes() []Commune { return loadedCommunes().list }

// CommuneByINSEE returns the commune or arrondissement with that INSEE code.
func CommuneByINSEE(code string) (Commune, bool) {
	d := loadedCommunes()
	i, ok := d.byINSEE[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return Commune{}, false
	}
	return d.list[i], true
}

// Geocode finds the commune of a postal address from its postcode and city
// name. The name is compared accent-, case-, hyphen- and article-insensitively
// ("ST ETIENNE", "saint-étienne" and "Saint Etienne" all give Saint-Étienne),
// including the names of former communes merged into a new one. In Paris,
// Lyon and Marseille the arrondissement of the postcode is returned. When the
// name matches no commune of the postcode, the most populous commune of the
// postcode is returned; when the postcode is unknown (e.g. a CEDEX code) or
// empty, the name is searched in the postcode's département, then nationwide
// (most populous first). ok is false when nothing matches.
func Geocode(postcode, city string) (Commune, bool) {
	d := loadedCommunes()
	pc := cleanPostcode(postcode)
	key := nameKey(city)
	if cands := d.byPostcode[pc]; len(cands) > 0 {
		if i, ok := d.matchName(cands, key, pc); ok {
			return d.list[d.preferArrondissement(i, cands)], true
		}
		best := cands[0]
		for _, i := range cands[1:] {
			if d.list[i].Population > d.list[best].Population {
				best = i
			}
		}
		return d.list[d.preferArrondissement(best, cands)], true
	}
	if key == "" {
		return Commune{}, false
	}
	refs := d.byKey[key]
	best := int32(-1)
	dep := depOfPostcode(pc)
	for pass := 0; pass < 2 && best < 0; pass++ {
		for _, r := range refs {
			c := &d.list[r.idx]
			if pass == 0 && (dep == "" || !depMatches(c.Departement, dep)) {
				continue
			}
			if best < 0 || c.Population > d.list[best].Population {
				best = r.idx
			}
		}
	}
	if best < 0 {
		return Commune{}, false
	}
	return d.list[best], true
}

// matchName picks among the postcode's communes the one whose name matches
// key: exactly first, then as a whole-word prefix either way ("Bourg en
// Bresse" for "Bourg-en-Bresse Cedex" or "Marseille" for "Marseille 5e
// Arrondissement").
func (d *communeData) matchName(cands []int32, key, pc string) (int32, bool) {
	if key == "" {
		return 0, false
	}
	for _, r := range d.byKey[key] {
		if r.postcode != "" && r.postcode != pc {
			continue
		}
		for _, i := range cands {
			if i == r.idx {
				return i, true
			}
		}
	}
	for _, i := range cands {
		c := &d.list[i]
		for _, k := range [...]string{nameKey(c.Name), nameKey(c.NameWithArticle)} {
			if strings.HasPrefix(k, key+" ") || strings.HasPrefix(key, k+" ") {
				return i, true
			}
		}
	}
	return 0, false
}

// preferArrondissement replaces a whole city (Paris, Lyon, Marseille) by its
// arrondissement serving the postcode, which is more precise.
func (d *communeData) preferArrondissement(i int32, cands []int32) int32 {
	code := d.list[i].INSEE
	best := int32(-1)
	for _, j := range cands {
		if d.list[j].Parent == code && (best < 0 || d.list[j].Population > d.list[best].Population) {
			best = j
		}
	}
	if best < 0 {
		return i
	}
	return best
}

// cleanPostcode removes spaces and restores a leading zero lost by a
// spreadsheet ("1400" → "01400").
func cleanPostcode(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) == 4 && isDigits(s) {
		s = "0" + s
	}
	return s
}

// depOfPostcode guesses the département from a postcode (also a CEDEX one).
func depOfPostcode(pc string) string {
	if len(pc) != 5 || !isDigits(pc) {
		return ""
	}
	if strings.HasPrefix(pc, "97") {
		return pc[:3]
	}
	return pc[:2]
}

func depMatches(dep, fromPostcode string) bool {
	if fromPostcode == "20" { // Corsica postcodes start with 20 for 2A and 2B
		return dep == "2A" || dep == "2B"
	}
	return dep == fromPostcode
}

// CommunePrefix returns up to n communes whose normalized name, with or
// without its article, starts with the normalized prefix, most populous first
// (for autocomplete). "st"/"ste" typed as whole words match "saint"/"sainte".
func CommunePrefix(prefix string, n int) []Commune {
	if n <= 0 {
		return nil
	}
	p := Normalize(prefix)
	if p == "" {
		return nil
	}
	// Expand abbreviations only in completed words: "st" alone may still
	// become "stenay".
	if words := strings.Split(p, " "); len(words) > 1 {
		for i, w := range words[:len(words)-1] {
			switch w {
			case "st":
				words[i] = "saint"
			case "ste":
				words[i] = "sainte"
			}
		}
		p = strings.Join(words, " ")
	}
	d := loadedCommunes()
	better := func(a, b int32) bool { // most populous first, then INSEE code
		ca, cb := &d.list[a], &d.list[b]
		if ca.Population != cb.Population {
			return ca.Population > cb.Population
		}
		return ca.INSEE < cb.INSEE
	}
	// Keep the n best in a sorted slice rather than sorting the whole range:
	// a one-letter prefix spans thousands of names.
	idx := make([]int32, 0, min(n, 64))
	lo := sort.Search(len(d.prefix), func(i int) bool { return d.prefix[i].key >= p })
	for i := lo; i < len(d.prefix) && strings.HasPrefix(d.prefix[i].key, p); i++ {
		j := d.prefix[i].idx
		if len(idx) == n && !better(j, idx[n-1]) {
			continue
		}
		pos := sort.Search(len(idx), func(k int) bool { return !better(idx[k], j) })
		if pos < len(idx) && idx[pos] == j {
			continue // same commune reached through its other name form
		}
		if len(idx) < n {
			idx = append(idx, 0)
		}
		copy(idx[pos+1:], idx[pos:len(idx)-1])
		idx[pos] = j
	}
	out := make([]Commune, len(idx))
	for i, j := range idx {
		out[i] = d.list[j]
	}
	return out
}

// ------------------------------------------------- départements and régions

type adminData struct {
	deps    []Departement
	depIdx  map[string]int
	regs    []Region
	regIdx  map[string]int
	dispIdx map[string]int // département code → index in disps
}

var (
	adminOnce sync.Once
	admin     *adminData
)

func loadedAdmin() *adminData {
	adminOnce.Do(func() {
		d, err := loadAdmin()
		mustLoad(err)
		admin = d
	})
	return admin
}

func loadAdmin() (*adminData, error) {
	d := &adminData{depIdx: map[string]int{}, regIdx: map[string]int{}, dispIdx: map[string]int{}}
	err := eachRecord("regions.csv.gz", []string{"code", "name", "article", "lat", "lon", "cheflieu"}, func(rec []string) error {
		lat, err := parseFloat(rec[3])
		if err != nil {
			return err
		}
		lon, err := parseFloat(rec[4])
		if err != nil {
			return err
		}
		d.regIdx[rec[0]] = len(d.regs)
		d.regs = append(d.regs, Region{Code: rec[0], Name: rec[1], NameWithArticle: rec[2], Lat: lat, Lon: lon, ChefLieu: rec[5]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRecord("departements.csv.gz", []string{"code", "reg", "name", "article", "lat", "lon", "cheflieu"}, func(rec []string) error {
		lat, err := parseFloat(rec[4])
		if err != nil {
			return err
		}
		lon, err := parseFloat(rec[5])
		if err != nil {
			return err
		}
		if _, ok := d.regIdx[rec[1]]; !ok {
			return fmt.Errorf("département %s: unknown région %s", rec[0], rec[1])
		}
		dispI, ok := dispIndexByRegion(rec[1])
		if !ok {
			return fmt.Errorf("département %s: région %s has no DISP", rec[0], rec[1])
		}
		d.dispIdx[rec[0]] = dispI
		d.depIdx[rec[0]] = len(d.deps)
		d.deps = append(d.deps, Departement{Code: rec[0], Region: rec[1], Name: rec[2], NameWithArticle: rec[3], Lat: lat, Lon: lon, ChefLieu: rec[6]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Departements returns the 101 départements sorted by code.
func Departements() []Departement { return loadedAdmin().deps }

// DepartementByCode returns the département with that code ("01", "2A", "974").
func DepartementByCode(code string) (Departement, bool) {
	d := loadedAdmin()
	i, ok := d.depIdx[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return Departement{}, false
	}
	return d.deps[i], true
}

// Regions returns the 18 régions sorted by code.
func Regions() []Region { return loadedAdmin().regs }

// RegionByCode returns the région with that code ("84").
func RegionByCode(code string) (Region, bool) {
	d := loadedAdmin()
	i, ok := d.regIdx[strings.TrimSpace(code)]
	if !ok {
		return Region{}, false
	}
	return d.regs[i], true
}
