package httpapi

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
)

// Pagination bounds of list routes.
const (
	DefaultPerPage = 50
	MaxPerPage     = 200
)

// ListPage is the body of a list response.
type ListPage[T any] struct {
	Items []T `json:"items"`
	// Total is the number of entities matching the filters (all pages).
	Total   int `json:"total"`
	Page    int `json:"page,omitempty"` // with page/per_page
	PerPage int `json:"per_page"`
	Offset  int `json:"offset"`
	// NextAfter is the id to pass as ?after= for the next keyset page.
	NextAfter int64 `json:"next_after,omitempty"`
}

// KindPath is the URL segment of a kind: "floor_spaces" → "floor-spaces".
func KindPath(k atigip.Kind) string { return strings.ReplaceAll(string(k), "_", "-") }

// crudRoutes declares list, get, create, update and delete for every kind,
// with the roles of its policy.
func (s *Server) crudRoutes() []Route {
	var routes []Route
	for _, k := range atigip.Kinds {
		pol, ok := policies[k]
		if !ok {
			// A new kind without a policy must not be served by default.
			panic(fmt.Sprintf("httpapi: no role policy for kind %q", k))
		}
		base := "/api/" + KindPath(k)
		sample := atigip.New(k)
		tname := reflect.TypeOf(sample).Elem().Name()
		idParam := []Param{{Name: "id", In: "path", Type: "integer", Description: "Identifiant", Required: true}}
		routes = append(routes,
			Route{Method: fiber.MethodGet, Path: base, Roles: pol.read, Tag: string(k),
				Summary: "Lister (" + tname + ") avec filtres et pagination", Params: listParams(pol),
				Response: listSample(k), Handler: s.list(pol)},
			Route{Method: fiber.MethodGet, Path: base + "/:id", Roles: pol.read, Tag: string(k),
				Summary: "Lire un élément (" + tname + ")", Params: idParam, Response: sample, Handler: s.get(pol)},
			Route{Method: fiber.MethodPost, Path: base, Roles: pol.create, Tag: string(k),
				Summary: "Créer (" + tname + ")", Body: sample, Response: sample, Handler: s.create(pol)},
			Route{Method: fiber.MethodPut, Path: base + "/:id", Roles: pol.update, Tag: string(k),
				Summary: "Mettre à jour (" + tname + ") : la version lue est obligatoire (409 si périmée)",
				Params:  idParam, Body: sample, Response: sample, Handler: s.update(pol)},
			Route{Method: fiber.MethodDelete, Path: base + "/:id", Roles: pol.remove, Tag: string(k),
				Summary: "Supprimer (" + tname + ") à la version donnée",
				Params: append(idParam, Param{Name: "version", In: "query", Type: "integer", Required: true,
					Description: "Version lue (409 si périmée)"}),
				Handler: s.remove(pol)},
		)
	}
	return routes
}

// listSample returns a ListPage value of the kind's type, for OpenAPI.
func listSample(k atigip.Kind) any {
	switch k {
	case atigip.KindOrganisation:
		return ListPage[*atigip.Organisation]{}
	case atigip.KindPost:
		return ListPage[*atigip.Post]{}
	case atigip.KindPrison:
		return ListPage[*atigip.Prison]{}
	case atigip.KindFloorSpace:
		return ListPage[*atigip.FloorSpace]{}
	case atigip.KindOffer:
		return ListPage[*atigip.Offer]{}
	case atigip.KindPerson:
		return ListPage[*atigip.Person]{}
	case atigip.KindMeasure:
		return ListPage[*atigip.Measure]{}
	case atigip.KindApplication:
		return ListPage[*atigip.Application]{}
	}
	return ListPage[any]{}
}

