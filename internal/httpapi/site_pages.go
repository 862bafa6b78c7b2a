package httpapi

import (
	"cmp"
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
)

// dayLine is one day of a timetable, in French.
type dayLine struct{ Day, Hours string }

// days groups a schedule by day: « lundi : 8 h 30 – 12 h, 14 h – 17 h ».
func days(sc atigip.Schedule) []dayLine {
	var out []dayLine
	for d := 1; d <= 7; d++ {
		var parts []string
		for _, sl := range sc.Slots {
			if sl.Day == d {
				parts = append(parts, frfmt.Clock(sl.Start)+" – "+frfmt.Clock(sl.End))
			}
		}
		if len(parts) > 0 {
			day := frfmt.Day(d)
			out = append(out, dayLine{Day: strings.ToUpper(day[:1]) + day[1:], Hours: strings.Join(parts, ", ")})
		}
	}
	return out
}

func weekends(sc atigip.Schedule) bool {
	return slices.ContainsFunc(sc.Slots, func(s atigip.Slot) bool { return s.Day >= 6 })
}

// postSheet is the content of /postes/{id}.
type postSheet struct {
	Post         *atigip.Post
	Org          *atigip.Organisation
	OrgKind      string
	Justice      bool
	StatusLabel  string
	Days         []dayLine
	HoursPerWeek float64
	Weekends     bool
	PlacesLeft   int
	Contacts     []atigip.Contact
	Jobs         []string
	Share        string
}

// listedPost returns post id and its organisation if p's audience may
// see it (Post.Listed), else ENOTFOUND: a post the role may not see does
// not exist for it.
func listedPost(ctx context.Context, st atigip.Store, p atigip.Principal, id int64) (*atigip.Post, *atigip.Organisation, error) {
	gone := atigip.Errorf(atigip.ENOTFOUND, "Ce poste n'existe pas ou n'est plus proposé.")
	post, err := atigip.Of[*atigip.Post](st).Get(ctx, id)
	if atigip.ErrorCode(err) == atigip.ENOTFOUND {
		return nil, nil, gone
	} else if err != nil {
		return nil, nil, err
	}
	org, err := atigip.Of[*atigip.Organisation](st).Get(ctx, post.OrganisationID)
	if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
		return nil, nil, err
	}
	if err != nil || !post.Listed(org, p.Role.Audience()) {
		return nil, nil, gone
	}
	return post, org, nil
}

func (m SiteModule) post(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Ce poste n'existe pas."))
		}
		p := s.Principal(c)
		post, org, err := listedPost(c.UserContext(), s.store, p, id)
		if err != nil {
			return s.Problem(c, err)
		}
		sh := postSheet{Post: post, Org: org, OrgKind: atigip.OrganisationKinds[org.OrgKind],
			Justice: p.Role.Audience() == atigip.AudienceJustice, StatusLabel: atigip.PostStatuses[post.Status],
			Days: days(post.Schedule), HoursPerWeek: post.Schedule.HoursPerWeek(), Weekends: weekends(post.Schedule),
			PlacesLeft: post.PlacesLeft(), Share: c.BaseURL() + "/postes/" + strconv.FormatInt(post.ID, 10)}
		if sh.Justice {
			sh.Contacts = org.Contacts
		}
		for _, code := range post.ROMECodes {
			if r, ok := refdata.ROMEByCode(code); ok {
				sh.Jobs = append(sh.Jobs, r.Label+" ("+code+")")
			} else {
				sh.Jobs = append(sh.Jobs, code)
			}
		}
		return s.page(c, fiber.StatusOK, "poste", s.layout(c, post.Title, "", web.Crumb{Label: "Carte des postes", URL: "/"}), sh)
	}
}

// prisonSheet is the content of /etablissements/{id}.
type prisonSheet struct {
	Prison     *atigip.Prison
	TypeLabel  string
	DISP       string
	Floors     []*atigip.FloorSpace
	Offers     []offerLine
	Contact    *atigip.Contact
	CanRequest bool
	Form       contactForm
	Errors     []atigip.FieldError
	Sent       int64
	Requests   []*atigip.ContactRequest
}

type offerLine struct {
	*atigip.Offer
	PlacesLeft int
}

type contactForm struct {
	Company, Email, Phone, Message string
	FloorSpaceID                   int64
}

