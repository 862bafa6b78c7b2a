package search

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Sort orders.
const (
	SortRelevance = "relevance"
	SortDistance  = "distance"
	SortDate      = "date"
)

// Limits of a request. MaxWindow bounds how deep pagination may go: bleve
// collects page×per_page hits to return the last page, so a deep page
// costs memory and time for nobody (nobody reads the 10,001st result).
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
	MaxWindow      = 10000
	MaxQueryLen    = 200 // characters
	MaxWords       = 16
	MaxRadiusKm    = 1000
)

// Request is a search. Zero fields do not filter.
type Request struct {
	// Query is the user's text: words, and "phrases in quotes" (straight
	// or French « » quotes). It is parsed here, never handed to bleve's
	// query-string syntax, so no character has a special meaning.
	Query string
	// Types are the kinds searched; none means the role's default
	// (DefaultTypes), TypeAll every kind.
	Types       []Type
	Near        *atigip.Point // centre of the radius filter and the distance sort
	RadiusKm    float64       // needs Near
	Departement string        // INSEE code
	Region      string        // INSEE code
	Commune     string        // INSEE code
	ROME        []string      // ROME codes ("A1203") or domains ("A"), any of
	Minors      *bool
	Weekends    *bool
	Wheelchair  *bool
	// Available keeps documents that can be taken now (open post or offer
	// with places left, available floor space). Places left are
	// professional information: the filter is refused to the public.
	Available *bool
	Status    []string // any of
	Sort      string   // SortRelevance (default), SortDistance or SortDate
	Page      int      // from 1 (0 means 1)
	PerPage   int      // 1..MaxPerPage (0 means DefaultPerPage)
	// Facets asks for the facet counts of all matches. Nil counts them on
	// the first page only: a client shows them with the first page and
	// keeps them while paging, and counting visits every match.
	Facets *bool
	// Explain asks for the score explanation of each hit; professionals only.
	Explain bool
	// Role is who searches: its audience decides which documents exist.
	Role atigip.Role
}

// statuses lists every status value of the indexed types.
var statuses = func() map[string]bool {
	m := map[string]bool{}
	for s := range atigip.PostStatuses {
		m[string(s)] = true
	}
	for s := range atigip.OfferStatuses {
		m[string(s)] = true
	}
	for s := range atigip.HabilitationStatuses {
		m[string(s)] = true
	}
	for s := range atigip.FloorStatuses {
		m[string(s)] = true
	}
	return m
}()

