package httpapi

import (
	"context"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

// The role matrix of the CRUD routes: one policy per kind, in one place.
//
// Route-level roles (read, create, update, remove) are enforced by the
// Server for every route from the Route declaration. Row-level rules — a
// host edits only its own organisation's posts, a person reads only their
// own records, the public sees only public posts — are the functions of
// the policy, applied by the CRUD handlers.
//
// Decisions, per kind:
//   - organisations: everyone reads (active ones only, without professional
//     contacts, for the public audience; a host sees its own contacts);
//     referents (who manage partners in the CRM) and DSPIP (who habilitate)
//     write.
//   - posts: everyone reads public, non-draft posts; the justice audience
//     reads all, a host also its own; hosts (own organisation), referents
//     and DSPIP write.
//   - prisons: everyone reads; prison staff write (a staff member attached
//     to one establishment updates only that one and creates none).
//   - floor spaces: everyone reads; prison staff write (own establishment).
//     Businesses only read them: the space belongs to the administration.
//   - offers: everyone reads; prison staff (own establishment) and
//     businesses (concessionnaire offers only) write.
//   - people: professionals who follow people read (CPIP, PJJ, DSPIP,
//     magistrates, clerks, prison staff for detainees of their
//     establishment), the case system (APPI/GENESIS, system of record) too;
//     a person reads their own profile. Referents manage partners, not
//     people, and do not read them. CPIP, PJJ, DSPIP, case system and
//     prison staff (detainees) write; only the DSPIP deletes.
//   - measures: as people, without prison staff (TIG is served outside);
//     a person reads their own measures.
//   - applications: CPIP, DSPIP and prison staff (who rank applicants)
//     read and update; a person reads their own and applies (creates a
//     submitted application for themself); prison staff delete.
//
// Public and business roles never read people, measures or applications:
// those routes do not admit them (401 anonymous, 403 signed in).
//
// Perimeters (perimeter.go), on people, measures and applications, for
// their reads, lists and writes and for the workflow routes acting on them
// (transitions, hours, incidents, history, clearance, transfer, filing,
// ranking, waiting lists). Outside its perimeter a record reads as not
// found (404), and writing one there is refused (403).
//   - A justice professional (or the case system) whose principal carries
//     a Departement (dev tokens: atigip token --departement 69; OIDC: the
//     configured claim) sees that département only: people by their home
//     address, measures by the département of the SPIP in charge,
//     applications by their person's or their offer's. Without one, access
//     is national: ATIGIP referents and central administration sign in
//     without a département.
//   - Prison staff attached to an establishment (PrisonID) act only there:
//     people detained there, applications to its offers; their Departement
//     is not used. National prison staff (no PrisonID) are bound like the
//     others by a Departement, if any.
//   - A CPIP follows adults, a PJJ educator minors (Person.Minor,
//     Measure.Minor); the DSPIP, who also stands for the PJJ territorial
//     director, and magistrates see both.
//   - Posts, organisations, prisons, floor spaces and offers are not
//     personal: magistrates and clerks read posts everywhere, whatever
//     their Departement.
//
// The département is a store filter; the age group and an application's
// offer are not (they are not keys), so those lists filter a scan of at
// most maxPerimeterScan rows, already narrowed by the département, the
// offer or the person when given.
type policy struct {
	kind                         atigip.Kind
	read, create, update, remove []atigip.Role // nil = everyone
	// parent is the query parameter naming Keys.Parent ("" when none).
	parent string
	// scope restricts a list to what p may see; empty=true means the
	// answer is empty without asking the store.
	scope func(p atigip.Principal, f *atigip.ListFilter) (empty bool)
	// visible reports whether p may read e (not visible reads as 404).
	visible func(p atigip.Principal, e atigip.Entity) bool
	// redact strips what p may not see from e (a copy is made first).
	redact func(p atigip.Principal, e atigip.Entity) atigip.Entity
	// listed is the public view of the kind (public.go), checked on reads
	// and on lists the scope marked PublicOnly: whether p is shown e, with
	// what the store cannot filter (a post's organisation).
	listed func(lk *lookup, p atigip.Principal, e atigip.Entity) (bool, error)
	// writable checks a create (old nil), update or delete (cur nil).
	writable func(p atigip.Principal, old, cur atigip.Entity) error
	// guard refuses a create (old nil) or an update that sets fields owned
	// by a workflow procedure or by the server (guards.go); it may fill
	// their initial values.
	guard func(p atigip.Principal, old, cur atigip.Entity) error
	// createVia replaces the store's Create for kinds whose creation is a
	// procedure step (an application is filed on a waiting list).
	createVia func(ctx context.Context, s *Server, p atigip.Principal, e atigip.Entity) (atigip.Entity, error)
}

var (
	professionalsOfPeople = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP,
		atigip.RoleMagistrate, atigip.RoleClerk, atigip.RolePrisonStaff, atigip.RolePerson, atigip.RoleCaseSystem}
	professionalsOfMeasures = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP,
		atigip.RoleMagistrate, atigip.RoleClerk, atigip.RolePerson, atigip.RoleCaseSystem}
	writersOfPeople   = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RolePrisonStaff, atigip.RoleCaseSystem}
	writersOfMeasures = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleCaseSystem}
	readersOfApps     = []atigip.Role{atigip.RoleCPIP, atigip.RoleDSPIP, atigip.RolePrisonStaff, atigip.RolePerson}
)