// readsRequests reports whether p handles the contact requests of prison
// pr: its staff, or national prison staff of its département.
func readsRequests(p atigip.Principal, pr *atigip.Prison) bool {
	if p.Role != atigip.RolePrisonStaff {
		return false
	}
	if p.PrisonID != 0 {
		return p.PrisonID == pr.ID
	}
	return p.Departement == "" || p.Departement == pr.Address.Departement
}

func (m SiteModule) prisonSheet(c *fiber.Ctx, s *Server) (*prisonSheet, error) {
	id, err := parseID(c)
	if err != nil {
		return nil, atigip.Errorf(atigip.ENOTFOUND, "Cet établissement n'existe pas.")
	}
	ctx, p := c.UserContext(), s.Principal(c)
	pr, err := atigip.Of[*atigip.Prison](s.store).Get(ctx, id)
	if err != nil {
		return nil, err
	}
	sh := &prisonSheet{Prison: pr, TypeLabel: atigip.PrisonTypes[pr.Type], CanRequest: p.Role == atigip.RoleBusiness}
	if d, ok := refdata.DISPByCode(pr.DISP); ok {
		sh.DISP = d.Name
	} else {
		sh.DISP = pr.DISP
	}
	if sh.Floors, err = atigip.Of[*atigip.FloorSpace](s.store).All(ctx, atigip.ListFilter{Parent: id}); err != nil {
		return nil, err
	}
	offers, err := atigip.Of[*atigip.Offer](s.store).All(ctx, atigip.ListFilter{Parent: id, Status: []string{string(atigip.OfferOpen)}})
	if err != nil {
		return nil, err
	}
	for _, o := range offers {
		if o.OfferKind == atigip.OfferWork || o.OfferKind == atigip.OfferTraining {
			sh.Offers = append(sh.Offers, offerLine{o, o.PlacesLeft()})
		}
	}
	if pr.Contact != nil {
		ct := *pr.Contact
		if p.Role.Audience() != atigip.AudienceJustice {
			// A service, never a named person, for the public and
			// businesses: the agent's name and personal address stay
			// out; businesses write through the contact request.
			ct.Name, ct.Email = "", ""
		}
		sh.Contact = &ct
	}
	if readsRequests(p, pr) {
		if sh.Requests, err = atigip.Of[*atigip.ContactRequest](s.store).All(ctx, atigip.ListFilter{Parent: id}); err != nil {
			return nil, err
		}
		slices.Reverse(sh.Requests)
	}
	return sh, nil
}

func (m SiteModule) renderPrison(c *fiber.Ctx, s *Server, status int, sh *prisonSheet) error {
	l := s.layout(c, sh.Prison.Name, "surfaces", web.Crumb{Label: "Surfaces d'implantation", URL: "/surfaces"})
	if sh.CanRequest {
		l.CSRF = s.csrfToken(c)
	}
	return s.page(c, status, "etablissement", l, sh)
}

func (m SiteModule) prison(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sh, err := m.prisonSheet(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		if n, err := strconv.ParseInt(c.Query("envoye"), 10, 64); err == nil && n > 0 && sh.CanRequest {
			sh.Sent = n
		}
		return m.renderPrison(c, s, fiber.StatusOK, sh)
	}
}

// contact stores a business's contact request, after the CSRF check.
func (m SiteModule) contact(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, atigip.Errorf(atigip.EFORBIDDEN, "Le formulaire a expiré ou ne vient pas de ce site : rechargez la page et envoyez-le de nouveau."))
		}
		sh, err := m.prisonSheet(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		p := s.Principal(c)
		sh.Form = contactForm{Company: strings.TrimSpace(c.FormValue("company")), Email: strings.TrimSpace(c.FormValue("email")),
			Phone: strings.TrimSpace(c.FormValue("phone")), Message: strings.TrimSpace(c.FormValue("message"))}
		req := &atigip.ContactRequest{PrisonID: sh.Prison.ID, Company: sh.Form.Company, SIRET: p.SIRET, Email: sh.Form.Email,
			Phone: sh.Form.Phone, Message: sh.Form.Message, Subject: p.Subject, Departement: sh.Prison.Address.Departement}
		if v := c.FormValue("floor_space_id"); v != "" {
			fid, err := strconv.ParseInt(v, 10, 64)
			if err != nil || !slices.ContainsFunc(sh.Floors, func(f *atigip.FloorSpace) bool { return f.ID == fid }) {
				sh.Errors = append(sh.Errors, atigip.FieldError{Field: "floor_space_id", Message: "Choisissez une surface de cet établissement."})
			}
			req.FloorSpaceID, sh.Form.FloorSpaceID = fid, fid
		}
		if err := req.Validate(); err != nil {
			sh.Errors = append(sh.Errors, atigip.ErrorFields(err)...)
		}
		if len(sh.Errors) > 0 {
			return m.renderPrison(c, s, fiber.StatusBadRequest, sh)
		}
		if err := atigip.Of[*atigip.ContactRequest](s.store).Create(c.UserContext(), req); err != nil {
			return s.Problem(c, err)
		}
		return c.Redirect("/etablissements/"+strconv.FormatInt(sh.Prison.ID, 10)+"?envoye="+strconv.FormatInt(req.ID, 10)+"#demande",
			fiber.StatusSeeOther)
	}
}

