package httpapi

import (
	"context"

	"github.com/atigip/atigip360/internal/atigip"
)

// The perimeter of a professional over personal data (people, measures,
// applications); the rules are documented with the role matrix in
// policy.go. It comes on top of the route's roles and of the policy's row
// rules (a person's own records, a host's own posts).

// lookup reads, once per request, the records a perimeter depends on: the
// offer and the person of an application.
type lookup struct {
	ctx    context.Context
	store  atigip.Store
	offers map[int64]*atigip.Offer
	people map[int64]*atigip.Person
	orgs   map[int64]*atigip.Organisation
}

func newLookup(ctx context.Context, s atigip.Store) *lookup {
	return &lookup{ctx: ctx, store: s, offers: map[int64]*atigip.Offer{}, people: map[int64]*atigip.Person{},
		orgs: map[int64]*atigip.Organisation{}}
}

// organisation returns the organisation id, nil when it does not exist.
func (l *lookup) organisation(id int64) (*atigip.Organisation, error) {
	return cached(l, l.orgs, id)
}

// cached reads id of type T once per lookup (nil when it does not exist).
func cached[T atigip.Entity](l *lookup, m map[int64]T, id int64) (T, error) {
	if e, ok := m[id]; ok {
		return e, nil
	}
	e, err := atigip.Of[T](l.store).Get(l.ctx, id)
	if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
		return e, err
	}
	m[id] = e
	return e, nil
}

// offer returns the offer id, nil when it does not exist.
func (l *lookup) offer(id int64) (*atigip.Offer, error) {
	return cached(l, l.offers, id)
}

// person returns the person id, nil when it does not exist.
func (l *lookup) person(id int64) (*atigip.Person, error) {
	return cached(l, l.people, id)
}

// establishment is the prison a staff member is attached to (0: none, or
// not prison staff).
func establishment(p atigip.Principal) int64 {
	if p.Role == atigip.RolePrisonStaff {
		return p.PrisonID
	}
	return 0
}

// staffOf is the one prison-staff rule over people: staff act for the
// people detained, in their establishment when attached to one (national
// staff: every establishment). Reads, writes, lists (the policy's scope
// expresses it as a store filter) and perimeters all use it.
func staffOf(p atigip.Principal, pe *atigip.Person) bool {
	return p.Role == atigip.RolePrisonStaff && pe.Detained && (p.PrisonID == 0 || pe.PrisonID == p.PrisonID)
}

// departementOf is the département a principal is bound to ("" national).
// A person's own records and an establishment's staff have their own
// rules instead.
func departementOf(p atigip.Principal) string {
	if !(p.Role.Professional() || p.Role == atigip.RoleCaseSystem) || establishment(p) != 0 {
		return "" // hosts act on the measures of their posts wherever they are
	}
	return p.Departement
}

// followsAge reports whether p follows someone of that age: a CPIP adults,
// a PJJ educator minors, everyone else both.
func followsAge(p atigip.Principal, minor bool) bool {
	switch p.Role {
	case atigip.RoleCPIP:
		return !minor
	case atigip.RolePJJ:
		return minor
	}
	return true
}

func ageRestricted(p atigip.Principal) bool {
	return p.Role == atigip.RoleCPIP || p.Role == atigip.RolePJJ
}

// within reports whether e lies in p's perimeter. Kinds without personal
// data are always within.
func within(lk *lookup, p atigip.Principal, e atigip.Entity) (bool, error) {
	dep := departementOf(p)
	switch v := e.(type) {
	case *atigip.Person:
		if establishment(p) != 0 {
			return staffOf(p, v), nil
		}
		return (dep == "" || v.HomeAddress.Departement == dep) && followsAge(p, v.Minor), nil
	case *atigip.Measure:
		if prison := establishment(p); prison != 0 {
			return false, nil // TIG is served outside: no measure is an establishment's
		}
		return (dep == "" || v.Departement == dep) && followsAge(p, v.Minor), nil
	case *atigip.Application:
		if prison := establishment(p); prison != 0 {
			o, err := lk.offer(v.OfferID)
			return o != nil && o.PrisonID == prison, err
		}
		if dep == "" {
			return true, nil
		}
		o, err := lk.offer(v.OfferID)
		if err != nil || (o != nil && o.Address.Departement == dep) {
			return err == nil, err
		}
		pe, err := lk.person(v.PersonID)
		return pe != nil && pe.HomeAddress.Departement == dep, err
	}
	return true, nil
}

// maxPerimeterScan bounds the rows a list examines when the perimeter
// cannot be expressed as a store filter (an application's offer, a
// person's age): beyond it the caller is asked to narrow the list.
const maxPerimeterScan = 50_000

// narrow restricts f to p's perimeter as far as the store can filter on
// kind k's keys. It returns empty when nothing can match, or a predicate
// for what the store cannot express (nil when f is exact).
func narrow(lk *lookup, p atigip.Principal, k atigip.Kind, f *atigip.ListFilter) (empty bool, pred func(atigip.Entity) (bool, error), err error) {
	if !k.Sensitive() || p.Role == atigip.RolePerson {
		return false, nil, nil
	}
	dep := departementOf(p)
	test := func(e atigip.Entity) (bool, error) { return within(lk, p, e) }
	switch k {
	case atigip.KindPerson, atigip.KindMeasure:
		if k == atigip.KindMeasure && establishment(p) != 0 {
			return true, nil, nil
		}
		if dep != "" {
			if f.Departement != "" && f.Departement != dep {
				return true, nil, nil
			}
			f.Departement = dep // people: home département; measures: the SPIP's
		}
		if ageRestricted(p) {
			return false, test, nil
		}
		return false, nil, nil // the prison of staff is in the policy's scope
	case atigip.KindApplication:
		if prison := establishment(p); prison != 0 {
			if f.Parent == 0 {
				return false, test, nil
			}
			o, err := lk.offer(f.Parent)
			return err == nil && (o == nil || o.PrisonID != prison), nil, err
		}
		if dep == "" {
			return false, nil, nil
		}
		// Whole when the offer or the person named is in the département,
		// else each application is checked.
		if f.Parent != 0 {
			if o, err := lk.offer(f.Parent); err != nil || (o != nil && o.Address.Departement == dep) {
				return false, nil, err
			}
		}
		if f.Owner != 0 {
			if pe, err := lk.person(f.Owner); err != nil || (pe != nil && pe.HomeAddress.Departement == dep) {
				return false, nil, err
			}
		}
		return false, test, nil
	}
	return false, nil, nil
}

// outsidePerimeter is the refusal of a write outside p's perimeter.
func outsidePerimeter(p atigip.Principal) error {
	switch {
	case establishment(p) != 0:
		return forbidden("Hors de votre périmètre : vous n'agissez que pour votre établissement pénitentiaire.")
	case p.Role == atigip.RoleCPIP:
		if p.Departement != "" {
			return forbidden("Hors de votre périmètre : un CPIP suit les majeurs de son département (%s).", p.Departement)
		}
		return forbidden("Hors de votre périmètre : un CPIP suit les majeurs ; les mineurs sont suivis par la PJJ.")
	case p.Role == atigip.RolePJJ:
		if p.Departement != "" {
			return forbidden("Hors de votre périmètre : un éducateur PJJ suit les mineurs de son département (%s).", p.Departement)
		}
		return forbidden("Hors de votre périmètre : un éducateur PJJ suit les mineurs ; les majeurs sont suivis par le SPIP.")
	}
	return forbidden("Hors de votre périmètre : département %s.", p.Departement)
}
