package search

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bdoc "github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Type is the kind of a search result, as exposed to users.
type Type string

// The indexed types. People, measures and applications are never indexed:
// the index has no access control of its own beyond the audience field, so
// personal data must simply not be in it.
const (
	TypePost         Type = "post"
	TypeOffer        Type = "offer"
	TypeOrganisation Type = "organisation"
	TypeFloorSpace   Type = "floor_space"
)

// Types lists the indexed types with their French labels.
var Types = map[Type]string{
	TypePost:         "Poste de TIG",
	TypeOffer:        "Offre en détention",
	TypeOrganisation: "Structure d'accueil",
	TypeFloorSpace:   "Surface d'implantation",
}

// TypeAll asks for every type a role may see, where no type asks for the
// role's default (see DefaultTypes).
const TypeAll Type = "all"

// DefaultTypes is what a role searches when it names no type: the people
// of TIG (judges, lawyers, referents, probation and youth-justice staff,
// host organisations) look for TIG posts and host organisations, CPIPs
// also for prison offers (they follow detainees too), businesses and
// prison staff for offers and floor spaces; the public and people every
// type. It keeps prison offers from crowding the posts a judge needs, and
// the reverse.
func DefaultTypes(role atigip.Role) []Type {
	switch role {
	case atigip.RoleMagistrate, atigip.RoleClerk, atigip.RoleLawyer, atigip.RoleReferent,
		atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleHost:
		return []Type{TypePost, TypeOrganisation}
	case atigip.RoleCPIP:
		return []Type{TypePost, TypeOrganisation, TypeOffer}
	case atigip.RoleBusiness, atigip.RolePrisonStaff:
		return []Type{TypeOffer, TypeFloorSpace}
	}
	return nil
}

var kindType = map[atigip.Kind]Type{
	atigip.KindPost:         TypePost,
	atigip.KindOffer:        TypeOffer,
	atigip.KindOrganisation: TypeOrganisation,
	atigip.KindFloorSpace:   TypeFloorSpace,
}

// indexed reports whether entities of kind k go into the index.
func indexed(k atigip.Kind) bool { _, ok := kindType[k]; return ok }

func docID(k atigip.Kind, id int64) string {
	return string(kindType[k]) + ":" + strconv.FormatInt(id, 10)
}

func parseDocID(s string) (Type, int64, bool) {
	t, n, ok := strings.Cut(s, ":")
	if !ok {
		return "", 0, false
	}
	id, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return Type(t), id, true
}

// Audience values stored on documents: public documents are visible to
// every audience, justice documents to justice professionals only.
const (
	audPublic  = string(atigip.AudiencePublic)
	audJustice = string(atigip.AudienceJustice)
)

// document is what bleve indexes; the json names are the field names of
// mapping.go.
type document struct {
	Type        string    `json:"type"`
	Subtype     string    `json:"subtype,omitempty"`
	Audience    string    `json:"audience"`
	Title       string    `json:"title"`
	Body        string    `json:"body,omitempty"`
	Parent      string    `json:"parent,omitempty"`
	Place       string    `json:"place,omitempty"`
	City        string    `json:"city,omitempty"`
	ROME        []string  `json:"rome,omitempty"`
	ROMEDomain  []string  `json:"rome_domain,omitempty"`
	ROMELabel   string    `json:"rome_label,omitempty"`
	Departement string    `json:"departement,omitempty"`
	Region      string    `json:"region,omitempty"`
	Commune     []string  `json:"commune,omitempty"`  // INSEE code, and the city's of an arrondissement
	Location    []float64 `json:"location,omitempty"` // lon, lat
	Lat         *float64  `json:"lat,omitempty"`
	Lon         *float64  `json:"lon,omitempty"`
	Minors      bool      `json:"minors"`
	Weekends    bool      `json:"weekends"`
	Wheelchair  bool      `json:"wheelchair"`
	Available   bool      `json:"available"`
	PlacesLeft  *float64  `json:"places_left,omitempty"`
	Status      string    `json:"status"`
	Updated     time.Time `json:"updated"`
	UpdatedKey  string    `json:"updated_key"`
	Facet       []string  `json:"facet"`
	Words       string    `json:"words"`
}

