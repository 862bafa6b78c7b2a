package httpapi

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Referential integrity of the generic CRUD routes. The stores keep each
// record as a document and know no foreign key: the rules live here, one
// table per kind, applied by every write route.
//
//   - References (refsOf): on create, and on update when changed, each
//     record named must exist (400 naming the field otherwise) and, for
//     personal records, lie in the caller's perimeter (403 naming the
//     field, as a write of a record outside it); a post is not attached to
//     an archived organisation (409). Records of the administration
//     (prisons, organisations) are checked by the row rules of the policy
//     (a host's own organisation, staff's own establishment).
//   - Server-owned fields (derive): a measure's minor flag is its person's
//     (validated against the birth date); a business's concessionnaire
//     offer carries the business's SIRET, from its principal.
//   - Deletes (dependentsOf): refused with 409 while a record depends on
//     the one deleted: an organisation's posts and procedures, an
//     establishment's floor spaces, offers and detainees, a post's measures,
//     an offer's applications, a person's measures and applications, a
//     measure's hours and flow messages.
//   - Cascade (afterUpdate): archiving an organisation (active false)
//     closes its open, full and registered posts in the same transaction,
//     so that neither the map nor matching proposes them.

// reference is one reference of a record to another.
type reference struct {
	field string
	kind  atigip.Kind
	id    int64
}

// refsOf lists the references of e that must exist (zero ids are left to
// Validate, which says which are required).
func refsOf(e atigip.Entity) []reference {
	var rs []reference
	add := func(field string, k atigip.Kind, id int64) {
		if id != 0 {
			rs = append(rs, reference{field, k, id})
		}
	}
	switch v := e.(type) {
	case *atigip.Post:
		add("organisation_id", atigip.KindOrganisation, v.OrganisationID)
	case *atigip.FloorSpace:
		add("prison_id", atigip.KindPrison, v.PrisonID)
	case *atigip.Offer:
		add("prison_id", atigip.KindPrison, v.PrisonID)
	case *atigip.Person:
		add("prison_id", atigip.KindPrison, v.PrisonID)
	case *atigip.Measure:
		add("person_id", atigip.KindPerson, v.PersonID)
		add("post_id", atigip.KindPost, v.PostID)
	case *atigip.Application:
		add("offer_id", atigip.KindOffer, v.OfferID)
		add("person_id", atigip.KindPerson, v.PersonID)
	}
	return rs
}

// checkRefs checks e's references for p and derives the server-owned
// fields from them. old is nil on create.
func (s *Server) checkRefs(ctx context.Context, p atigip.Principal, old, e atigip.Entity) error {
	lk := newLookup(ctx, s.store)
	got := map[string]atigip.Entity{}
	kept := map[string]int64{}
	if old != nil {
		// A reference kept as it was was checked when it was set, and
		// deletes are refused while it holds.
		for _, r := range refsOf(old) {
			kept[r.field] = r.id
		}
	}
	var bad atigip.Problems
	for _, r := range refsOf(e) {
		if kept[r.field] == r.id {
			continue
		}
		target, err := s.store.Entities(r.kind).Get(ctx, r.id)
		if atigip.ErrorCode(err) == atigip.ENOTFOUND {
			bad.Add(r.field, "Aucun élément n° %d (%s).", r.id, KindPath(r.kind))
			continue
		} else if err != nil {
			return err
		}
		if r.kind.Sensitive() {
			// Within the caller's perimeter, as a read would be.
			pol := policies[r.kind]
			ok := pol.visible == nil || pol.visible(p, target)
			if ok {
				if ok, err = within(lk, p, target); err != nil {
					return err
				}
			}
			if !ok {
				err := outsidePerimeter(p).(*atigip.Error)
				err.Fields = []atigip.FieldError{{Field: r.field, Message: fmt.Sprintf("L'élément n° %d (%s) n'est pas dans votre périmètre.", r.id, KindPath(r.kind))}}
				return err
			}
		}
		got[r.field] = target
	}
	if len(bad) > 0 {
		return &atigip.Error{Code: atigip.EINVALID, Message: "Référence invalide : l'élément désigné n'existe pas.", Fields: bad}
	}
	if org, ok := got["organisation_id"].(*atigip.Organisation); ok && !org.Active {
		return &atigip.Error{Code: atigip.ECONFLICT, Message: "Structure d'accueil archivée : elle ne reçoit plus de poste.",
			Fields: []atigip.FieldError{{Field: "organisation_id", Message: fmt.Sprintf("La structure n° %d est archivée.", org.ID)}}}
	}
	return nil
}

// derive sets the fields the server owns from what they derive from,
// before any rule reads them: a measure's minor flag is its person's
// (Person.Validate ties it to the birth date); a business's offer carries
// the business's company.
func (s *Server) derive(ctx context.Context, p atigip.Principal, e atigip.Entity) error {
	switch v := e.(type) {
	case *atigip.Measure:
		pe, err := atigip.Of[*atigip.Person](s.store).Get(ctx, v.PersonID)
		if atigip.ErrorCode(err) == atigip.ENOTFOUND {
			return nil // checkRefs names it
		} else if err != nil {
			return err
		}
		v.Minor = pe.Minor
	case *atigip.Offer:
		// One of the company's establishments, as sent (a SIREN account
		// acts for them all), else the company itself.
		if p.Role == atigip.RoleBusiness && !atigip.CompanyCovers(p.SIRET, v.EmployerSIRET) {
			v.EmployerSIRET = p.SIRET
		}
	}
	return nil
}