func listParams(pol policy) []Param {
	ps := []Param{
		{Name: "page", Type: "integer", Description: "Numéro de page (1 par défaut)"},
		{Name: "per_page", Type: "integer", Description: "Éléments par page (50 par défaut, 200 au plus)"},
		{Name: "limit", Type: "integer", Description: "Alternative à per_page"},
		{Name: "offset", Type: "integer", Description: "Alternative à page : éléments à sauter"},
		{Name: "after", Type: "integer", Description: "Pagination par curseur : identifiants strictement supérieurs"},
		{Name: "departement", Type: "string", Description: "Code INSEE du département (69, 2A, 971)"},
		{Name: "commune", Type: "string", Description: "Code INSEE de la commune"},
		{Name: "status", Type: "string", Description: "Statut ou état ; plusieurs séparés par des virgules"},
		{Name: "rome", Type: "string", Description: "Code ROME (A1203) ou lettre de domaine (A)"},
	}
	if pol.parent != "" {
		ps = append(ps, Param{Name: pol.parent, Type: "integer", Description: "Identifiant du parent"})
	}
	if pol.kind == atigip.KindApplication {
		ps = append(ps, Param{Name: "person_id", Type: "integer", Description: "Candidatures d'une personne"})
	}
	return ps
}

// listQuery is a parsed list request.
type listQuery struct {
	filter  atigip.ListFilter
	page    int // 0 when offset/limit were used
	perPage int
}

func invalidParam(name, format string, args ...any) error {
	return &atigip.Error{Code: atigip.EINVALID, Message: "Paramètre de requête invalide.",
		Fields: []atigip.FieldError{{Field: name, Message: fmt.Sprintf(format, args...)}}}
}

// refuseUnknownParams refuses a query parameter that allowed does not
// know: a misspelt filter must not silently widen what is read.
func refuseUnknownParams(c *fiber.Ctx, allowed func(string) bool, message string) error {
	var err error
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if err == nil && !allowed(string(k)) {
			err = invalidParam(string(k), "%s", message)
		}
	})
	return err
}

// intParam reads the integer query parameter name within [min, max];
// set is false when it is absent.
func intParam(c *fiber.Ctx, name string, min, max int64) (n int64, set bool, err error) {
	v := c.Query(name)
	if v == "" {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < min || n > max {
		return 0, false, invalidParam(name, "Nombre entier attendu entre %d et %d.", min, max)
	}
	return n, true, nil
}

func parseListQuery(c *fiber.Ctx, pol policy) (listQuery, error) {
	var q listQuery
	allowed := map[string]bool{"page": true, "per_page": true, "limit": true, "offset": true, "after": true,
		"departement": true, "commune": true, "status": true, "rome": true}
	if pol.parent != "" {
		allowed[pol.parent] = true
	}
	if pol.kind == atigip.KindApplication {
		allowed["person_id"] = true
	}
	if err := refuseUnknownParams(c, func(k string) bool { return allowed[k] }, "Paramètre inconnu pour cette liste."); err != nil {
		return q, err
	}
	page, hasPage, err := intParam(c, "page", 1, 1<<31)
	if err != nil {
		return q, err
	}
	perPage, hasPer, err := intParam(c, "per_page", 1, MaxPerPage)
	if err != nil {
		return q, err
	}
	limit, hasLimit, err := intParam(c, "limit", 1, MaxPerPage)
	if err != nil {
		return q, err
	}
	offset, hasOffset, err := intParam(c, "offset", 0, 1<<40)
	if err != nil {
		return q, err
	}
	after, _, err := intParam(c, "after", 0, 1<<62)
	if err != nil {
		return q, err
	}
	if (hasPage || hasPer) && (hasLimit || hasOffset) {
		return q, invalidParam("page", "Utilisez soit page et per_page, soit limit et offset.")
	}
	q.perPage = DefaultPerPage
	switch {
	case hasLimit || hasOffset:
		if hasLimit {
			q.perPage = int(limit)
		}
		q.filter.Offset = int(offset)
	default:
		if hasPer {
			q.perPage = int(perPage)
		}
		q.page = 1
		if hasPage {
			q.page = int(page)
		}
		q.filter.Offset = (q.page - 1) * q.perPage
	}
	q.filter.Limit = q.perPage
	q.filter.AfterID = after

	if d := c.Query("departement"); d != "" {
		if !validDepartementCode(d) {
			return q, invalidParam("departement", "Code de département invalide (01 à 95, 2A, 2B, 971 à 976).")
		}
		q.filter.Departement = d
	}
	if cm := c.Query("commune"); cm != "" {
		if len(cm) != 5 {
			return q, invalidParam("commune", "Code INSEE de commune invalide (5 caractères).")
		}
		q.filter.Commune = cm
	}
	if st := c.Query("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if v = strings.TrimSpace(v); v != "" {
				q.filter.Status = append(q.filter.Status, v)
			}
		}
	}
	if r := strings.ToUpper(c.Query("rome")); r != "" {
		if !atigip.ValidROME(r) && !(len(r) == 1 && r[0] >= 'A' && r[0] <= 'N') {
			return q, invalidParam("rome", "Code ROME (A1203) ou lettre de domaine (A à N) attendu.")
		}
		q.filter.ROME = r
	}
	if pol.parent != "" {
		if q.filter.Parent, _, err = intParam(c, pol.parent, 1, 1<<62); err != nil {
			return q, err
		}
	}
	if pol.kind == atigip.KindApplication {
		// Indexed as the applications' Owner: their parent is the offer.
		if q.filter.Owner, _, err = intParam(c, "person_id", 1, 1<<62); err != nil {
			return q, err
		}
	}
	return q, nil
}

