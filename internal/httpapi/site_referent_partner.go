package httpapi

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/embedlink"
	"github.com/atigip/atigip360/internal/web"
)

// partners lists the host organisations of the principal's perimeter.
func (m *ReferentModule) partners(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		m.frameAncestors(c, false)
		p := s.Principal(c)
		dep := cleanDep(c.Query("departement"))
		if p.Departement != "" {
			dep = p.Departement
		}
		n := pageNumber(c)
		orgs, total, err := atigip.Of[*atigip.Organisation](s.Store()).List(c.UserContext(),
			atigip.ListFilter{Departement: dep, Offset: (n - 1) * partnersPerPage, Limit: partnersPerPage})
		if err != nil {
			return s.Problem(c, err)
		}
		pg := web.PartnersPage{Departement: dep, Departements: perimeterDepartements(p), Total: total,
			Pager: web.NewPager(n, (total+partnersPerPage-1)/partnersPerPage, pageLink(c))}
		for _, o := range orgs {
			label, badge := habLabel(o.Habilitation.Status)
			pg.Rows = append(pg.Rows, web.PartnerRow{ID: o.ID, Name: o.Name, City: o.Address.City, Departement: o.Address.Departement,
				Kind: atigip.OrganisationKinds[o.OrgKind], Habilitation: label, HabBadge: badge})
		}
		return s.page(c, fiber.StatusOK, "referent", s.layout(c, "Structures partenaires", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"}), pg)
	}
}

// perimeterDepartements are the départements a principal may pick: its
// own when it has one, all otherwise.
func perimeterDepartements(p atigip.Principal) []web.Domain {
	all := departementChoices()
	if p.Departement == "" {
		return all
	}
	return slices.DeleteFunc(all, func(d web.Domain) bool { return d.Code != p.Departement })
}

func habLabel(st atigip.HabilitationStatus) (label, badge string) {
	label = atigip.HabilitationStatuses[st]
	switch st {
	case atigip.HabHabilitated:
		badge = "fr-badge--success"
	case atigip.HabRequested, atigip.HabAwaiting:
		badge = "fr-badge--new"
	case atigip.HabRefused, atigip.HabExpired:
		badge = "fr-badge--error"
	}
	return label, badge
}

// partner is the page Axelor embeds, by our organisation id (byCRM
// false) or by Axelor's partner id (byCRM true, the id Axelor knows).
// Referents and DSPIP open it in their session; Axelor's users open it by
// a signed link over that id, which stands for a referent's reading of
// that one partner and is audited under the Axelor user's name.
func (m *ReferentModule) partner(s *Server, byCRM bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		m.frameAncestors(c, true)
		id, err := strconv.ParseInt(c.Params("id"), 10, 64)
		if err != nil || id <= 0 {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Structure d'accueil introuvable."))
		}
		p := s.Principal(c)
		embedded := c.Query("integre") == "1"
		if !slices.Contains(referentRoles, p.Role) {
			link, err := embedlink.Verify(m.EmbedSecret, id, c.Query("exp"), c.Query("sub"), c.Query("sig"), m.Now())
			if err != nil {
				return m.linkRefusal(s, c, err)
			}
			p = atigip.Principal{Subject: "axelor:" + link.Subject, Role: atigip.RoleReferent, Name: link.Subject}
			c.Locals(localPrincipal, p)
			embedded = true
		}
		o, err := m.findPartner(c, s, id, byCRM)
		if err != nil {
			return s.Problem(c, err)
		}
		if p.Departement != "" && o.Address.Departement != p.Departement {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Structure d'accueil introuvable."))
		}
		pg, err := m.partnerPage(s, c, o)
		if err != nil {
			return s.Problem(c, err)
		}
		pg.Embedded = embedded
		l := s.layout(c, o.Name, "espace", web.Crumb{Label: "Mon espace", URL: "/espace"},
			web.Crumb{Label: "Structures partenaires", URL: "/referent/partenaires"})
		l.Map = len(pg.Posts) > 0
		if !embedded {
			return s.page(c, fiber.StatusOK, "referent-partenaire", l, pg)
		}
		b, err := web.RenderEmbedded("referent-partenaire", l, pg)
		if err != nil {
			return s.Problem(c, err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Send(b)
	}
}

// findPartner reads the organisation id, or the one synced from Axelor
// partner id.
func (m *ReferentModule) findPartner(c *fiber.Ctx, s *Server, id int64, byCRM bool) (*atigip.Organisation, error) {
	orgs := atigip.Of[*atigip.Organisation](s.Store())
	if !byCRM {
		return orgs.Get(c.UserContext(), id)
	}
	found, _, err := orgs.List(c.UserContext(), atigip.ListFilter{Ref: "crm:" + strconv.FormatInt(id, 10), Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, atigip.Errorf(atigip.ENOTFOUND, "Aucune structure d'accueil n'est synchronisée avec ce partenaire Axelor.")
	}
	return found[0], nil
}

// partnerPage reads o's posts, procedures, measures hosted this year and
// their confirmed hours, and its sync state.
func (m *ReferentModule) partnerPage(s *Server, c *fiber.Ctx, o *atigip.Organisation) (web.PartnerPage, error) {
	ctx := c.UserContext()
	now := m.Now()
	year := now.Year()
	label, badge := habLabel(o.Habilitation.Status)
	pg := web.PartnerPage{ID: o.ID, Name: o.Name, Kind: atigip.OrganisationKinds[o.OrgKind], Active: o.Active,
		Address:      strings.TrimSpace(strings.Join(nonEmpty(o.Address.Street, strings.TrimSpace(o.Address.Postcode+" "+o.Address.City)), ", ")),
		Habilitation: label, HabBadge: badge, DecidedAt: o.Habilitation.DecidedAt, ExpiresAt: o.Habilitation.ExpiresAt,
		Authority: o.Habilitation.Authority, Year: year}
	err := atigip.Of[*atigip.Post](s.Store()).Scan(ctx, atigip.ListFilter{Parent: o.ID}, func(p *atigip.Post) error {
		if p.Status == atigip.PostOpen {
			pg.OpenPosts++
		}
		pg.Posts = append(pg.Posts, web.PartnerPost{ID: p.ID, Title: p.Title, Status: atigip.PostStatuses[p.Status], City: p.Address.City,
			Places: p.Places, PlacesLeft: p.PlacesLeft(), Lon: p.Location.Lon, Lat: p.Location.Lat, Located: p.Location.Lon != 0 || p.Location.Lat != 0})
		return nil
	})
	if err != nil {
		return pg, err
	}
	err = atigip.Of[*atigip.Procedure](s.Store()).Scan(ctx, atigip.ListFilter{Parent: o.ID}, func(pr *atigip.Procedure) error {
		b := ""
		switch pr.Status {
		case atigip.ProcGranted:
			b = "fr-badge--success"
		case atigip.ProcRefused, atigip.ProcExpired:
			b = "fr-badge--error"
		case atigip.ProcAwaiting:
			b = "fr-badge--new"
		}
		pg.History = append(pg.History, web.PartnerProcedure{Kind: atigip.ProcedureKinds[pr.ProcKind], Status: atigip.ProcedureStatuses[pr.Status],
			Badge: b, RequestedAt: pr.RequestedAt, DecidedAt: pr.DecidedAt, Opinions: len(pr.Opinions), Authority: pr.Authority,
			Reason: pr.Reason, ValidUntil: pr.ValidUntil.Time})
		return nil
	})
	if err != nil {
		return pg, err
	}
	slices.SortFunc(pg.History, func(a, b web.PartnerProcedure) int { return b.RequestedAt.Compare(a.RequestedAt) })
	// The measures hosted this year, from the index of every partner's
	// (one scan of the measures per TTL, not one per page).
	idx, err := m.hosted.get("", now, func() (hostedIndex, error) { return buildHostedIndex(c, s.Store(), year) })
	if err != nil {
		return pg, err
	}
	var hosted []int64
	for _, h := range idx[o.ID] {
		hosted = append(hosted, h.id)
		pg.HoursDone += h.hoursDone
	}
	pg.Tigistes = len(hosted)
	for _, id := range hosted {
		err = atigip.Of[*atigip.MeasureLog](s.Store()).Scan(ctx, atigip.ListFilter{Parent: id}, func(l *atigip.MeasureLog) error {
			if l.LogType == atigip.LogHours && l.Status == atigip.LogConfirmed && l.Date.Year() == year {
				pg.Hours += l.Hours
			}
			return nil
		})
		if err != nil {
			return pg, err
		}
	}
	if len(hosted) > 0 {
		// Measures are personal data, even counted: the reading is audited.
		if err := s.AuditAll(c, "referent.partner_activity", atigip.KindMeasure, hosted, len(hosted)); err != nil {
			return pg, err
		}
	}
	pg.Sync, err = m.syncView(c, o, pg.OpenPosts)
	return pg, err
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// syncView phrases o's sync state.
func (m *ReferentModule) syncView(c *fiber.Ctx, o *atigip.Organisation, open int) (web.SyncView, error) {
	if m.Syncer == nil {
		return web.SyncView{Label: "Synchronisation non configurée", Badge: "",
			Detail: "Le CRM Axelor n'est pas relié à ce serveur : les fiches ne sont ni lues ni écrites dans Axelor."}, nil
	}
	st, err := m.Syncer.Partner(c.UserContext(), o, open)
	if err != nil {
		return web.SyncView{}, err
	}
	v := web.SyncView{Configured: true, Linked: st.Linked, CRMID: st.CRMID, CRMVersion: st.CRMVersion, LastError: st.LastError,
		AgreedHab:  atigip.HabilitationStatuses[atigip.HabilitationStatus(cmp.Or(st.AgreedHabilitation, string(atigip.HabNone)))],
		AgreedDate: st.AgreedDate, AgreedOpenPosts: st.AgreedOpenPosts}
	if st.AgreedHabilitation == "" {
		v.AgreedHab = ""
	}
	if !st.LastSuccess.IsZero() {
		t := st.LastSuccess
		v.LastSuccess = &t
	}
	switch {
	case !st.Linked:
		v.Label, v.Badge, v.Detail = "Hors CRM", "", "Cette structure n'a pas de partenaire associé dans Axelor."
	case st.Pending || st.LocalAhead:
		v.Label, v.Badge, v.Detail = "Envoi vers Axelor en attente", "fr-badge--warning",
			"L'habilitation ou le nombre de postes ouverts a changé ici : la prochaine synchronisation l'écrira dans Axelor."
	case st.LastError != "":
		v.Label, v.Badge, v.Detail = "Erreur de synchronisation", "fr-badge--error", "La dernière synchronisation a échoué ; les valeurs ci-dessous sont celles du dernier accord."
	default:
		v.Label, v.Badge, v.Detail = "À jour", "fr-badge--success", "Axelor et ATIGIP 360 portent les mêmes valeurs pour cette structure."
	}
	return v, nil
}

// hostedIndex lists, by organisation, the measures its posts host this
// year: running, or ended this year.
type hostedIndex map[int64][]hostedMeasure

type hostedMeasure struct {
	id        int64
	hoursDone float64
}

func buildHostedIndex(c *fiber.Ctx, st atigip.Store, year int) (hostedIndex, error) {
	ctx := c.UserContext()
	orgOf := map[int64]int64{}
	err := atigip.Of[*atigip.Post](st).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Post) error {
		orgOf[p.ID] = p.OrganisationID
		return nil
	})
	if err != nil {
		return nil, err
	}
	idx := hostedIndex{}
	err = atigip.Of[*atigip.Measure](st).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureAssigned),
		string(atigip.MeasureInProgress), string(atigip.MeasureSuspended), string(atigip.MeasureCompleted), string(atigip.MeasureClosedFailed)}},
		func(ms *atigip.Measure) error {
			org, ok := orgOf[ms.PostID]
			if !ok {
				return nil
			}
			ended := ms.State == atigip.MeasureCompleted || ms.State == atigip.MeasureClosedFailed
			if ended && ms.UpdatedAt.Year() != year {
				return nil
			}
			idx[org] = append(idx[org], hostedMeasure{id: ms.ID, hoursDone: ms.HoursDone})
			return nil
		})
	return idx, err
}