// floorQuery is the floor-space search form, as typed.
type floorQuery struct {
	SurfaceMin, SurfaceMax, HeightMin, PowerMin string
	Dock                                        bool
	Use, Region, Departement, Available         string
}

type floorHit struct {
	Floor      *atigip.FloorSpace
	PrisonName string
	City       string
	Lon, Lat   float64
}

type floorSearch struct {
	Q            floorQuery
	Uses         []web.Domain
	Regions      []web.Domain
	Departements []web.Domain
	Results      []floorHit
	Errors       []atigip.FieldError
}

// maxFloorHits bounds the floor-space list (about 600 in the country).
const maxFloorHits = 300

func (m SiteModule) floors(s *Server) fiber.Handler {
	uses := []web.Domain{}
	for _, u := range []atigip.FloorUse{atigip.UseProduction, atigip.UseStorage, atigip.UseOffice} {
		uses = append(uses, web.Domain{Code: string(u), Label: atigip.FloorUses[u]})
	}
	return func(c *fiber.Ctx) error {
		q := floorQuery{SurfaceMin: c.Query("surface_min"), SurfaceMax: c.Query("surface_max"), HeightMin: c.Query("hauteur_min"),
			PowerMin: c.Query("puissance_min"), Dock: c.Query("quai") != "", Use: c.Query("usage"), Region: c.Query("region"),
			Departement: c.Query("departement"), Available: c.Query("disponible")}
		fs := floorSearch{Q: q, Uses: uses, Regions: regionChoices(), Departements: departementChoices()}
		var pr atigip.Problems
		num := func(field, v, label string) float64 {
			if v == "" {
				return math.NaN()
			}
			f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
			if err != nil || f < 0 {
				pr.Add(field, "%s : nombre positif attendu.", label)
				return math.NaN()
			}
			return f
		}
		smin, smax := num("surface_min", q.SurfaceMin, "Superficie minimale"), num("surface_max", q.SurfaceMax, "Superficie maximale")
		hmin, pmin := num("hauteur_min", q.HeightMin, "Hauteur minimale"), num("puissance_min", q.PowerMin, "Puissance minimale")
		pr.Check(smin > smax, "surface_max", "La superficie maximale est inférieure à la minimale.")
		var avail time.Time
		if q.Available != "" {
			t, err := time.Parse("2006-01-02", q.Available)
			pr.Check(err != nil, "disponible", "Date de disponibilité invalide (JJ/MM/AAAA).")
			avail = t
		}
		pr.Check(q.Use != "" && atigip.FloorUses[atigip.FloorUse(q.Use)] == "", "usage", "Activité inconnue.")
		if q.Departement != "" {
			_, ok := refdata.DepartementByCode(q.Departement)
			pr.Check(!ok, "departement", "Département inconnu.")
		}
		if q.Region != "" {
			_, ok := refdata.RegionByCode(q.Region)
			pr.Check(!ok, "region", "Région inconnue.")
		}
		if err := pr.Err("Recherche de surfaces"); err != nil {
			fs.Errors = atigip.ErrorFields(err)
			return s.page(c, fiber.StatusBadRequest, "surfaces", s.layout(c, "Surfaces d'implantation", "surfaces"), fs)
		}
		ctx := c.UserContext()
		prisons := map[int64]*atigip.Prison{}
		err := atigip.Of[*atigip.Prison](s.store).Scan(ctx, atigip.ListFilter{Departement: q.Departement}, func(p *atigip.Prison) error {
			if q.Region == "" || p.Address.Region == q.Region || regionOf(p.Address.Departement) == q.Region {
				prisons[p.ID] = p
			}
			return nil
		})
		if err != nil {
			return s.Problem(c, err)
		}
		errFull := errors.New("full")
		err = atigip.Of[*atigip.FloorSpace](s.store).Scan(ctx, atigip.ListFilter{Departement: q.Departement,
			Status: []string{string(atigip.FloorAvailable)}}, func(f *atigip.FloorSpace) error {
			p := prisons[f.PrisonID]
			switch {
			case p == nil, !math.IsNaN(smin) && f.AreaM2 < smin, !math.IsNaN(smax) && f.AreaM2 > smax,
				!math.IsNaN(hmin) && f.CeilingHeightM < hmin, !math.IsNaN(pmin) && f.PowerKVA < pmin,
				q.Dock && !f.LoadingDock, q.Use != "" && string(f.Use) != q.Use,
				!avail.IsZero() && f.AvailableFrom != nil && f.AvailableFrom.After(avail):
				return nil
			}
			fs.Results = append(fs.Results, floorHit{Floor: f, PrisonName: p.Name, City: p.Address.City, Lon: p.Location.Lon, Lat: p.Location.Lat})
			if len(fs.Results) >= maxFloorHits {
				return errFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errFull) {
			return s.Problem(c, err)
		}
		slices.SortStableFunc(fs.Results, func(a, b floorHit) int {
			return strings.Compare(a.Floor.Departement+a.PrisonName, b.Floor.Departement+b.PrisonName)
		})
		return s.page(c, fiber.StatusOK, "surfaces", s.layout(c, "Surfaces d'implantation", "surfaces"), fs)
	}
}

func regionOf(dep string) string {
	d, _ := refdata.DepartementByCode(dep)
	return d.Region
}

func regionChoices() []web.Domain {
	var out []web.Domain
	for _, r := range refdata.Regions() {
		out = append(out, web.Domain{Code: r.Code, Label: r.Name})
	}
	slices.SortFunc(out, func(a, b web.Domain) int {
		return strings.Compare(refdata.Normalize(a.Label), refdata.Normalize(b.Label))
	})
	return out
}

func departementChoices() []web.Domain {
	var out []web.Domain
	for _, d := range refdata.Departements() {
		out = append(out, web.Domain{Code: d.Code, Label: d.Name, Lon: d.Lon, Lat: d.Lat})
	}
	return out
}

func domainChoices() []web.Domain {
	var out []web.Domain
	for _, d := range refdata.GrandDomaines() {
		out = append(out, web.Domain{Code: d.Code, Label: d.Label})
	}
	return out
}

// aroundQuery is the « Postes autour de… » form, as typed.
type aroundQuery struct {
	Place, Domain                                   string
	Radius                                          int
	Places, Minors, Weekends, Wheelchair, Transport bool
}

type aroundHit struct {
	Post       *atigip.Post
	Org        *atigip.Organisation
	DistanceKm float64
	Schedule   string
	Conditions string
	PlacesLeft int
	Contact    *atigip.Contact
}

type aroundPage struct {
	Q          aroundQuery
	Radii      []int
	Domains    []web.Domain
	Searched   bool
	LieuErreur string
	Where      string
	Criteria   string
	Results    []aroundHit
	Now        time.Time
}

var postcodeRe = regexp.MustCompile(`\b(\d{5}|2[AB]\d{3})\b`)

// locate finds the commune of a typed place: a postcode, an address with
// a postcode, or a commune name. Addresses are located at their commune's
// centre: the service has no street-level geocoder offline.
func locate(place string) (refdata.Commune, bool) {
	place = strings.TrimSpace(place)
	if pc := postcodeRe.FindString(place); pc != "" {
		city := strings.TrimSpace(place[strings.Index(place, pc)+len(pc):])
		if c, ok := refdata.Geocode(pc, city); ok {
			return c, true
		}
	}
	name, _, _ := strings.Cut(place, " (")
	if cs := refdata.CommunePrefix(name, 5); len(cs) > 0 {
		for _, c := range cs {
			if refdata.Normalize(c.Name) == refdata.Normalize(name) {
				return c, true
			}
		}
		return cs[0], true
	}
	return refdata.Commune{}, false
}

func (m SiteModule) around(s *Server) fiber.Handler {
	radii := []int{5, 10, 20, 30, 50}
	return func(c *fiber.Ctx) error {
		q := aroundQuery{Place: strings.TrimSpace(c.Query("lieu")), Domain: c.Query("domaine"), Radius: 10,
			Places: c.Query("places") != "", Minors: c.Query("mineurs") != "", Weekends: c.Query("weekends") != "",
			Wheelchair: c.Query("fauteuil") != "", Transport: c.Query("transports") != ""}
		if r, err := strconv.Atoi(c.Query("rayon")); err == nil && slices.Contains(radii, r) {
			q.Radius = r
		}
		pg := aroundPage{Q: q, Radii: radii, Domains: domainChoices(), Now: time.Now()}
		l := s.layout(c, "Postes disponibles autour de…", "autour")
		if q.Place == "" {
			if c.Query("lieu", "\x00") != "\x00" {
				pg.LieuErreur = "Indiquez une commune, un code postal ou une adresse."
				return s.page(c, fiber.StatusBadRequest, "autour", l, pg)
			}
			return s.page(c, fiber.StatusOK, "autour", l, pg)
		}
		cm, ok := locate(q.Place)
		if !ok {
			pg.LieuErreur = "Commune introuvable : vérifiez l'orthographe ou indiquez le code postal."
			return s.page(c, fiber.StatusBadRequest, "autour", l, pg)
		}
		pg.Searched, pg.Where = true, cm.NameWithArticle+" ("+cm.Departement+")"
		p := s.Principal(c)
		near, err := m.Engine.Near(p.Role.Audience(), "justice", atigip.Point{Lon: cm.Lon, Lat: cm.Lat}, float64(q.Radius), 2000)
		if err != nil {
			return s.Problem(c, err)
		}
		ids := make([]int64, len(near))
		dist := map[int64]float64{}
		for i, n := range near {
			ids[i], dist[n.ID] = n.ID, n.DistanceKm
		}
		ctx := c.UserContext()
		posts, err := atigip.Of[*atigip.Post](s.store).All(ctx, atigip.ListFilter{IDs: ids})
		if err != nil {
			return s.Problem(c, err)
		}
		orgs := map[int64]*atigip.Organisation{}
		for _, post := range posts {
			org, ok := orgs[post.OrganisationID]
			if !ok {
				org, _ = atigip.Of[*atigip.Organisation](s.store).Get(ctx, post.OrganisationID)
				orgs[post.OrganisationID] = org
			}
			if !post.Listed(org, p.Role.Audience()) || !aroundKeeps(q, post) {
				continue
			}
			h := aroundHit{Post: post, Org: org, DistanceKm: dist[post.ID], PlacesLeft: post.PlacesLeft(), Conditions: conditions(post)}
			var parts []string
			for _, d := range days(post.Schedule) {
				parts = append(parts, d.Day+" "+d.Hours)
			}
			h.Schedule = strings.Join(parts, " ; ")
			if len(org.Contacts) > 0 {
				h.Contact = &org.Contacts[0]
			}
			pg.Results = append(pg.Results, h)
		}
		slices.SortStableFunc(pg.Results, func(a, b aroundHit) int {
			return cmp.Compare(a.DistanceKm, b.DistanceKm)
		})
		var crit []string
		for _, cr := range []struct {
			on    bool
			label string
		}{{q.Domain != "", "domaine " + q.Domain}, {q.Places, "places restantes"}, {q.Minors, "mineurs acceptés"},
			{q.Weekends, "le week-end"}, {q.Wheelchair, "accessible en fauteuil"}, {q.Transport, "transports en commun"}} {
			if cr.on {
				crit = append(crit, cr.label)
			}
		}
		pg.Criteria = strings.Join(crit, ", ")
		return s.page(c, fiber.StatusOK, "autour", l, pg)
	}
}

// aroundKeeps applies the form's criteria to a post.
func aroundKeeps(q aroundQuery, p *atigip.Post) bool {
	if q.Domain != "" && !slices.ContainsFunc(p.ROMECodes, func(c string) bool { return strings.HasPrefix(c, q.Domain) }) {
		return false
	}
	return (!q.Places || p.PlacesLeft() > 0) && (!q.Minors || p.MinorsAccepted) && (!q.Weekends || weekends(p.Schedule)) &&
		(!q.Wheelchair || p.WheelchairAccess) && (!q.Transport || p.PublicTransport)
}

func conditions(p *atigip.Post) string {
	var out []string
	if p.MinorsAccepted {
		out = append(out, "mineurs acceptés")
	}
	if weekends(p.Schedule) {
		out = append(out, "week-end")
	}
	if p.WheelchairAccess {
		out = append(out, "accessible en fauteuil")
	}
	if p.PublicTransport {
		out = append(out, "transports en commun")
	}
	if p.MedicalCheck {
		out = append(out, "visite médicale")
	}
	return strings.Join(out, ", ")
}
