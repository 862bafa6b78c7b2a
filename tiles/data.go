package tiles

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/atigip/atigip360/internal/atigip"
)

// Data is what an engine draws: the store's organisations, posts, prisons
// and floor spaces. Engines never modify it.
type Data struct {
	Organisations []*atigip.Organisation
	Posts         []*atigip.Post
	Prisons       []*atigip.Prison
	FloorSpaces   []*atigip.FloorSpace
}

// audience indexes: records keep one property set per audience.
const (
	audPublic  = 0
	audJustice = 1
)

var audiences = [2]atigip.Audience{atigip.AudiencePublic, atigip.AudienceJustice}

func audIndex(a atigip.Audience) int {
	if a == atigip.AudienceJustice {
		return audJustice
	}
	return audPublic
}

// PostVisible says whether a post is on the map of audience a
// (atigip.Post.Listed: the rule search shares).
func PostVisible(p *atigip.Post, org *atigip.Organisation, a atigip.Audience) bool {
	return p.Listed(org, a)
}

// orgRec is what the posts layer shows of a host organisation, shared by
// all its posts.
type orgRec struct {
	active                                               bool
	name, kind                                           string
	contactName, contactRole, contactEmail, contactPhone string
}

func newOrgRec(o *atigip.Organisation, in interner) *orgRec {
	r := &orgRec{active: o.Active, name: in.get(o.Name), kind: atigip.OrganisationKinds[o.OrgKind]}
	if len(o.Contacts) > 0 {
		c := o.Contacts[0]
		r.contactName, r.contactRole = in.get(c.Name), in.get(c.Role)
		r.contactEmail, r.contactPhone = in.get(c.Email), in.get(c.Phone)
	}
	return r
}

// postRec is a post ready to draw: its attributes in typed fields with
// interned strings, so that posts sharing a city, a schedule or a host
// organisation store them once; tiles encode them on demand (postProps).
// Records are immutable once built: a change makes a new one.
type postRec struct {
	id, orgID int64
	x, y      float64 // normalised Web Mercator
	qk        uint64
	loc       atigip.Point
	org       *orgRec // nil when the organisation is unknown

	title, tasks, rome, city, commune, departement, schedule, address string

	status       atigip.PostStatus
	visibility   atigip.Visibility
	hoursPerWeek float64
	places       int32
	placesLeft   int32
	domains      uint16 // bit i: ROME domain 'A'+i
	// drawable: the post's own status and location allow it on a map,
	// whatever its organisation; the other fields are only set if so.
	drawable                                         bool
	visible                                          [2]bool
	minors, weekends, wheelchair, transport, medical bool
}

// interner shares equal strings between the records of one build.
type interner map[string]string