// rawDocValues are the fields whose doc values are read for every match of
// a query: the facet counts and the date order. They are kept
// uncompressed, one document a chunk, as bleve keeps those of geo points:
// compressed by chunks of a thousand documents, a query with a few matches
// in each chunk decompressed them all, which cost more than the counting.
// They are short, a few dozen bytes a document.
var rawDocValues = map[string]bool{fFacet: true, fUpdatedKey: true}

// indexDoc adds d to b under id; see rawDocValues.
func indexDoc(b *bleve.Batch, m mapping.IndexMapping, id string, d document) error {
	doc := bdoc.NewDocument(id)
	if err := m.MapDocument(doc, d); err != nil {
		return err
	}
	for i, f := range doc.Fields {
		if tf, ok := f.(*bdoc.TextField); ok && rawDocValues[f.Name()] {
			doc.Fields[i] = bdoc.NewTextFieldCustom(tf.Name(), tf.ArrayPositions(), tf.Value(),
				tf.Options()|index.SkipDVCompression|index.SkipDVChunking, tf.Analyzer())
		}
	}
	return b.IndexAdvanced(doc)
}

// facetDefs are the facets of a result and the one-byte key naming each in
// the facet field (see fFacet). Bleve decompresses and counts the facet
// values of every match, so they are kept short: "d35" rather than
// "departement=35". A flag is stored only when true: every document has
// all four, so its false count is the total less the true one.
var facetDefs = []struct {
	name string
	key  byte
	flag bool
}{
	{fType, 't', false},
	{fDepartement, 'd', false},
	{fRegion, 'r', false},
	{fROMEDomain, 'o', false},
	{fStatus, 's', false},
	{fMinors, 'm', true},
	{fWeekends, 'w', true},
	{fWheelchair, 'h', true},
	{fAvailable, 'a', true},
}

// facetKey returns the key of the facet name.
func facetKey(name string) byte {
	for _, f := range facetDefs {
		if f.name == name {
			return f.key
		}
	}
	panic("search: unknown facet " + name)
}

// setFacets fills the facet field from the other fields; see facetDefs.
func (d *document) setFacets() {
	add := func(name, v string) {
		if v != "" {
			d.Facet = append(d.Facet, string(facetKey(name))+v)
		}
	}
	flag := func(name string, b bool) {
		if b {
			d.Facet = append(d.Facet, string(facetKey(name)))
		}
	}
	add(fType, d.Type)
	add(fDepartement, d.Departement)
	add(fRegion, d.Region)
	for _, r := range d.ROMEDomain {
		add(fROMEDomain, r)
	}
	add(fStatus, d.Status)
	flag(fMinors, d.Minors)
	flag(fWeekends, d.Weekends)
	flag(fWheelchair, d.Wheelchair)
	flag(fAvailable, d.Available)
}

// parents resolves the names of organisations and prisons that posts,
// offers and floor spaces display and are searched by, caching them for
// the duration of one batch.
type parents struct {
	tx      atigip.Tx
	orgs    map[int64]*atigip.Organisation
	prisons map[int64]*atigip.Prison
}

func newParents(tx atigip.Tx) *parents {
	return &parents{tx: tx, orgs: map[int64]*atigip.Organisation{}, prisons: map[int64]*atigip.Prison{}}
}

func (p *parents) org(ctx context.Context, id int64) (*atigip.Organisation, error) {
	if o, ok := p.orgs[id]; ok {
		return o, nil
	}
	o, err := atigip.Of[*atigip.Organisation](p.tx).Get(ctx, id)
	if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
		return nil, fmt.Errorf("search: organisation %d: %w", id, err)
	}
	p.orgs[id] = o // nil when missing: the child is still indexed
	return o, nil
}