func forbidden(format string, args ...any) error {
	return atigip.Errorf(atigip.EFORBIDDEN, format, args...)
}

// policies is the role matrix, one entry per kind of atigip.Kinds.
var policies = map[atigip.Kind]policy{
	atigip.KindOrganisation: {
		kind:   atigip.KindOrganisation,
		create: []atigip.Role{atigip.RoleReferent, atigip.RoleDSPIP},
		update: []atigip.Role{atigip.RoleReferent, atigip.RoleDSPIP},
		remove: []atigip.Role{atigip.RoleReferent, atigip.RoleDSPIP},
		guard:  guardOrganisation,
		scope: func(p atigip.Principal, f *atigip.ListFilter) bool {
			if p.Role.Audience() != atigip.AudienceJustice {
				f.PublicOnly = true // archived partners are not shown
			}
			return false
		},
		visible: func(p atigip.Principal, e atigip.Entity) bool {
			o := e.(*atigip.Organisation)
			return o.Active || p.Role.Audience() == atigip.AudienceJustice ||
				(p.Role == atigip.RoleHost && p.OrganisationID == o.ID)
		},
		redact: func(p atigip.Principal, e atigip.Entity) atigip.Entity {
			o := e.(*atigip.Organisation)
			if p.Role.Audience() == atigip.AudienceJustice || (p.Role == atigip.RoleHost && p.OrganisationID == o.ID) {
				return o
			}
			cp := *o
			cp.Contacts = nil // professional contacts: justice audience only
			return &cp
		},
	},
	atigip.KindPost: {
		kind:   atigip.KindPost,
		create: []atigip.Role{atigip.RoleHost, atigip.RoleReferent, atigip.RoleDSPIP},
		update: []atigip.Role{atigip.RoleHost, atigip.RoleReferent, atigip.RoleDSPIP},
		remove: []atigip.Role{atigip.RoleHost, atigip.RoleReferent, atigip.RoleDSPIP},
		parent: "organisation_id",
		guard:  guardPost,
		scope: func(p atigip.Principal, f *atigip.ListFilter) bool {
			if seesAllPosts(p, f.Parent) {
				return false
			}
			return publicPostFilter(f)
		},
		visible: func(p atigip.Principal, e atigip.Entity) bool {
			po := e.(*atigip.Post)
			return po.Keys().Public || seesAllPosts(p, po.OrganisationID)
		},
		listed: func(lk *lookup, p atigip.Principal, e atigip.Entity) (bool, error) {
			if seesAllPosts(p, e.(*atigip.Post).OrganisationID) {
				return true, nil
			}
			return postListed(lk, e)
		},
		redact: redactPost,
		writable: func(p atigip.Principal, old, cur atigip.Entity) error {
			if p.Role != atigip.RoleHost {
				return nil
			}
			for _, e := range []atigip.Entity{old, cur} {
				if e != nil && (p.OrganisationID == 0 || e.(*atigip.Post).OrganisationID != p.OrganisationID) {
					return forbidden("Une structure d'accueil ne gère que ses propres postes.")
				}
			}
			return nil
		},
	},
	atigip.KindPrison: {
		kind:   atigip.KindPrison,
		create: []atigip.Role{atigip.RolePrisonStaff},
		update: []atigip.Role{atigip.RolePrisonStaff},
		remove: []atigip.Role{atigip.RolePrisonStaff},
		redact: redactPrison,
		writable: func(p atigip.Principal, old, cur atigip.Entity) error {
			if p.PrisonID == 0 {
				return nil // national administration
			}
			if old == nil {
				return forbidden("Un agent rattaché à un établissement ne peut pas en créer un autre.")
			}
			if old.GetMeta().ID != p.PrisonID {
				return forbidden("Vous ne pouvez modifier que votre établissement pénitentiaire.")
			}
			return nil
		},
	},
	atigip.KindFloorSpace: {
		kind:   atigip.KindFloorSpace,
		create: []atigip.Role{atigip.RolePrisonStaff},
		update: []atigip.Role{atigip.RolePrisonStaff},
		remove: []atigip.Role{atigip.RolePrisonStaff},
		parent: "prison_id",
		writable: ownPrison(func(e atigip.Entity) int64 { return e.(*atigip.FloorSpace).PrisonID },
			"Vous ne pouvez gérer que les surfaces de votre établissement pénitentiaire."),
	},
	atigip.KindOffer: {
		kind:   atigip.KindOffer,
		create: []atigip.Role{atigip.RolePrisonStaff, atigip.RoleBusiness},
		update: []atigip.Role{atigip.RolePrisonStaff, atigip.RoleBusiness},
		remove: []atigip.Role{atigip.RolePrisonStaff, atigip.RoleBusiness},
		parent: "prison_id",
		guard:  guardOffer,
		writable: func(p atigip.Principal, old, cur atigip.Entity) error {
			if p.Role == atigip.RoleBusiness {
				// A business creates concessionnaire offers in any
				// establishment (the concession itself is agreed with the
				// establishment, whose staff may close or delete the
				// offer); the offer carries the business's company, set by
				// the server, and only that company edits or deletes it.
				if p.SIRET == "" {
					return forbidden("Votre compte d'entreprise n'est rattaché à aucun SIRET : il ne peut pas gérer d'offre.")
				}
				for _, e := range []atigip.Entity{old, cur} {
					if e != nil && e.(*atigip.Offer).EmployerKind != atigip.EmployerConcession {
						return forbidden("Une entreprise ne gère que les offres de concessionnaire.")
					}
				}
				if old != nil && !atigip.CompanyCovers(p.SIRET, old.(*atigip.Offer).EmployerSIRET) {
					return forbidden("Une entreprise ne gère que ses propres offres.")
				}
				return nil
			}
			return ownPrison(func(e atigip.Entity) int64 { return e.(*atigip.Offer).PrisonID },
				"Vous ne pouvez gérer que les offres de votre établissement pénitentiaire.")(p, old, cur)
		},
	},
	atigip.KindPerson: {
		kind:   atigip.KindPerson,
		read:   professionalsOfPeople,
		create: writersOfPeople,
		update: writersOfPeople,
		remove: []atigip.Role{atigip.RoleDSPIP},
		parent: "prison_id",
		guard:  guardPerson,
		scope: func(p atigip.Principal, f *atigip.ListFilter) bool {
			switch p.Role {
			case atigip.RolePerson:
				if p.PersonID == 0 {
					return true
				}
				f.IDs = []int64{p.PersonID}
			case atigip.RolePrisonStaff:
				f.Status = []string{"detained"}
				if p.PrisonID != 0 {
					if f.Parent != 0 && f.Parent != p.PrisonID {
						return true
					}
					f.Parent = p.PrisonID
				}
			}
			return false
		},
		visible: func(p atigip.Principal, e atigip.Entity) bool {
			pe := e.(*atigip.Person)
			switch p.Role {
			case atigip.RolePerson:
				return p.PersonID != 0 && pe.ID == p.PersonID
			case atigip.RolePrisonStaff:
				return staffOf(p, pe)
			}
			return true
		},
		writable: func(p atigip.Principal, old, cur atigip.Entity) error {
			if p.Role != atigip.RolePrisonStaff {
				return nil
			}
			for _, e := range []atigip.Entity{old, cur} {
				if e == nil {
					continue
				}
				if !staffOf(p, e.(*atigip.Person)) {
					return forbidden("Le personnel pénitentiaire ne gère que les profils des personnes détenues de son établissement.")
				}
			}
			return nil
		},
	},
	atigip.KindMeasure: {
		kind:   atigip.KindMeasure,
		read:   professionalsOfMeasures,
		create: writersOfMeasures,
		update: writersOfMeasures,
		remove: []atigip.Role{atigip.RoleDSPIP},
		parent: "person_id",
		guard:  guardMeasure,
		scope: func(p atigip.Principal, f *atigip.ListFilter) bool {
			if p.Role != atigip.RolePerson {
				return false
			}
			if p.PersonID == 0 || (f.Parent != 0 && f.Parent != p.PersonID) {
				return true
			}
			f.Parent = p.PersonID
			return false
		},
		visible: func(p atigip.Principal, e atigip.Entity) bool {
			return p.Role != atigip.RolePerson || (p.PersonID != 0 && e.(*atigip.Measure).PersonID == p.PersonID)
		},
	},
	atigip.KindApplication: {
		kind:   atigip.KindApplication,
		read:   readersOfApps,
		create: []atigip.Role{atigip.RoleCPIP, atigip.RolePrisonStaff, atigip.RolePerson},
		update: []atigip.Role{atigip.RoleCPIP, atigip.RoleDSPIP, atigip.RolePrisonStaff},
		remove: []atigip.Role{atigip.RolePrisonStaff},
		parent: "offer_id",
		guard:  guardApplication,
		scope: func(p atigip.Principal, f *atigip.ListFilter) bool {
			if p.Role != atigip.RolePerson {
				return false
			}
			if p.PersonID == 0 || (f.Owner != 0 && f.Owner != p.PersonID) {
				return true
			}
			f.Owner = p.PersonID
			return false
		},
		// Filing an application is the workflow's: CPU clearance, open
		// offer, same establishment, no duplicate, last on the waiting list.
		createVia: func(ctx context.Context, s *Server, p atigip.Principal, e atigip.Entity) (atigip.Entity, error) {
			a := e.(*atigip.Application)
			if err := a.Validate(); err != nil {
				return nil, err
			}
			for _, ref := range []struct {
				k     atigip.Kind
				id    int64
				field string
			}{{atigip.KindOffer, a.OfferID, "offer_id"}, {atigip.KindPerson, a.PersonID, "person_id"}} {
				if _, err := s.store.Entities(ref.k).Get(ctx, ref.id); atigip.ErrorCode(err) == atigip.ENOTFOUND {
					return nil, invalidParam(ref.field, "Aucun élément n° %d.", ref.id)
				} else if err != nil {
					return nil, err
				}
			}
			svc := &workflow.Service{Store: s.store}
			return svc.ApplyTo(ctx, p, a.OfferID, a.PersonID, a.Note)
		},
		visible: func(p atigip.Principal, e atigip.Entity) bool {
			return p.Role != atigip.RolePerson || (p.PersonID != 0 && e.(*atigip.Application).PersonID == p.PersonID)
		},
		writable: func(p atigip.Principal, old, cur atigip.Entity) error {
			if p.Role != atigip.RolePerson {
				return nil
			}
			a, ok := cur.(*atigip.Application)
			if !ok || p.PersonID == 0 || a.PersonID != p.PersonID {
				return forbidden("Vous ne pouvez candidater que pour vous-même.")
			}
			if a.State != atigip.AppSubmitted {
				return forbidden("Une candidature déposée par la personne est à l'état « %s ».", atigip.ApplicationStates[atigip.AppSubmitted])
			}
			return nil
		},
	},
}

// ownPrison restricts prison staff attached to an establishment to its
// entities; national staff (PrisonID 0) manage all.
func ownPrison(prisonOf func(atigip.Entity) int64, msg string) func(p atigip.Principal, old, cur atigip.Entity) error {
	return func(p atigip.Principal, old, cur atigip.Entity) error {
		if p.Role != atigip.RolePrisonStaff || p.PrisonID == 0 {
			return nil
		}
		for _, e := range []atigip.Entity{old, cur} {
			if e != nil && prisonOf(e) != p.PrisonID {
				return forbidden("%s", msg)
			}
		}
		return nil
	}
}