// dependent is one kind of record that may point to a deleted one.
type dependent struct {
	kind   atigip.Kind
	filter func(id int64) atigip.ListFilter
	// points reports whether e points to id, when the filter cannot say
	// it alone (a measure's post).
	points func(e atigip.Entity, id int64) bool
	what   string // French, plural
}

func byParent(id int64) atigip.ListFilter { return atigip.ListFilter{Parent: id} }
func byOwner(id int64) atigip.ListFilter  { return atigip.ListFilter{Owner: id} }

// measuresOnPost are the states in which a measure holds a post.
var measuresOnPost = []string{string(atigip.MeasureProposed), string(atigip.MeasureAssigned),
	string(atigip.MeasureInProgress), string(atigip.MeasureSuspended)}

var dependentsOf = map[atigip.Kind][]dependent{
	atigip.KindOrganisation: {
		{kind: atigip.KindPost, filter: byParent, what: "postes"},
		{kind: atigip.KindProcedure, filter: byParent, what: "procédures d'habilitation ou d'inscription"},
	},
	atigip.KindPrison: {
		{kind: atigip.KindFloorSpace, filter: byParent, what: "surfaces"},
		{kind: atigip.KindOffer, filter: byParent, what: "offres"},
		{kind: atigip.KindPerson, filter: byParent, what: "personnes rattachées"},
	},
	atigip.KindPost: {
		{kind: atigip.KindMeasure, what: "mesures proposées ou affectées",
			filter: func(int64) atigip.ListFilter { return atigip.ListFilter{Status: measuresOnPost} },
			points: func(e atigip.Entity, id int64) bool { return e.(*atigip.Measure).PostID == id }},
	},
	atigip.KindOffer: {
		{kind: atigip.KindApplication, filter: byParent, what: "candidatures"},
	},
	atigip.KindPerson: {
		{kind: atigip.KindMeasure, filter: byParent, what: "mesures"},
		{kind: atigip.KindApplication, filter: byOwner, what: "candidatures"},
	},
	atigip.KindMeasure: {
		{kind: atigip.KindMeasureLog, filter: byParent, what: "déclarations d'heures ou incidents"},
		{kind: atigip.KindFlowMessage, filter: byParent, what: "messages d'APPI"},
	},
}

// checkDependents refuses the delete of k's record id while a record
// depends on it.
func (s *Server) checkDependents(ctx context.Context, k atigip.Kind, id int64) error {
	var found []string
	for _, d := range dependentsOf[k] {
		f := d.filter(id)
		n := 0
		if d.points == nil {
			f.Limit = 1
			_, total, err := s.store.Entities(d.kind).List(ctx, f)
			if err != nil {
				return err
			}
			n = total
		} else {
			err := s.store.Entities(d.kind).Scan(ctx, f, func(e atigip.Entity) error {
				if d.points(e, id) {
					n++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%d %s", n, d.what))
		}
	}
	if len(found) == 0 {
		return nil
	}
	msg := fmt.Sprintf("Suppression impossible : des éléments en dépendent (%s).", strings.Join(found, ", "))
	if k == atigip.KindOrganisation {
		msg += " Archivez plutôt la structure (active à false) : ses postes sont alors fermés."
	}
	return atigip.Errorf(atigip.ECONFLICT, "%s", msg)
}

// closablePost reports whether archiving its organisation closes p.
func closablePost(p *atigip.Post) bool {
	return slices.Contains([]atigip.PostStatus{atigip.PostRegistered, atigip.PostOpen, atigip.PostFull}, p.Status)
}

// cascade applies, in tx, what an update of old into cur entails for
// other records: an organisation archived closes its posts; a person's
// minor flag (corrected birth date) is their measures' too, which moves
// them between the CPIP and the PJJ and between the posts open to minors
// or not.
func cascade(ctx context.Context, tx atigip.Tx, old, cur atigip.Entity) error {
	if pe, ok := old.(*atigip.Person); ok && pe.Minor != cur.(*atigip.Person).Minor {
		return followMinor(ctx, tx, pe.ID, cur.(*atigip.Person).Minor)
	}
	o, ok := old.(*atigip.Organisation)
	if !ok || !o.Active || cur.(*atigip.Organisation).Active {
		return nil
	}
	var posts []*atigip.Post
	err := tx.Entities(atigip.KindPost).Scan(ctx, atigip.ListFilter{Parent: o.ID}, func(e atigip.Entity) error {
		if p := e.(*atigip.Post); closablePost(p) {
			posts = append(posts, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("httpapi: archive organisation %d: %w", o.ID, err)
	}
	for _, p := range posts {
		p.Status = atigip.PostClosed
		if err := tx.Entities(atigip.KindPost).Update(ctx, p); err != nil {
			return fmt.Errorf("httpapi: archive organisation %d: close post %d: %w", o.ID, p.ID, err)
		}
	}
	return nil
}

// followMinor sets the minor flag of person's measures.
func followMinor(ctx context.Context, tx atigip.Tx, person int64, minor bool) error {
	var ms []*atigip.Measure
	err := tx.Entities(atigip.KindMeasure).Scan(ctx, atigip.ListFilter{Parent: person}, func(e atigip.Entity) error {
		if m := e.(*atigip.Measure); m.Minor != minor {
			ms = append(ms, m)
		}
		return nil
	})
	for _, m := range ms {
		if err != nil {
			break
		}
		m.Minor = minor
		err = tx.Entities(atigip.KindMeasure).Update(ctx, m)
	}
	if err != nil {
		return fmt.Errorf("httpapi: minor flag of person %d's measures: %w", person, err)
	}
	return nil
}
