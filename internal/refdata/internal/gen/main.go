// Command gen rewrites the reference data that package refdata embeds.
//
// It reads the public data sets of shared/data (communes-fr, prisons, rome,
// france-geojson), keeps only the columns refdata serves, fixes the known gaps
// of the sources (documented below) and writes gzip -9 files into
// internal/refdata/data. The output is deterministic: running it twice gives
// byte-identical files, so a diff shows any upstream change.
//
// Run from internal/refdata (this is what `go generate` does):
//
//	go run ./internal/gen -src ../../../shared/data -out data
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

func main() {
	src := flag.String("src", "../../../shared/data", "folder holding the shared data sets")
	out := flag.String("out", "data", "folder to write the compressed files into")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		log.Fatal(err)
	}
}

func run(src, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	steps := []struct {
		name string
		fn   func(src, out string) error
	}{
		{"communes", genCommunes},
		{"departements", genDepartements},
		{"regions", genRegions},
		{"prisons", genPrisons},
		{"rome", genROME},
		{"geojson", genGeoJSON},
	}
	for _, s := range steps {
		if err := s.fn(src, out); err != nil {
			return fmt.Errorf("gen: %s: %w", s.name, err)
		}
	}
	return nil
}

// readCSV reads a whole CSV file with a header and returns rows as maps keyed
// by column name, failing on any missing wanted column so that an upstream
// schema change is noticed at generation time rather than at run time.
func readCSV(path string, want ...string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	idx := map[string]int{}
	for i, h := range recs[0] {
		idx[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for _, w := range want {
		if _, ok := idx[w]; !ok {
			return nil, fmt.Errorf("%s: missing column %q", path, w)
		}
	}
	rows := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(idx))
		for k, i := range idx {
			if i < len(rec) {
				m[k] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, m)
	}
	return rows, nil
}

// writeGz writes CSV rows (header first) gzip-compressed at the best level.
func writeCSVGz(path string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return writeGz(path, buf.Bytes())
}

func writeGz(path string, data []byte) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	// No name or mod time in the header: keeps the output reproducible.
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("%s: %d bytes raw, %d gz", filepath.Base(path), len(data), buf.Len())
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// ---------------------------------------------------------------- communes

type commune struct {
	kind, insee, parent, name, article string
	postcodes                          []string
	dep, reg                           string
	lat, lon                           float64
	hasCoord                           bool
	pop                                int
	approx                             bool
}

// bigCities are the three communes that communes.csv only lists through their
// municipal arrondissements (ARM); refdata rebuilds the whole commune from them.
var bigCities = []struct{ insee, name, dep, reg, armPrefix string }{
	{"75056", "Paris", "75", "11", "751"},
	{"13055", "Marseille", "13", "93", "132"},
	{"69123", "Lyon", "69", "84", "6938"},
}

func genCommunes(src, out string) error {
	rows, err := readCSV(filepath.Join(src, "communes-fr", "communes.csv"),
		"insee_com", "insee_reg", "insee_dep", "commune", "commune_article", "code_postal",
		"commune_type", "insee_parente", "lat", "lng", "population_2021")
	if err != nil {
		return err
	}
	byCode := map[string]*commune{}
	var order []string
	var delegated []*commune
	for _, r := range rows {
		lat, errLat := strconv.ParseFloat(r["lat"], 64)
		lon, errLon := strconv.ParseFloat(r["lng"], 64)
		pop, _ := strconv.Atoi(r["population_2021"])
		c := &commune{
			kind: r["commune_type"], insee: r["insee_com"], name: r["commune"], article: r["commune_article"],
			postcodes: []string{r["code_postal"]}, dep: r["insee_dep"], reg: r["insee_reg"],
			lat: lat, lon: lon, hasCoord: errLat == nil && errLon == nil, pop: pop,
		}
		switch c.kind {
		case "COMD":
			// A commune déléguée shares the INSEE code of the new commune that
			// absorbed it; it is kept only as a geocoding alias.
			c.parent = r["insee_parente"]
			delegated = append(delegated, c)
			continue
		case "COM", "ARM":
		default:
			return fmt.Errorf("unknown commune_type %q", c.kind)
		}
		if prev, ok := byCode[c.insee]; ok {
			// One row per (commune, postcode): merge the postcodes.
			if !contains(prev.postcodes, r["code_postal"]) {
				prev.postcodes = append(prev.postcodes, r["code_postal"])
			}
			continue
		}
		byCode[c.insee] = c
		order = append(order, c.insee)
	}
	// Rebuild Paris, Marseille and Lyon from their arrondissements: centroid =
	// mean of the arrondissement centroids, population = sum.
	for _, bc := range bigCities {
		if _, ok := byCode[bc.insee]; ok {
			return fmt.Errorf("%s now present upstream: drop the rebuild", bc.insee)
		}
		c := &commune{kind: "COM", insee: bc.insee, name: bc.name, article: bc.name, dep: bc.dep, reg: bc.reg, hasCoord: true}
		n := 0
		for _, code := range order {
			a := byCode[code]
			if a.kind != "ARM" || !strings.HasPrefix(code, bc.armPrefix) {
				continue
			}
			a.parent = bc.insee
			c.lat += a.lat
			c.lon += a.lon
			c.pop += a.pop
			for _, pc := range a.postcodes {
				if !contains(c.postcodes, pc) {
					c.postcodes = append(c.postcodes, pc)
				}
			}
			n++
		}
		if n == 0 {
			return fmt.Errorf("no arrondissement for %s", bc.name)
		}
		c.lat, c.lon = round5(c.lat/float64(n)), round5(c.lon/float64(n))
		sort.Strings(c.postcodes)
		byCode[bc.insee] = c
		order = append(order, bc.insee)
	}
	// A few communes have no centroid upstream: use the mean centroid of the
	// other communes sharing their postcode and flag it as approximate.
	byPostcode := map[string][]*commune{}
	for _, code := range order {
		c := byCode[code]
		for _, pc := range c.postcodes {
			byPostcode[pc] = append(byPostcode[pc], c)
		}
	}
	for _, code := range order {
		c := byCode[code]
		if c.hasCoord {
			continue
		}
		n := 0
		for _, o := range byPostcode[c.postcodes[0]] {
			if o.hasCoord && !o.approx {
				c.lat += o.lat
				c.lon += o.lon
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("commune %s: no coordinates and no neighbour", code)
		}
		c.lat, c.lon = round5(c.lat/float64(n)), round5(c.lon/float64(n))
		c.hasCoord, c.approx = true, true
	}
	sort.Strings(order)
	out2 := [][]string{{"kind", "insee", "parent", "name", "article", "postcodes", "dep", "reg", "lat", "lon", "pop", "approx"}}
	for _, code := range order {
		c := byCode[code]
		sort.Strings(c.postcodes)
		out2 = append(out2, communeRow(c))
	}
	// Delegated communes last, sorted for determinism; missing coordinates
	// (and département/région, empty upstream) come from the parent.
	sort.SliceStable(delegated, func(i, j int) bool {
		if delegated[i].parent != delegated[j].parent {
			return delegated[i].parent < delegated[j].parent
		}
		return delegated[i].name < delegated[j].name
	})
	for _, d := range delegated {
		p, ok := byCode[d.parent]
		if !ok {
			return fmt.Errorf("delegated commune %s: unknown parent %s", d.name, d.parent)
		}
		d.insee, d.dep, d.reg = p.insee, p.dep, p.reg
		if !d.hasCoord {
			d.lat, d.lon, d.approx = p.lat, p.lon, true
		}
		out2 = append(out2, communeRow(d))
	}
	return writeCSVGz(filepath.Join(out, "communes.csv.gz"), out2)
}

func communeRow(c *commune) []string {
	approx := ""
	if c.approx {
		approx = "1"
	}
	return []string{c.kind, c.insee, c.parent, c.name, c.article, strings.Join(c.postcodes, " "), c.dep, c.reg,
		fmtCoord(c.lat), fmtCoord(c.lon), strconv.Itoa(c.pop), approx}
}

func genDepartements(src, out string) error {
	rows, err := readCSV(filepath.Join(src, "communes-fr", "departements.csv"),
		"insee_dep", "insee_reg", "departement", "departement_article", "lng", "lat", "insee_com_cheflieu")
	if err != nil {
		return err
	}
	res := [][]string{{"code", "reg", "name", "article", "lat", "lon", "cheflieu"}}
	for _, r := range rows {
		res = append(res, []string{r["insee_dep"], r["insee_reg"], r["departement"], r["departement_article"], r["lat"], r["lng"], r["insee_com_cheflieu"]})
	}
	return writeCSVGz(filepath.Join(out, "departements.csv.gz"), res)
}

func genRegions(src, out string) error {
	rows, err := readCSV(filepath.Join(src, "communes-fr", "regions.csv"),
		"insee_reg", "region", "region_article", "lng", "lat", "insee_reg_cheflieu")
	if err != nil {
		return err
	}
	res := [][]string{{"code", "name", "article", "lat", "lon", "cheflieu"}}
	for _, r := range rows {
		res = append(res, []string{r["insee_reg"], r["region"], r["region_article"], r["lat"], r["lng"], r["insee_reg_cheflieu"]})
	}
	return writeCSVGz(filepath.Join(out, "regions.csv.gz"), res)
}

// ----------------------------------------------------------------- prisons

func genPrisons(src, out string) error {
	cols := []string{"nom", "type", "type_code", "spip", "antenne", "departement", "commune_insee", "commune_nom", "lat", "lon", "coord_precision"}
	rows, err := readCSV(filepath.Join(src, "prisons", "etablissements_penitentiaires_a44_2015.csv"), cols...)
	if err != nil {
		return err
	}
	res := [][]string{cols}
	for _, r := range rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			rec[i] = r[c]
		}
		res = append(res, rec)
	}
	return writeCSVGz(filepath.Join(out, "prisons.csv.gz"), res)
}