func (in interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

var dayNames = [8]string{"", "lun", "mar", "mer", "jeu", "ven", "sam", "dim"}

func scheduleText(s atigip.Schedule) string {
	var b strings.Builder
	for i, sl := range s.Slots {
		if i > 0 {
			b.WriteString(", ")
		}
		if sl.Day >= 1 && sl.Day <= 7 {
			b.WriteString(dayNames[sl.Day])
			b.WriteByte(' ')
		}
		b.WriteString(sl.Start)
		b.WriteString("–")
		b.WriteString(sl.End)
	}
	return b.String()
}

// excerpt cuts s to at most n runes on a word boundary.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

func domainBits(codes []string) uint16 {
	var d uint16
	for _, c := range codes {
		if c != "" && c[0] >= 'A' && c[0] <= 'N' {
			d |= 1 << (c[0] - 'A')
		}
	}
	return d
}

func domainString(d uint16) string {
	var b []byte
	for i := 0; i < 14; i++ {
		if d&(1<<i) != 0 {
			b = append(b, byte('A'+i))
		}
	}
	return string(b)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// whitelist keeps only the fields audience a may see on layer: the one
// guard between the domain and a tile.
func whitelist(layer string, a atigip.Audience, all geojson.Properties) geojson.Properties {
	allowed := fieldAllowed[a][layer]
	out := make(geojson.Properties, len(all))
	for k, v := range all {
		if allowed[k] {
			out[k] = v
		}
	}
	return out
}

// newPostRec draws post p of organisation org (nil if unknown).
func newPostRec(p *atigip.Post, org *orgRec, in interner) *postRec {
	r := &postRec{id: p.ID, orgID: p.OrganisationID, loc: p.Location}
	switch p.Status {
	case atigip.PostRegistered, atigip.PostOpen, atigip.PostFull:
		r.drawable = !p.Location.IsZero() && p.Location.Valid()
	}
	if !r.drawable {
		return r // no organisation change can show it: nothing else kept
	}
	r.x, r.y = pointMercator(p.Location)
	r.qk = quadkey(r.x, r.y)
	r.status, r.visibility = atigip.PostStatus(in.get(string(p.Status))), atigip.Visibility(in.get(string(p.Visibility)))
	r.minors, r.weekends = p.MinorsAccepted, p.Schedule.Weekends()
	r.wheelchair, r.transport = p.WheelchairAccess, p.PublicTransport
	r.medical = p.MedicalCheck || p.Risky || p.CareSetting
	r.domains = domainBits(p.ROMECodes)
	r.places, r.placesLeft = int32(p.Places), int32(p.PlacesLeft())
	r.hoursPerWeek = round1(p.Schedule.HoursPerWeek())
	r.title, r.rome = in.get(p.Title), in.get(strings.Join(p.ROMECodes, ","))
	r.city, r.commune, r.departement = in.get(p.Address.City), in.get(p.Address.Commune), in.get(p.Address.Departement)
	r.schedule = in.get(scheduleText(p.Schedule))
	r.tasks = in.get(excerpt(p.Description, 280))
	r.address = in.get(strings.TrimSpace(strings.Join(nonEmpty(p.Address.Street, p.Address.Postcode+" "+p.Address.City), ", ")))
	r.bind(org)
	return r
}

// bind attaches the post to its organisation and decides per audience
// whether it is on the map, as PostVisible does for domain values.
func (r *postRec) bind(org *orgRec) {
	r.org = org
	for i, a := range audiences {
		r.visible[i] = r.drawable && org != nil && org.active &&
			(r.visibility == atigip.VisibilityPublic || a == atigip.AudienceJustice)
	}
}

// rebound is a copy of r attached to org: records are never modified in
// place, since snapshots being read share them.
func (r *postRec) rebound(org *orgRec) *postRec {
	c := *r
	c.bind(org)
	return &c
}

// fieldSet is one layer's whitelist for one audience, indexed for the
// encoder.
type fieldSet map[string]bool

// postFields[aud] guards the attributes of single posts and clusters.
var postFields = [2]fieldSet{fieldAllowed[atigip.AudiencePublic][LayerPosts], fieldAllowed[atigip.AudienceJustice][LayerPosts]}

// put sets k only if the audience may see it: every attribute of a post
// or cluster goes through here on its way to a tile.
func (f fieldSet) put(p geojson.Properties, k string, v any) {
	if f[k] {
		p[k] = v
	}
}

func (f fieldSet) putString(p geojson.Properties, k, v string) {
	if v != "" && f[k] {
		p[k] = v
	}
}

// postProps are the attributes of single post r for audience aud.
func postProps(r *postRec, aud int) geojson.Properties {
	f := postFields[aud]
	p := make(geojson.Properties, 34)
	f.put(p, "cluster", false)
	f.put(p, "point_count", 1)
	f.put(p, "point_count_abbreviated", "1")
	f.put(p, "title", r.title)
	f.put(p, "rome", r.rome)
	f.put(p, "domains", domainString(r.domains))
	f.put(p, "city", r.city)
	f.put(p, "commune", r.commune)
	f.put(p, "departement", r.departement)
	f.put(p, "hours_per_week", r.hoursPerWeek)
	f.put(p, "schedule", r.schedule)
	f.put(p, "weekends", r.weekends)
	f.put(p, "minors_accepted", r.minors)
	f.put(p, "wheelchair_access", r.wheelchair)
	f.put(p, "public_transport", r.transport)
	f.put(p, "medical_check", r.medical)
	f.put(p, "status", string(r.status))
	f.put(p, "visibility", string(r.visibility))
	f.put(p, "places", int(r.places))
	f.put(p, "places_left", int(r.placesLeft))
	f.putString(p, "tasks", r.tasks)
	f.putString(p, "address", r.address)
	if o := r.org; o != nil {
		f.put(p, "organisation", o.name)
		f.put(p, "organisation_kind", o.kind)
		f.putString(p, "contact_name", o.contactName)
		f.putString(p, "contact_role", o.contactRole)
		f.putString(p, "contact_email", o.contactEmail)
		f.putString(p, "contact_phone", o.contactPhone)
	}
	return p
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func setNonEmpty(p geojson.Properties, k, v string) {
	if v != "" {
		p[k] = v
	}
}

// pointRec is a prison, drawn the same for both audiences but for the
// contact's name.
type pointRec struct {
	id    int64
	x, y  float64
	qk    uint64
	props [2]geojson.Properties
}

func newPrisonRec(p *atigip.Prison, floorSpaces int) *pointRec {
	r := &pointRec{id: p.ID}
	r.x, r.y = pointMercator(p.Location)
	r.qk = quadkey(r.x, r.y)
	all := geojson.Properties{
		"name":         p.Name,
		"type":         string(p.Type),
		"type_label":   atigip.PrisonTypes[p.Type],
		"disp":         p.DISP,
		"spip":         p.SPIP,
		"city":         p.Address.City,
		"departement":  p.Address.Departement,
		"capacity":     p.Capacity,
		"floor_spaces": floorSpaces,
	}
	setNonEmpty(all, "location_precision", p.LocationPrecision)
	// The service's mailbox and switchboard are public; the named
	// referent is for the justice audience, and their own e-mail and phone
	// are on no map.
	if c := p.ServiceContact; c != nil {
		setNonEmpty(all, "service", c.Name)
		setNonEmpty(all, "contact_email", c.Email)
		setNonEmpty(all, "contact_phone", c.Phone)
	}
	if c := p.Contact; c != nil {
		setNonEmpty(all, "contact_name", c.Name)
		setNonEmpty(all, "contact_role", c.Role)
	}
	for i, a := range audiences {
		r.props[i] = whitelist(LayerPrisons, a, all)
	}
	return r
}

// polyRec is a floor space in normalised Web Mercator, simplified once per
// zoom.
type polyRec struct {
	id    int64
	bound orb.Bound // normalised Web Mercator
	// geoms[z] is the geometry simplified for zoom z, up to len-1; deeper
	// zooms use the last one.
	geoms []orb.MultiPolygon
	// parts[z][i] is the bound of geoms[z][i], to skip the parts that miss
	// a tile without projecting them.
	parts [][]orb.Bound
	props geojson.Properties // public fields only: same for both audiences
}

func partBounds(levels []orb.MultiPolygon) [][]orb.Bound {
	out := make([][]orb.Bound, len(levels))
	for z, mp := range levels {
		out[z] = make([]orb.Bound, len(mp))
		for i, p := range mp {
			out[z][i] = p.Bound()
		}
	}
	return out
}

func floorSpaceProps(f *atigip.FloorSpace, prisonName string) geojson.Properties {
	all := geojson.Properties{
		"name":             f.Name,
		"prison_id":        f.PrisonID,
		"area_m2":          round1(f.AreaM2),
		"use":              string(f.Use),
		"use_label":        atigip.FloorUses[f.Use],
		"ceiling_height_m": round1(f.CeilingHeightM),
		"loading_dock":     f.LoadingDock,
		"power_kva":        round1(f.PowerKVA),
		"status":           string(f.Status),
		"status_label":     atigip.FloorStatuses[f.Status],
	}
	setNonEmpty(all, "prison", prisonName)
	if f.AvailableFrom != nil {
		all["available_from"] = f.AvailableFrom.Format("2006-01-02")
	}
	return whitelist(LayerFloorSpaces, atigip.AudiencePublic, all)
}

// polygonMercator converts a domain polygon to normalised Web Mercator.
func polygonMercator(p atigip.Polygon) orb.Polygon {
	out := make(orb.Polygon, 0, len(p))
	for _, ring := range p {
		r := make(orb.Ring, len(ring))
		for i, pt := range ring {
			x, y := pointMercator(pt)
			r[i] = orb.Point{x, y}
		}
		out = append(out, r)
	}
	return out
}

func abbreviate(n int) string {
	switch {
	case n >= 10000:
		return strconv.Itoa((n+500)/1000) + "k"
	case n >= 1000:
		s := strconv.FormatFloat(math.Round(float64(n)/100)/10, 'f', 1, 64)
		return strings.Replace(strings.TrimSuffix(s, ".0"), ".", ",", 1) + "k"
	}
	return strconv.Itoa(n)
}