// normalize validates r, fills defaults and returns the parsed query text.
// Every problem is reported at once, in French, as an EINVALID error.
func (r *Request) normalize() (parsedQuery, error) {
	var p atigip.Problems
	if !r.Role.Valid() {
		r.Role = atigip.RolePublic
	}
	if r.Explain && !r.Role.Professional() {
		return parsedQuery{}, atigip.Errorf(atigip.EFORBIDDEN, "L'explication du score est réservée aux professionnels de la justice et de l'administration pénitentiaire.")
	}
	pq, err := parseQuery(r.Query)
	if err != nil {
		p.Add("q", "%s", err.Error())
	}
	switch {
	case len(r.Types) == 0:
		r.Types = DefaultTypes(r.Role)
	case slices.Contains(r.Types, TypeAll):
		r.Types = nil
	}
	for _, t := range r.Types {
		if _, ok := Types[t]; !ok {
			p.Add("type", "Type inconnu : %q (attendu : post, offer, organisation, floor_space ou all).", t)
		}
	}
	if r.Near != nil && (!r.Near.Valid() || r.Near.IsZero()) {
		p.Add("near", "Point invalide : longitude entre -180 et 180, latitude entre -90 et 90.")
	}
	switch {
	case math.IsNaN(r.RadiusKm) || r.RadiusKm < 0 || r.RadiusKm > MaxRadiusKm:
		p.Add("radius_km", "Le rayon doit être compris entre 0 et %d km.", MaxRadiusKm)
	case r.RadiusKm > 0 && r.Near == nil:
		p.Add("radius_km", "Un rayon exige un point de départ (near=longitude,latitude).")
	}
	if r.Departement != "" {
		if _, ok := refdata.DepartementByCode(r.Departement); !ok {
			p.Add("departement", "Département inconnu : %q.", r.Departement)
		}
	}
	if r.Region != "" {
		if _, ok := refdata.RegionByCode(r.Region); !ok {
			p.Add("region", "Région inconnue : %q.", r.Region)
		}
	}
	if r.Commune != "" {
		if _, ok := refdata.CommuneByINSEE(r.Commune); !ok {
			p.Add("commune", "Commune inconnue : code INSEE %q.", r.Commune)
		}
	}
	for i, c := range r.ROME {
		c = strings.ToUpper(strings.TrimSpace(c))
		r.ROME[i] = c
		if !atigip.ValidROME(c) && !(len(c) == 1 && c[0] >= 'A' && c[0] <= 'N') {
			p.Add("rome", "Code ROME invalide : %q (un code comme A1203 ou un domaine de A à N).", c)
		}
	}
	for _, s := range r.Status {
		if !statuses[s] {
			p.Add("status", "Statut inconnu : %q.", s)
		}
	}
	if r.Available != nil && r.Role.Audience() != atigip.AudienceJustice {
		p.Add("available", "Le filtre des places disponibles est réservé aux professionnels de la justice.")
	}
	switch r.Sort {
	case "":
		r.Sort = SortRelevance
	case SortRelevance, SortDate:
	case SortDistance:
		if r.Near == nil {
			p.Add("sort", "Le tri par distance exige un point de départ (near=longitude,latitude).")
		}
	default:
		p.Add("sort", "Tri inconnu : %q (attendu : relevance, distance ou date).", r.Sort)
	}
	if r.Page == 0 {
		r.Page = 1
	}
	if r.PerPage == 0 {
		r.PerPage = DefaultPerPage
	}
	switch {
	case r.Page < 1:
		p.Add("page", "La page doit être un entier positif.")
	case r.PerPage < 1 || r.PerPage > MaxPerPage:
		p.Add("per_page", "Le nombre de résultats par page doit être compris entre 1 et %d.", MaxPerPage)
	case r.Page > MaxWindow/r.PerPage:
		p.Add("page", "Page hors limites : seuls les %d premiers résultats sont consultables ; affinez la recherche.", MaxWindow)
	}
	return pq, p.Err("Recherche")
}

// departement is the code of the département filter as documents hold
// it (the référentiel's code), "" without one (normalize refuses unknown
// codes).
func (r *Request) departement() string {
	d, _ := refdata.DepartementByCode(r.Departement)
	return d.Code
}

// parsedQuery is the user's text split into free words and quoted phrases.
type parsedQuery struct {
	words   []string
	phrases []string
}

func (q parsedQuery) empty() bool { return len(q.words) == 0 && len(q.phrases) == 0 }

type queryError string

func (e queryError) Error() string { return string(e) }