func validDepartementCode(s string) bool {
	switch len(s) {
	case 2:
		if s == "2A" || s == "2B" {
			return true
		}
		return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s != "00" && s != "20" && s <= "95"
	case 3:
		return s >= "971" && s <= "976"
	}
	return false
}

func parseID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidParam("id", "Identifiant entier positif attendu.")
	}
	return id, nil
}

func (s *Server) list(pol policy) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := parseListQuery(c, pol)
		if err != nil {
			return s.Problem(c, err)
		}
		p := s.Principal(c)
		ctx := c.UserContext()
		out := ListPage[atigip.Entity]{Items: []atigip.Entity{}, Page: q.page, PerPage: q.perPage, Offset: q.filter.Offset}
		empty := pol.scope != nil && pol.scope(p, &q.filter)
		var pred func(atigip.Entity) (bool, error)
		lk := newLookup(ctx, s.store)
		if !empty {
			if empty, pred, err = narrow(lk, p, pol.kind, &q.filter); err != nil {
				return s.Problem(c, err)
			}
		}
		if pol.listed != nil && q.filter.PublicOnly {
			pred = both(pred, func(e atigip.Entity) (bool, error) { return pol.listed(lk, p, e) })
		}
		if !empty {
			var items []atigip.Entity
			var total int
			if pred != nil {
				items, total, err = s.scanPage(c, pol.kind, q.filter, pred)
			} else {
				items, total, err = s.store.Entities(pol.kind).List(ctx, q.filter)
			}
			if err != nil {
				return s.Problem(c, err)
			}
			for _, e := range items {
				if pol.redact != nil {
					e = pol.redact(p, e)
				}
				out.Items = append(out.Items, e)
			}
			out.Total = total
		}
		if n := len(out.Items); n > 0 && n == q.perPage {
			out.NextAfter = out.Items[n-1].GetMeta().ID
		}
		if pol.kind.Sensitive() {
			if err := s.Audit(c, "list", pol.kind, 0, len(out.Items)); err != nil {
				return s.Problem(c, err)
			}
			c.Set(fiber.HeaderCacheControl, "no-store") // personal data: no cache keeps it
		}
		return c.JSON(out)
	}
}

// both is the conjunction of two predicates (a nil one holds always).
func both(a, b func(atigip.Entity) (bool, error)) func(atigip.Entity) (bool, error) {
	if a == nil {
		return b
	}
	return func(e atigip.Entity) (bool, error) {
		if ok, err := a(e); err != nil || !ok {
			return false, err
		}
		return b(e)
	}
}

// errTooWide stops a perimeter scan past maxPerimeterScan rows.
var errTooWide = &atigip.Error{Code: atigip.EINVALID, Message: "Liste trop large pour être filtrée selon votre périmètre : " +
	"précisez-la (département, statut, offre ou personne).", Fields: []atigip.FieldError{{Field: "status",
	Message: "Ajoutez un filtre : departement, status, offer_id ou person_id."}}}

// scanPage pages through a streamed scan filtered by pred, for what the
// store cannot filter (the perimeter over an application's offer, a
// person's age); it examines at most maxPerimeterScan rows.
func (s *Server) scanPage(c *fiber.Ctx, k atigip.Kind, f atigip.ListFilter, pred func(atigip.Entity) (bool, error)) ([]atigip.Entity, int, error) {
	offset, limit := f.Offset, f.Limit
	f.Offset, f.Limit = 0, 0
	var items []atigip.Entity
	total, seen := 0, 0
	err := s.store.Entities(k).Scan(c.UserContext(), f, func(e atigip.Entity) error {
		if seen++; seen > maxPerimeterScan {
			return errTooWide
		}
		if ok, err := pred(e); err != nil || !ok {
			return err
		}
		if total >= offset && len(items) < limit {
			items = append(items, e)
		}
		total++
		return nil
	})
	return items, total, err
}