// -------------------------------------------------------------------- ROME

func genROME(src, out string) error {
	dir := filepath.Join(src, "rome")
	p := func(name string) string { return filepath.Join(dir, "unix_"+name+"_v460_utf8.csv") }

	gd, err := readCSV(p("grand_domaine"), "code_grand_domaine", "libelle_grand_domaine")
	if err != nil {
		return err
	}
	dp, err := readCSV(p("domaine_professionnel"), "code_domaine_professionnel", "libelle_domaine_professionnel")
	if err != nil {
		return err
	}
	doms := [][]string{{"code", "label"}}
	for _, r := range gd {
		doms = append(doms, []string{r["code_grand_domaine"], r["libelle_grand_domaine"]})
	}
	for _, r := range dp {
		doms = append(doms, []string{r["code_domaine_professionnel"], r["libelle_domaine_professionnel"]})
	}
	if err := writeCSVGz(filepath.Join(out, "rome_domaines.csv.gz"), doms); err != nil {
		return err
	}

	codes, err := readCSV(p("referentiel_code_rome"), "code_rome", "code_ogr", "libelle_rome", "code_rome_parent")
	if err != nil {
		return err
	}
	hier, err := readCSV(p("cr_gd_dp"), "code_rome", "code_grand_domaine", "code_domaine_professionel")
	if err != nil {
		return err
	}
	dpOf := map[string]string{}
	for _, r := range hier {
		dpOf[r["code_rome"]] = r["code_domaine_professionel"]
	}
	cr := [][]string{{"code", "ogr", "label", "domaine", "parent"}}
	for _, r := range codes {
		d, ok := dpOf[r["code_rome"]]
		if !ok {
			return fmt.Errorf("ROME %s: no domain", r["code_rome"])
		}
		cr = append(cr, []string{r["code_rome"], r["code_ogr"], r["libelle_rome"], d, r["code_rome_parent"]})
	}
	if err := writeCSVGz(filepath.Join(out, "rome_codes.csv.gz"), cr); err != nil {
		return err
	}

	apps, err := readCSV(p("referentiel_appellation"), "code_ogr", "libelle_appellation_long", "libelle_appellation_court", "code_rome", "classification", "peu_usite")
	if err != nil {
		return err
	}
	ap := [][]string{{"ogr", "long", "short", "rome", "principale", "rare"}}
	for _, r := range apps {
		short := r["libelle_appellation_court"]
		if short == r["libelle_appellation_long"] {
			short = "" // most are equal: the loader restores it
		}
		ap = append(ap, []string{r["code_ogr"], r["libelle_appellation_long"], short, r["code_rome"],
			boolFlag(r["classification"] == "PRINCIPALE"), boolFlag(r["peu_usite"] == "O")})
	}
	if err := writeCSVGz(filepath.Join(out, "rome_appellations.csv.gz"), ap); err != nil {
		return err
	}

	links, err := readCSV(p("coherence_item"), "code_rome", "code_ogr", "coeur_metier")
	if err != nil {
		return err
	}
	items, err := readCSV(p("item"), "code_ogr", "libelle", "code_rubrique")
	if err != nil {
		return err
	}
	comps, err := readCSV(p("referentiel_competence"), "code_ogr", "cat_comp", "sous_cat_comp")
	if err != nil {
		return err
	}
	savoirs, err := readCSV(p("referentiel_savoir"), "code_ogr_savoir", "categorie_savoir")
	if err != nil {
		return err
	}
	ctx, err := readCSV(p("referentiel_contexte_travail"), "code_ogr", "libelle_type_cont_trav")
	if err != nil {
		return err
	}
	itemOf := map[string]map[string]string{}
	for _, r := range items {
		itemOf[r["code_ogr"]] = r
	}
	category := map[string]string{}
	for _, r := range comps {
		category[r["code_ogr"]] = r["sous_cat_comp"]
	}
	for _, r := range savoirs {
		category[r["code_ogr_savoir"]] = r["categorie_savoir"]
	}
	isCtx := map[string]bool{}
	for _, r := range ctx {
		category[r["code_ogr"]] = r["libelle_type_cont_trav"]
		isCtx[r["code_ogr"]] = true
	}
	// Kinds: F savoir-faire, E savoir-être professionnel, S savoir (rubriques
	// 1, 2, 3 of unix_descriptif_rubrique), C contexte de travail (items with
	// no rubrique, all found in the contexte de travail referential).
	kindOf := func(ogr string) (string, error) {
		it, ok := itemOf[ogr]
		if !ok {
			return "", fmt.Errorf("item %s not in unix_item", ogr)
		}
		switch it["code_rubrique"] {
		case "1":
			return "F", nil
		case "2":
			return "E", nil
		case "3":
			return "S", nil
		case "":
			if isCtx[ogr] {
				return "C", nil
			}
		}
		return "", fmt.Errorf("item %s: unknown rubrique %q", ogr, it["code_rubrique"])
	}
	used := map[string]bool{}
	lk := [][]string{{"rome", "ogr", "coeur"}}
	for _, r := range links {
		c := ""
		switch r["coeur_metier"] {
		case "":
		case "Principale":
			c = "P"
		case "Émergente":
			c = "E"
		default:
			return fmt.Errorf("unknown coeur_metier %q", r["coeur_metier"])
		}
		used[r["code_ogr"]] = true
		lk = append(lk, []string{r["code_rome"], r["code_ogr"], c})
	}
	body := lk[1:]
	sort.SliceStable(body, func(i, j int) bool {
		if body[i][0] != body[j][0] {
			return body[i][0] < body[j][0]
		}
		return atoi(body[i][1]) < atoi(body[j][1])
	})
	if err := writeCSVGz(filepath.Join(out, "rome_links.csv.gz"), lk); err != nil {
		return err
	}
	var ogrs []string
	for o := range used {
		ogrs = append(ogrs, o)
	}
	sort.Slice(ogrs, func(i, j int) bool { return atoi(ogrs[i]) < atoi(ogrs[j]) })
	sk := [][]string{{"ogr", "kind", "category", "label"}}
	for _, o := range ogrs {
		k, err := kindOf(o)
		if err != nil {
			return err
		}
		sk = append(sk, []string{o, k, category[o], itemOf[o]["libelle"]})
	}
	return writeCSVGz(filepath.Join(out, "rome_skills.csv.gz"), sk)
}