// parseQuery splits text into words and phrases. Quotes are the only
// syntax; every other character is text, and characters other than
// letters and digits around a word are dropped ("jardin*" is "jardin").
//
// What a text without a searchable word means is decided here: empty or
// "*" alone (as in most engines) is no text, every document the filters
// keep; emoji or punctuation alone, or French stop words alone, are
// refused with a message saying why, rather than answering everything or
// silently nothing.
func parseQuery(text string) (parsedQuery, error) {
	var q parsedQuery
	if !utf8.ValidString(text) {
		return q, queryError("La recherche contient des caractères invalides.")
	}
	if n := utf8.RuneCountInString(text); n > MaxQueryLen {
		return q, queryError(fmt.Sprintf("La recherche dépasse %d caractères (%d).", MaxQueryLen, n))
	}
	var cur strings.Builder
	var closing rune // the quote that ends the current phrase, 0 outside one
	flushWord := func() {
		if w := strings.TrimFunc(cur.String(), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); w != "" {
			q.words = append(q.words, w)
		}
		cur.Reset()
	}
	for _, r := range text {
		switch {
		case closing == 0 && (r == '"' || r == '«' || r == '“'):
			flushWord()
			closing = map[rune]rune{'"': '"', '«': '»', '“': '”'}[r]
		case closing != 0 && r == closing:
			if p := strings.TrimSpace(cur.String()); p != "" {
				q.phrases = append(q.phrases, p)
			}
			cur.Reset()
			closing = 0
		case closing == 0 && (r == '»' || r == '”'):
			return q, queryError("Guillemet fermant sans guillemet ouvrant dans la recherche.")
		case closing == 0 && unicode.IsSpace(r):
			flushWord()
		default:
			cur.WriteRune(r)
		}
	}
	if closing != 0 {
		return q, queryError("Guillemet non fermé dans la recherche : fermez l'expression entre guillemets.")
	}
	flushWord()
	if len(q.words)+len(q.phrases) > MaxWords {
		return q, queryError(fmt.Sprintf("La recherche compte plus de %d mots ou expressions.", MaxWords))
	}
	if q.empty() && strings.Trim(text, "* \t\r\n") != "" {
		// Only emoji, punctuation or symbols: answering everything, as if
		// nothing was typed, would pass for results of what was typed.
		return q, queryError("La recherche ne contient aucun mot : saisissez un métier, un lieu ou un nom.")
	}
	if !q.empty() && !slices.ContainsFunc(append(q.words, q.phrases...), func(w string) bool { return len(Tokens(w)) > 0 }) {
		// "de la", "les": words too common to be indexed, which would
		// match nothing.
		return q, queryError("La recherche ne contient que des mots trop courants (le, de, la…) : précisez un métier, un lieu ou un nom.")
	}
	return q, nil
}

// Relative weights of the query parts (tuned on the relevance suite).
const (
	boostCorrected  = 0.6     // the less likely reading of a word (see spelling)
	boostSynonym    = 2.0     // a ROME code reached through a job title
	boostWholeJob   = 3.0     // every query word in one job title
	minShouldFactor = 2.0 / 3 // share of the words a document must match
	// boostNameInJob replaces the weight of the organisation and place
	// names when the query reads as a job (a word of the job titles): a
	// plumber's post outranks the « Mairie de Plonéis ».
	boostNameInJob = 0.5
	// boostNameOfJobWord is the weight of an organisation's name matched
	// by a word of the job titles itself: mostly a name sharing its stem.
	boostNameOfJobWord = 0.1
	// commonShare is the share of documents above which a word is common
	// in a long field (see termInfo).
	commonShare = 0.15
)

// termInfo tells how a query token occurs in the index.
//
// A token that is common in a long field, the description or the ROME
// label ("agent" is in the label of half the documents, "entretien" in a
// fifth of the descriptions), is not looked for there when the query has
// other words: such a match says little, the other words and the title
// decide, and walking those long posting lists was most of the time of
// queries like "agent d'entretien des espaces verts". Alone, a word is
// looked for everywhere.
type termInfo struct {
	commonBody  bool
	commonLabel bool
}

// textQuery is the text of a request as bleve queries.
type textQuery struct {
	match query.Query // what a document must match, and its score
	// mark finds the words to highlight in the displayed fields: each
	// word, its corrections and the words of phrases, in any order. It is far
	// cheaper than match to run on a page of hits: no ROME codes, no
	// positions to compare.
	mark query.Query
}

