package workflow

import (
	"slices"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Procedure delays.
const (
	// OpinionDays is the time given to the prosecutor, the JAP and the
	// prefect for their opinions; after it the director may decide without
	// the missing ones.
	OpinionDays = 30
	// HabilitationYears is how long a habilitation lasts before renewal.
	HabilitationYears = 5
	// RenewalDays is how early before expiry a renewal may be requested.
	RenewalDays = 180
)

// ProcedureRequest is what a requester gives.
type ProcedureRequest struct {
	Kind            atigip.ProcedureKind `json:"kind"`
	OrganisationID  int64                `json:"organisation_id"`
	PostID          int64                `json:"post_id,omitempty"`
	Minors          bool                 `json:"minors,omitempty"`
	PrefectRequired bool                 `json:"prefect_required,omitempty"`
}

var requesters = []atigip.Role{atigip.RoleHost, atigip.RoleReferent, atigip.RoleDSPIP}

// Request opens a procedure for o (and post, for a registration). open
// tells whether another procedure of the same kind and subject is still
// awaiting a decision. The organisation (or the post) is changed in place
// to show the request; the caller stores both.
func Request(o *atigip.Organisation, post *atigip.Post, a Actor, r ProcedureRequest, open bool) (*atigip.Procedure, error) {
	if !slices.Contains(requesters, a.Role) {
		return nil, atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas de demander une habilitation ou l'inscription d'un poste. Rôles admis : %s.",
			roleLabel(a.Role), roleNames(requesters))
	}
	if a.Role == atigip.RoleHost && (a.OrganisationID == 0 || a.OrganisationID != o.ID) {
		return nil, atigip.Errorf(atigip.EFORBIDDEN, "Une structure d'accueil ne fait de demande que pour elle-même.")
	}
	if open {
		return nil, atigip.Errorf(atigip.ECONFLICT, "Une demande est déjà en cours d'instruction pour cette structure ou ce poste.")
	}
	today := a.today()
	p := &atigip.Procedure{ProcKind: r.Kind, OrganisationID: o.ID, Minors: r.Minors, PrefectRequired: r.PrefectRequired,
		Status: atigip.ProcAwaiting, RequestedBy: a.Subject, RequestedRole: a.Role, RequestedAt: a.At.UTC(),
		OpinionDeadline: today.AddDays(OpinionDays), Departement: o.Address.Departement}
	switch r.Kind {
	case atigip.ProcHabilitation:
		switch o.Habilitation.Status {
		case atigip.HabHabilitated:
			exp := o.Habilitation.ExpiresAt
			if exp != nil && atigip.DateOf(*exp).After(today.AddDays(RenewalDays).Time) {
				return nil, atigip.Errorf(atigip.ECONFLICT, "La structure est habilitée jusqu'au %s : le renouvellement se demande dans les %d jours qui précèdent.",
					atigip.DateOf(*exp), RenewalDays)
			}
			// A renewal: the structure stays habilitated until expiry.
		default:
			at := a.At.UTC()
			o.Habilitation = atigip.Habilitation{Status: atigip.HabAwaiting, RequestedAt: &at}
		}
	case atigip.ProcPostRegistration:
		if post == nil || post.OrganisationID != o.ID {
			return nil, invalid("post_id", "Le poste doit appartenir à la structure d'accueil.")
		}
		if o.Habilitation.Status != atigip.HabHabilitated {
			return nil, atigip.Errorf(atigip.ECONFLICT, "La structure doit être habilitée avant l'inscription de ses postes (statut : %s).",
				atigip.HabilitationStatuses[o.Habilitation.Status])
		}
		if post.Status != atigip.PostDraft {
			return nil, atigip.Errorf(atigip.ECONFLICT, "Seul un poste à l'état brouillon peut être inscrit (état : %s).", atigip.PostStatuses[post.Status])
		}
		if r.Minors && !post.MinorsAccepted {
			return nil, invalid("minors", "Le poste n'accueille pas de mineurs.")
		}
		p.PostID = post.ID
		p.Minors = p.Minors || post.MinorsAccepted
	default:
		return nil, invalid("kind", "Type de procédure inconnu : %q (habilitation ou post_registration).", r.Kind)
	}
	return p, p.Validate()
}