func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// ----------------------------------------------------------------- GeoJSON

// genGeoJSON keeps the "avec-outre-mer" files (France including the five
// DROM) and re-encodes them through orb: this validates the geometry, drops
// unused members and writes compact JSON with 5-decimal coordinates.
func genGeoJSON(src, out string) error {
	for _, f := range []struct{ in, out string }{
		{"departements-avec-outre-mer.geojson", "departements.geojson.gz"},
		{"regions-avec-outre-mer.geojson", "regions.geojson.gz"},
	} {
		raw, err := os.ReadFile(filepath.Join(src, "france-geojson", f.in))
		if err != nil {
			return err
		}
		fc, err := geojson.UnmarshalFeatureCollection(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", f.in, err)
		}
		res := geojson.NewFeatureCollection()
		for _, ft := range fc.Features {
			code, _ := ft.Properties["code"].(string)
			nom, _ := ft.Properties["nom"].(string)
			if code == "" || nom == "" {
				return errors.New(f.in + ": feature without code/nom")
			}
			g := roundGeom(ft.Geometry)
			nf := geojson.NewFeature(g)
			nf.Properties = geojson.Properties{"code": code, "nom": nom}
			res.Append(nf)
		}
		sort.SliceStable(res.Features, func(i, j int) bool {
			return res.Features[i].Properties["code"].(string) < res.Features[j].Properties["code"].(string)
		})
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			return err
		}
		if err := writeGz(filepath.Join(out, f.out), bytes.TrimSpace(buf.Bytes())); err != nil {
			return err
		}
	}
	return nil
}

func roundGeom(g orb.Geometry) orb.Geometry {
	rp := func(p orb.Point) orb.Point { return orb.Point{round5(p[0]), round5(p[1])} }
	rr := func(r orb.Ring) orb.Ring {
		o := make(orb.Ring, 0, len(r))
		for _, p := range r {
			q := rp(p)
			if len(o) > 0 && o[len(o)-1] == q {
				continue // rounding can create duplicate consecutive points
			}
			o = append(o, q)
		}
		return o
	}
	rpoly := func(p orb.Polygon) orb.Polygon {
		o := make(orb.Polygon, len(p))
		for i, r := range p {
			o[i] = rr(r)
		}
		return o
	}
	switch t := g.(type) {
	case orb.Polygon:
		return rpoly(t)
	case orb.MultiPolygon:
		o := make(orb.MultiPolygon, len(t))
		for i, p := range t {
			o[i] = rpoly(p)
		}
		return o
	}
	return g
}

// ------------------------------------------------------------------ helpers

func round5(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 5, 64), 64)
	return v
}

// atoi orders code_ogr values numerically; they are all digits upstream.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func fmtCoord(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