// buildTextQuery turns the parsed text into bleve queries, or nil when
// there is no text (browse by filters only). lookup tells how a token
// occurs in the index; spellWord gives the readings of a word, as typed
// and corrected (see spell): a word matches by any of them, exactly, and
// the ROME expansion applies to each.
func buildTextQuery(pq parsedQuery, lookup func(string) termInfo, spellWord func(string) []spelling) *textQuery {
	if pq.empty() {
		return nil
	}
	syn := romeSynonyms()
	var clauses, must, marks []query.Query
	mark := func(t string) {
		for _, f := range textFields[:3] {
			tq := query.NewTermQuery(t)
			tq.SetField(f.name)
			marks = append(marks, tq)
		}
	}
	type reading struct {
		toks   []string
		info   []termInfo
		weight float64
		job    bool // a word of the job titles as written
	}
	var words [][]reading
	var typed, best []string // the tokens as typed, and of each word's likeliest reading
	jobLike := false
	for _, w := range pq.words {
		toks := Tokens(w)
		if len(toks) == 0 {
			continue // a stop word: "de", "la", "à"
		}
		if isPlaceName(w) && !slices.ContainsFunc(toks, syn.known) {
			// "espaces verts Bretagne": the place is a condition, not one
			// more word that may be missing.
			must = append(must, placeQuery(toks))
			continue
		}
		var rs []reading
		var likeliest reading
		for _, sp := range spellWord(w) {
			rd := reading{toks: Tokens(sp.text), weight: sp.weight}
			if len(rd.toks) == 0 {
				continue
			}
			for _, t := range rd.toks {
				rd.info = append(rd.info, lookup(t))
				mark(t)
				jobLike = jobLike || syn.known(t)
			}
			rd.job = slices.ContainsFunc(Words(sp.text), func(u string) bool { return syn.words[u] > 0 })
			rs = append(rs, rd)
			if rd.weight > likeliest.weight {
				likeliest = rd
			}
		}
		words = append(words, rs)
		typed = append(typed, toks...)
		best = append(best, likeliest.toks...)
	}
	// A query that is a job title as a whole ("agent d'entretien des
	// espaces verts", or once corrected "agent de bibliotèque") matches
	// the codes of that title directly; its words then need no expansion
	// of their own, which would mostly add noise ("entretien" alone is a
	// word of 37 ROME codes) and time.
	var whole []codeWeight
	if len(typed) > 1 {
		if whole = syn.expand(typed); whole == nil {
			whole = syn.expand(best)
		}
	}
	perWord := syn
	if whole != nil {
		perWord = nil
	}
	for _, rs := range words {
		var alts []query.Query
		for _, rd := range rs {
			var parts []query.Query
			for i, t := range rd.toks {
				info := rd.info[i]
				if len(words) == 1 {
					info.commonBody, info.commonLabel = false, false
				}
				parts = append(parts, tokenQuery(t, rd.weight, info, perWord, jobLike, rd.job))
			}
			alts = append(alts, all(parts))
		}
		if len(alts) == 1 {
			clauses = append(clauses, alts[0])
		} else {
			clauses = append(clauses, query.NewDisjunctionQuery(alts))
		}
	}
	for _, ph := range pq.phrases {
		if q := phraseQuery(ph); q != nil {
			must = append(must, q)
		}
		for _, t := range Tokens(ph) {
			mark(t)
		}
	}
	if len(clauses) > 0 {
		var text query.Query
		need := minShould(len(clauses))
		if whole != nil {
			// The codes of the job title find its posts that lack a
			// word; in the words, all of them then make a match.
			need = len(clauses)
		}
		if need == len(clauses) && len(clauses) > 1 {
			// Same matches and scores as a disjunction needing every
			// clause, but bleve leaps over the documents lacking one
			// instead of visiting every document that has any.
			text = query.NewConjunctionQuery(clauses)
		} else {
			d := query.NewDisjunctionQuery(clauses)
			d.SetMin(float64(need))
			text = d
		}
		if job := romeQuery(whole, boostWholeJob); job != nil {
			text = query.NewDisjunctionQuery([]query.Query{text, job})
		}
		must = append(must, text)
	}
	tq := &textQuery{match: query.NewMatchNoneQuery()} // only stop words
	if len(must) > 0 {
		tq.match = all(must)
	}
	if len(marks) > 0 {
		tq.mark = query.NewDisjunctionQuery(marks)
	}
	return tq
}

// all is the conjunction of qs, or qs[0] alone.
func all(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewConjunctionQuery(qs)
}