func (s *Server) get(pol policy) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, err)
		}
		p := s.Principal(c)
		e, err := s.store.Entities(pol.kind).Get(c.UserContext(), id)
		if err == nil && pol.visible != nil && !pol.visible(p, e) {
			err = notFound(pol.kind)
		}
		if err == nil && pol.listed != nil {
			var ok bool
			if ok, err = pol.listed(newLookup(c.UserContext(), s.store), p, e); err == nil && !ok {
				err = notFound(pol.kind)
			}
		}
		if err == nil {
			err = s.inPerimeter(c, p, e, true)
		}
		if pol.kind.Sensitive() {
			// Attempts are audited too, found or not.
			if aerr := s.Audit(c, "read", pol.kind, id, 0); aerr != nil {
				return s.Problem(c, aerr)
			}
		}
		if err != nil {
			return s.Problem(c, err)
		}
		if pol.redact != nil {
			e = pol.redact(p, e)
		}
		if pol.kind.Sensitive() {
			c.Set(fiber.HeaderCacheControl, "no-store")
		}
		return c.JSON(e)
	}
}

// inPerimeter checks e against p's perimeter (perimeter.go): a record
// outside reads as not found when it exists (read), and is refused when p
// would write it there.
func (s *Server) inPerimeter(c *fiber.Ctx, p atigip.Principal, e atigip.Entity, existing bool) error {
	ok, err := within(newLookup(c.UserContext(), s.store), p, e)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	case existing:
		return notFound(e.Kind())
	}
	return outsidePerimeter(p)
}

func notFound(k atigip.Kind) error {
	return atigip.Errorf(atigip.ENOTFOUND, "Élément introuvable (%s).", KindPath(k))
}

func (s *Server) create(pol policy) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e := atigip.New(pol.kind)
		if err := s.Decode(c, e); err != nil {
			return s.Problem(c, err)
		}
		e, err := s.createEntity(c, pol, e)
		if err != nil {
			return s.Problem(c, err)
		}
		c.Location("/api/" + KindPath(pol.kind) + "/" + strconv.FormatInt(e.GetMeta().ID, 10))
		return c.Status(fiber.StatusCreated).JSON(e)
	}
}

// createEntity is the door of a creation, for the API and the site's
// forms alike: role rows, perimeter, validation, guard, references, then
// the write with its audit entry. It returns the record created.
func (s *Server) createEntity(c *fiber.Ctx, pol policy, e atigip.Entity) (atigip.Entity, error) {
	m := e.GetMeta()
	*m = atigip.Meta{} // the store assigns id, version and timestamps
	// The guard first fills the initial state (a measure "to_place"…)
	// that row rules and validation expect; its refusal comes after
	// theirs: who may write, then what is malformed, then what belongs
	// to a procedure.
	var guardErr error
	if pol.guard != nil {
		guardErr = pol.guard(s.Principal(c), nil, e)
	}
	if pol.writable != nil {
		if err := pol.writable(s.Principal(c), nil, e); err != nil {
			return nil, err
		}
	}
	if err := s.derive(c.UserContext(), s.Principal(c), e); err != nil {
		return nil, err
	}
	if err := s.inPerimeter(c, s.Principal(c), e, false); err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if guardErr != nil {
		return nil, guardErr
	}
	if err := s.checkRefs(c.UserContext(), s.Principal(c), nil, e); err != nil {
		return nil, err
	}
	if pol.createVia != nil {
		return pol.createVia(c.UserContext(), s, s.Principal(c), e)
	}
	err := s.write(c, pol.kind, "create", func(ctx context.Context, tx atigip.Tx) (int64, error) {
		err := tx.Entities(pol.kind).Create(ctx, e)
		return m.ID, err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Server) update(pol policy) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, err)
		}
		e := atigip.New(pol.kind)
		if err := s.Decode(c, e); err != nil {
			return s.Problem(c, err)
		}
		if err := s.updateEntity(c, pol, id, e); err != nil {
			return s.Problem(c, err)
		}
		return c.JSON(e)
	}
}