func (p *parents) prison(ctx context.Context, id int64) (*atigip.Prison, error) {
	if id <= 0 {
		return nil, nil
	}
	if x, ok := p.prisons[id]; ok {
		return x, nil
	}
	x, err := atigip.Of[*atigip.Prison](p.tx).Get(ctx, id)
	if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
		return nil, fmt.Errorf("search: prison %d: %w", id, err)
	}
	p.prisons[id] = x
	return x, nil
}

// buildDocument turns an entity into its document; ok is false for kinds
// that are not indexed.
func buildDocument(ctx context.Context, e atigip.Entity, ps *parents) (document, bool, error) {
	var d document
	switch v := e.(type) {
	case *atigip.Post:
		d = document{Type: string(TypePost), Title: v.Title, Body: v.Description,
			Minors: v.MinorsAccepted, Wheelchair: v.WheelchairAccess, Weekends: v.Schedule.Weekends(),
			Available: v.Status == atigip.PostOpen && v.PlacesLeft() > 0, Status: string(v.Status)}
		left := float64(v.PlacesLeft())
		d.PlacesLeft = &left
		o, err := ps.org(ctx, v.OrganisationID)
		if err != nil {
			return d, false, err
		}
		// The public finds what the public map shows; professionals find
		// every post, closed and draft ones included.
		d.Audience = audJustice
		if v.Listed(o, atigip.AudiencePublic) {
			d.Audience = audPublic
		}
		if o != nil {
			d.Parent = o.Name
			d.Subtype = string(o.OrgKind)
		}
		d.setROME(v.ROMECodes)
		d.setPlace(v.Address, v.Location)
	case *atigip.Offer:
		d = document{Type: string(TypeOffer), Subtype: string(v.OfferKind), Audience: audJustice,
			Title: v.Title, Body: joinText(v.Description, v.EmployerName, atigip.OfferKinds[v.OfferKind]),
			Weekends: v.Schedule.Weekends(), Status: string(v.Status),
			Available: v.Status == atigip.OfferOpen && v.PlacesLeft() > 0}
		if v.Listed(atigip.AudiencePublic) {
			d.Audience = audPublic // one a person can apply to
		}
		left := float64(v.PlacesLeft())
		d.PlacesLeft = &left
		pr, err := ps.prison(ctx, v.PrisonID)
		if err != nil {
			return d, false, err
		}
		addr := v.Address
		if pr != nil {
			d.Parent = pr.Name
			if addr.Commune == "" {
				addr = pr.Address
			}
		}
		d.setROME(v.ROMECodes)
		d.setPlace(addr, v.Location)
	case *atigip.Organisation:
		// The name is indexed as the name of a parent, not as a title:
		// a job's title outranks an organisation's name for a query that
		// reads as a job ("trieur" and the Mairie de Trieux). Hits show
		// it as the title (see toHit).
		d = document{Type: string(TypeOrganisation), Subtype: string(v.OrgKind), Parent: v.Name,
			Body:   joinText(atigip.OrganisationKinds[v.OrgKind], atigip.HabilitationStatuses[v.Habilitation.Status]),
			Status: string(v.Habilitation.Status)}
		// The public sees active, habilitated host organisations only: a
		// prospect of the referents' CRM is not a structure d'accueil yet.
		d.Audience = audJustice
		if v.Active && v.Habilitation.Status == atigip.HabHabilitated {
			d.Audience = audPublic
		}
		d.setPlace(v.Address, v.Location)
	case *atigip.FloorSpace:
		d = document{Type: string(TypeFloorSpace), Subtype: string(v.Use), Audience: audPublic,
			Title: v.Name, Body: joinText(v.Description, atigip.FloorUses[v.Use]),
			Status: string(v.Status), Available: v.Status == atigip.FloorAvailable}
		pr, err := ps.prison(ctx, v.PrisonID)
		if err != nil {
			return d, false, err
		}
		addr := atigip.Address{Departement: v.Departement, Commune: v.Commune}
		if pr != nil {
			d.Parent = pr.Name
			if addr.Commune == "" || addr.Commune == pr.Address.Commune {
				addr = pr.Address
			}
		}
		d.setPlace(addr, centroid(v.Geometry))
	default:
		return d, false, nil
	}
	d.setFacets()
	d.Words = joinText(d.Title, d.Body, d.Parent, d.Place, d.ROMELabel)
	m := e.GetMeta()
	d.Updated = m.UpdatedAt
	if d.Updated.IsZero() {
		d.Updated = m.CreatedAt
	}
	d.UpdatedKey = d.Updated.UTC().Format(updatedKeyLayout)
	return d, true, nil
}