// phraseQuery matches the quoted text ph in the title, body or parent
// through their pair fields (see pairSuffix): every consecutive pair of
// its words, a single word as a word. A longer phrase could in principle
// match its pairs in different places of a text; in job titles and
// descriptions that is not seen. It returns nil for stop words alone.
func phraseQuery(ph string) query.Query {
	ps := pairs(ph)
	toks := Tokens(ph)
	if len(toks) == 0 {
		return nil
	}
	var alts []query.Query
	for _, f := range textFields[:3] {
		var parts []query.Query
		if len(ps) == 0 { // one word, maybe among stop words
			for _, t := range toks {
				tq := query.NewTermQuery(t)
				tq.SetField(f.name)
				tq.SetBoost(f.boost)
				parts = append(parts, tq)
			}
		} else {
			for _, p := range ps {
				tq := query.NewTermQuery(p)
				tq.SetField(f.name + pairSuffix)
				tq.SetBoost(f.boost)
				parts = append(parts, tq)
			}
		}
		if len(parts) == 1 {
			alts = append(alts, parts[0])
		} else {
			alts = append(alts, query.NewConjunctionQuery(parts))
		}
	}
	return query.NewDisjunctionQuery(alts)
}

// hiddenFrom returns what the audience of role may not see, nil when it
// sees everything. Excluding the few justice-only documents costs one
// short posting list per match, where requiring public ones walked the
// list of almost every document.
func hiddenFrom(role atigip.Role) query.Query {
	if role.Audience() == atigip.AudienceJustice {
		return nil
	}
	q := query.NewTermQuery(audJustice)
	q.SetField(fAudience)
	return q
}

// placeNames holds the normalized names of the régions, the départements
// and the communes of 20,000 inhabitants or more: a query word equal to one
// of them names a place. Smaller communes are left out because many are
// also common words ("Jardin", "Vert", "Bois"); a word of job titles
// ("maçon", not Mâcon) stays a word.
var placeNames = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, r := range refdata.Regions() {
		m[refdata.Normalize(r.Name)] = true
	}
	for _, d := range refdata.Departements() {
		m[refdata.Normalize(d.Name)] = true
	}
	for _, c := range refdata.Communes() {
		if c.Population >= 20000 && c.Kind == refdata.KindCommune {
			m[refdata.Normalize(c.NameWithArticle)] = true
		}
	}
	return m
})

func isPlaceName(w string) bool { return placeNames()[refdata.Normalize(w)] }