// updateEntity is the one door that updates record id of pol's kind with
// e (carrying the version read), for the API and the site's forms alike.
// A version other than the stored one is ECONFLICT: no edit is lost.
func (s *Server) updateEntity(c *fiber.Ctx, pol policy, id int64, e atigip.Entity) error {
	m := e.GetMeta()
	if m.ID != 0 && m.ID != id {
		return invalidParam("id", "L'identifiant du corps (%d) diffère de celui de l'adresse (%d).", m.ID, id)
	}
	if m.Version <= 0 {
		return invalidParam("version", "La version lue est obligatoire pour une mise à jour.")
	}
	m.ID = id
	p := s.Principal(c)
	old, err := s.current(c, pol, id)
	if err == nil {
		err = s.derive(c.UserContext(), p, e)
	}
	if err == nil && pol.writable != nil {
		err = pol.writable(p, old, e)
	}
	if err == nil {
		err = s.inPerimeter(c, p, e, false) // nor moved out of it
	}
	if err == nil && pol.guard != nil {
		if old.GetMeta().Version != m.Version {
			// Compare with what the client read, not with a newer row.
			err = atigip.Errorf(atigip.ECONFLICT, "La fiche a été modifiée entre-temps (version %d) : rechargez-la avant de recommencer.", old.GetMeta().Version)
		} else {
			err = pol.guard(p, old, e)
		}
	}
	if err == nil {
		err = s.checkRefs(c.UserContext(), p, old, e)
	}
	if err != nil {
		return err
	}
	// A concurrent change between the read above and this write bumps
	// the version, so the store refuses it (ECONFLICT).
	return s.write(c, pol.kind, "update", func(ctx context.Context, tx atigip.Tx) (int64, error) {
		if err := tx.Entities(pol.kind).Update(ctx, e); err != nil {
			return id, err
		}
		return id, cascade(ctx, tx, old, e)
	})
}

// current reads record id before a write: a record the principal may not
// see, or outside their perimeter, reads as not found.
func (s *Server) current(c *fiber.Ctx, pol policy, id int64) (atigip.Entity, error) {
	p := s.Principal(c)
	old, err := s.store.Entities(pol.kind).Get(c.UserContext(), id)
	if err == nil && pol.visible != nil && !pol.visible(p, old) {
		err = notFound(pol.kind)
	}
	if err == nil {
		err = s.inPerimeter(c, p, old, true)
	}
	return old, err
}

func (s *Server) remove(pol policy) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, err)
		}
		version, err := strconv.ParseInt(c.Query("version"), 10, 64)
		if err != nil || version <= 0 {
			return s.Problem(c, invalidParam("version", "La version lue est obligatoire pour une suppression (?version=)."))
		}
		p := s.Principal(c)
		old, err := s.current(c, pol, id)
		if err == nil && pol.writable != nil {
			err = pol.writable(p, old, nil)
		}
		if err == nil {
			err = s.checkDependents(c.UserContext(), pol.kind, id)
		}
		if err != nil {
			return s.Problem(c, err)
		}
		err = s.write(c, pol.kind, "delete", func(ctx context.Context, tx atigip.Tx) (int64, error) {
			return id, tx.Entities(pol.kind).Delete(ctx, id, version)
		})
		if err != nil {
			return s.Problem(c, err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// write runs fn in one transaction, with what the write entails (an
// archived organisation's posts closed) and, for sensitive kinds, the
// audit entry, so that no change to a person's data goes unrecorded.
func (s *Server) write(c *fiber.Ctx, k atigip.Kind, action string, fn func(context.Context, atigip.Tx) (int64, error)) error {
	ctx := c.UserContext()
	p := s.Principal(c)
	return s.store.InTx(ctx, func(tx atigip.Tx) error {
		id, err := fn(ctx, tx)
		if err != nil || !k.Sensitive() {
			return err
		}
		return tx.Audit(ctx, atigip.AuditEntry{At: time.Now().UTC(), Subject: p.Subject, Role: p.Role,
			Action: action, Kind: k, EntityID: id})
	})
}