// required lists the opinions a procedure waits for.
func required(p *atigip.Procedure) []atigip.OpinionAuthority {
	out := []atigip.OpinionAuthority{atigip.OpinionProsecutor, atigip.OpinionJAP}
	if p.PrefectRequired {
		out = append(out, atigip.OpinionPrefect)
	}
	return out
}

// Missing lists the required opinions not given yet.
func Missing(p *atigip.Procedure) []atigip.OpinionAuthority {
	var out []atigip.OpinionAuthority
	for _, auth := range required(p) {
		if !slices.ContainsFunc(p.Opinions, func(o atigip.Opinion) bool { return o.Authority == auth }) {
			out = append(out, auth)
		}
	}
	return out
}

// OpinionRequest is an opinion as given.
type OpinionRequest struct {
	Authority  atigip.OpinionAuthority `json:"authority"`
	Favourable bool                    `json:"favourable"`
	Comment    string                  `json:"comment,omitempty"`
}

// GiveOpinion records an opinion. Prosecutors and JAPs (magistrate role)
// give theirs; the prefecture has no account, so its opinion, received by
// mail, is recorded by the DSPIP or the territorial referent, under their
// name.
func GiveOpinion(p *atigip.Procedure, a Actor, r OpinionRequest) error {
	switch r.Authority {
	case atigip.OpinionProsecutor, atigip.OpinionJAP:
		if a.Role != atigip.RoleMagistrate {
			return atigip.Errorf(atigip.EFORBIDDEN, "L'avis du %s est donné par un magistrat.", strings.ToLower(atigip.OpinionAuthorities[r.Authority]))
		}
	case atigip.OpinionPrefect:
		if a.Role != atigip.RoleDSPIP && a.Role != atigip.RoleReferent {
			return atigip.Errorf(atigip.EFORBIDDEN, "L'avis du préfet est enregistré par le DSPIP ou le référent territorial.")
		}
		if !p.PrefectRequired {
			return atigip.Errorf(atigip.ECONFLICT, "L'avis du préfet n'est pas requis pour cette procédure.")
		}
	default:
		return invalid("authority", "Autorité inconnue : %q (prosecutor, jap ou prefect).", r.Authority)
	}
	if p.Status != atigip.ProcAwaiting {
		return atigip.Errorf(atigip.ECONFLICT, "La procédure est close (%s) : l'avis ne peut plus être donné.", atigip.ProcedureStatuses[p.Status])
	}
	if slices.ContainsFunc(p.Opinions, func(o atigip.Opinion) bool { return o.Authority == r.Authority }) {
		return atigip.Errorf(atigip.ECONFLICT, "L'avis du %s a déjà été donné.", strings.ToLower(atigip.OpinionAuthorities[r.Authority]))
	}
	if len(r.Comment) > 2000 {
		return invalid("comment", "Le commentaire dépasse 2 000 caractères.")
	}
	if !r.Favourable && strings.TrimSpace(r.Comment) == "" {
		return invalid("comment", "Un avis défavorable doit être motivé.")
	}
	p.Opinions = append(p.Opinions, atigip.Opinion{Authority: r.Authority, Favourable: r.Favourable,
		Comment: strings.TrimSpace(r.Comment), By: a.Subject, Role: a.Role, At: a.At.UTC()})
	return nil
}

// DecisionRequest is the director's decision.
type DecisionRequest struct {
	Grant  bool   `json:"grant"`
	Reason string `json:"reason,omitempty"`
	// ValidUntil overrides the default habilitation term (5 years).
	ValidUntil atigip.Date `json:"valid_until"`
}