// placeQuery requires the tokens of a place name in the place field.
func placeQuery(toks []string) query.Query {
	parts := make([]query.Query, len(toks))
	for i, t := range toks {
		tq := query.NewTermQuery(t)
		tq.SetField(fPlace)
		tq.SetBoost(2)
		parts[i] = tq
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return query.NewConjunctionQuery(parts)
}

// minShould is how many of n words a document must match: all of one or
// two words, two of three, and so on ("tonte et taille des haies" finds
// hedge trimming that never mentions mowing).
func minShould(n int) int {
	if n <= 2 {
		return n
	}
	return int(math.Ceil(float64(n) * minShouldFactor))
}

// tokenQuery matches one analyzed token in the text fields (but the long
// ones where info says it is common) and through the job titles it
// appears in (unless syn is nil), its score scaled by weight. In a query
// that reads as a job, organisation and place names weigh less; a token of
// a word that is itself a job's is not looked for in place names, where
// it would only meet a commune sharing its stem ("trieur", « Trieux »):
// towns big enough to be searched by name are conditions (see
// placeQuery), and the commune filter names any.
func tokenQuery(t string, weight float64, info termInfo, syn *synonyms, jobLike, jobWord bool) query.Query {
	var codes []codeWeight
	if syn != nil {
		codes = syn.expand([]string{t})
	}
	var alts []query.Query
	for _, f := range textFields {
		if f.name == fBody && info.commonBody || f.name == fROMELabel && info.commonLabel || f.name == fPlace && jobWord {
			continue
		}
		if f.name == fROMELabel && len(codes) > 0 {
			// The same documents as the label's, found by their codes
			// (see labelRest); the expansion's codes are in alts already.
			if q := romeQuery(syn.labelRest(t, codes), f.boost*weight); q != nil {
				alts = append(alts, q)
			}
			continue
		}
		b := f.boost
		switch {
		case jobWord && f.name == fParent:
			b = boostNameOfJobWord
		case jobLike && (f.name == fParent || f.name == fPlace):
			b = boostNameInJob
		}
		tq := query.NewTermQuery(t)
		tq.SetField(f.name)
		tq.SetBoost(b * weight)
		alts = append(alts, tq)
	}
	if q := romeQuery(codes, boostSynonym*weight); q != nil {
		alts = append(alts, q)
	}
	return query.NewDisjunctionQuery(alts)
}

func romeQuery(codes []codeWeight, boost float64) query.Query {
	if len(codes) == 0 {
		return nil
	}
	alts := make([]query.Query, 0, len(codes))
	for _, c := range codes {
		tq := query.NewTermQuery(c.Code)
		tq.SetField(fROME)
		// Weight between half and all of boost: the best code of the job
		// title counts more than one sharing a single title with it.
		tq.SetBoost(boost * (0.5 + 0.5*c.Weight))
		alts = append(alts, tq)
	}
	return query.NewDisjunctionQuery(alts)
}

// buildFilter returns the filters of r as one query that weighs nothing in
// the score (see filterQuery); nil when nothing filters. The audience cut is
// apart (see hiddenFrom).
//
// The caller puts it in a conjunction with the text query rather than in
// bleve's BooleanQuery filter: bleve checks a filter on each document the
// text matched, so "espaces verts" in one département walked every
// "espaces verts" of France, whereas a conjunction leaps from one filtered
// document to the next.
func buildFilter(r *Request) query.Query {
	var fs []query.Query
	term := func(field, v string) query.Query {
		q := query.NewTermQuery(v)
		q.SetField(field)
		return q
	}
	anyOf := func(field string, vs []string) {
		if len(vs) == 0 {
			return
		}
		alts := make([]query.Query, len(vs))
		for i, v := range vs {
			alts[i] = term(field, v)
		}
		d := query.NewDisjunctionQuery(alts)
		fs = append(fs, d)
	}
	boolean := func(field string, v *bool) {
		if v != nil {
			q := query.NewBoolFieldQuery(*v)
			q.SetField(field)
			fs = append(fs, q)
		}
	}
	types := make([]string, len(r.Types))
	for i, t := range r.Types {
		types[i] = string(t)
	}
	anyOf(fType, types)
	if dep := r.departement(); dep != "" {
		fs = append(fs, term(fDepartement, dep))
	}
	if r.Region != "" {
		fs = append(fs, term(fRegion, r.Region))
	}
	if r.Commune != "" {
		fs = append(fs, term(fCommune, r.Commune))
	}
	var codes, domains []string
	for _, c := range r.ROME {
		if len(c) == 1 {
			domains = append(domains, c)
		} else {
			codes = append(codes, c)
		}
	}
	if len(codes)+len(domains) > 0 {
		var alts []query.Query
		for _, c := range codes {
			alts = append(alts, term(fROME, c))
		}
		for _, d := range domains {
			alts = append(alts, term(fROMEDomain, d))
		}
		d := query.NewDisjunctionQuery(alts)
		fs = append(fs, d)
	}
	boolean(fMinors, r.Minors)
	boolean(fWeekends, r.Weekends)
	boolean(fWheelchair, r.Wheelchair)
	boolean(fAvailable, r.Available)
	anyOf(fStatus, r.Status)
	if r.Near != nil && r.RadiusKm > 0 {
		g := query.NewGeoDistanceQuery(r.Near.Lon, r.Near.Lat, fmt.Sprintf("%gkm", r.RadiusKm))
		g.SetField(fLocation)
		fs = append(fs, g)
	}
	switch len(fs) {
	case 0:
		return nil // an empty conjunction would match nothing
	case 1:
		return filterQuery{fs[0]}
	}
	return filterQuery{query.NewConjunctionQuery(fs)}
}