// updatedKeyLayout sorts like the time it formats; see fUpdatedKey.
const updatedKeyLayout = "20060102150405"

func (d *document) setROME(codes []string) {
	var labels []string
	seen := map[string]bool{}
	for _, c := range codes {
		d.ROME = append(d.ROME, c)
		if len(c) > 0 && !seen[c[:1]] {
			seen[c[:1]] = true
			d.ROMEDomain = append(d.ROMEDomain, c[:1])
		}
		if r, ok := refdata.ROMEByCode(c); ok {
			label, dp, dpLabel := romeLabels(r)
			labels = append(labels, label)
			if dp != "" && !seen[dp] {
				seen[dp] = true
				labels = append(labels, dpLabel)
			}
		}
	}
	d.ROMELabel = strings.Join(labels, " ; ")
}

// romeLabels are what a ROME code puts in a document's ROME label: its
// own label and its domaine professionnel's (code and label; "" when
// unknown), once per document. The synonyms' labelCodes read the same.
func romeLabels(r refdata.ROMECode) (label, dp, dpLabel string) {
	if d, ok := refdata.DomaineProByCode(r.DomainePro); ok {
		return r.Label, d.Code, d.Label
	}
	return r.Label, "", ""
}

// setPlace fills the administrative codes (completing the région and the
// commune name from the référentiel when the address lacks them), the
// searchable place names and the position.
func (d *document) setPlace(a atigip.Address, pt atigip.Point) {
	d.Departement, d.Region = a.Departement, a.Region
	d.Commune = nil
	if a.Commune != "" {
		d.Commune = []string{a.Commune}
	}
	city := a.City
	if c, ok := refdata.CommuneByINSEE(a.Commune); ok {
		city = c.NameWithArticle
		if c.Parent != "" {
			// An arrondissement of Paris, Lyon or Marseille: the commune
			// filter of the whole city finds it too.
			d.Commune = append(d.Commune, c.Parent)
		}
		if d.Departement == "" {
			d.Departement = c.Departement
		}
		if d.Region == "" {
			d.Region = c.Region
		}
	}
	var place []string
	if city != "" {
		place = append(place, city)
	}
	if a.Postcode != "" {
		place = append(place, a.Postcode)
	}
	if dep, ok := refdata.DepartementByCode(d.Departement); ok {
		place = append(place, dep.NameWithArticle)
		if d.Region == "" {
			d.Region = dep.Region
		}
	}
	if reg, ok := refdata.RegionByCode(d.Region); ok {
		place = append(place, reg.NameWithArticle)
	}
	d.City = city
	d.Place = strings.Join(place, " ; ")
	if !pt.IsZero() && pt.Valid() {
		lon, lat := pt.Lon, pt.Lat
		d.Location = []float64{lon, lat}
		d.Lon, d.Lat = &lon, &lat
	}
}

// centroid is the mean of the outer ring's vertices: a floor space is a
// small building footprint, for which that is close enough to place a pin.
func centroid(p atigip.Polygon) atigip.Point {
	if len(p) == 0 || len(p[0]) < 2 {
		return atigip.Point{}
	}
	ring := p[0][:len(p[0])-1] // closed ring: the last point repeats the first
	var c atigip.Point
	for _, pt := range ring {
		c.Lon += pt.Lon
		c.Lat += pt.Lat
	}
	c.Lon /= float64(len(ring))
	c.Lat /= float64(len(ring))
	return c
}

func joinText(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p)
	}
	return b.String()
}