// Decide records the decision of the DSPIP (the PJJ territorial director
// for minors' posts, who signs in with the same role) once every required
// opinion is in or the deadline for opinions has passed.
func Decide(p *atigip.Procedure, a Actor, r DecisionRequest) error {
	if a.Role != atigip.RoleDSPIP {
		return atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas de décider : c'est le rôle du directeur du SPIP (ou du directeur territorial de la PJJ).", roleLabel(a.Role))
	}
	if p.Status != atigip.ProcAwaiting {
		return atigip.Errorf(atigip.ECONFLICT, "La décision a déjà été prise (%s).", atigip.ProcedureStatuses[p.Status])
	}
	today := a.today()
	if miss := Missing(p); len(miss) > 0 && !today.After(p.OpinionDeadline.Time) {
		names := make([]string, len(miss))
		for i, m := range miss {
			names[i] = strings.ToLower(atigip.OpinionAuthorities[m])
		}
		return atigip.Errorf(atigip.ECONFLICT, "Avis attendus (%s) jusqu'au %s : la décision ne peut être prise qu'après ces avis ou cette date.",
			strings.Join(names, ", "), p.OpinionDeadline)
	}
	reason := strings.TrimSpace(r.Reason)
	if !r.Grant && reason == "" {
		return invalid("reason", "Le motif du refus est obligatoire.")
	}
	at := a.At.UTC()
	p.DecidedBy, p.DecidedRole, p.DecidedAt, p.Reason = a.Subject, a.Role, &at, reason
	p.Authority = "Directeur du service pénitentiaire d'insertion et de probation (DSPIP)"
	if p.Minors {
		p.Authority = "Directeur territorial de la protection judiciaire de la jeunesse (PJJ)"
	}
	if !r.Grant {
		p.Status = atigip.ProcRefused
		return nil
	}
	p.Status = atigip.ProcGranted
	if p.ProcKind == atigip.ProcHabilitation {
		p.ValidUntil = r.ValidUntil
		if p.ValidUntil.IsZero() {
			p.ValidUntil = atigip.Date{Time: today.AddDate(HabilitationYears, 0, 0)}
		}
		if !p.ValidUntil.After(today.Time) {
			return invalid("valid_until", "La fin de validité doit être postérieure à aujourd'hui.")
		}
	}
	return nil
}

// Enact carries a decided procedure onto its organisation (habilitation)
// or post (registration).
func Enact(p *atigip.Procedure, o *atigip.Organisation, post *atigip.Post) {
	if p.DecidedAt == nil {
		return
	}
	decided := *p.DecidedAt
	switch p.ProcKind {
	case atigip.ProcHabilitation:
		h := o.Habilitation
		switch p.Status {
		case atigip.ProcGranted:
			exp := p.ValidUntil.Time
			h = atigip.Habilitation{Status: atigip.HabHabilitated, RequestedAt: &p.RequestedAt, DecidedAt: &decided,
				ExpiresAt: &exp, Authority: p.Authority}
		case atigip.ProcRefused:
			if h.Status == atigip.HabHabilitated {
				break // a refused renewal: the current habilitation runs until expiry
			}
			h = atigip.Habilitation{Status: atigip.HabRefused, RequestedAt: &p.RequestedAt, DecidedAt: &decided, Authority: p.Authority}
		}
		o.Habilitation = h
	case atigip.ProcPostRegistration:
		if post != nil && p.Status == atigip.ProcGranted && post.Status == atigip.PostDraft {
			post.Status = atigip.PostRegistered
		}
	}
}

// Expire marks o expired when its habilitation ended before today, and
// reports whether it changed.
func Expire(o *atigip.Organisation, today atigip.Date) bool {
	h := o.Habilitation
	if h.Status != atigip.HabHabilitated || h.ExpiresAt == nil || !atigip.DateOf(*h.ExpiresAt).Before(today.Time) {
		return false
	}
	o.Habilitation.Status = atigip.HabExpired
	return true
}
