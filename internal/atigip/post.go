package atigip

import "strings"

// PostStatus is the life cycle of a TIG post.
type PostStatus string

// Post statuses.
const (
	PostDraft      PostStatus = "draft"
	PostRegistered PostStatus = "registered"
	PostOpen       PostStatus = "open"
	PostFull       PostStatus = "full"
	PostClosed     PostStatus = "closed"
)

// PostStatuses lists the valid statuses with their French labels.
var PostStatuses = map[PostStatus]string{
	PostDraft:      "Brouillon",
	PostRegistered: "Inscrit",
	PostOpen:       "Ouvert",
	PostFull:       "Complet",
	PostClosed:     "Fermé",
}

// Visibility says who may see a post.
type Visibility string

// Visibilities: public posts are on the public map; justice posts only for
// justice professionals (magistrates, clerks, lawyers, CPIP, referents).
const (
	VisibilityPublic  Visibility = "public"
	VisibilityJustice Visibility = "justice"
)

// Post is a TIG post (poste de TIG) offered by a host organisation.
type Post struct {
	Meta
	OrganisationID   int64      `json:"organisation_id"`
	Title            string     `json:"title"`
	Description      string     `json:"description,omitempty"`
	ROMECodes        []string   `json:"rome_codes"`
	Skills           []string   `json:"skills,omitempty"` // ROME skill codes (code_ogr)
	Places           int        `json:"places"`
	PlacesTaken      int        `json:"places_taken"`
	Schedule         Schedule   `json:"schedule"`
	MinorsAccepted   bool       `json:"minors_accepted"`
	WheelchairAccess bool       `json:"wheelchair_access"`
	PublicTransport  bool       `json:"public_transport"`
	MedicalCheck     bool       `json:"medical_check"`
	Risky            bool       `json:"risky,omitempty"`        // dangerous machinery, heights…: medical check
	CareSetting      bool       `json:"care_setting,omitempty"` // hospital, care home: medical check
	Address          Address    `json:"address"`
	Location         Point      `json:"location"`
	Status           PostStatus `json:"status"`
	Visibility       Visibility `json:"visibility"`
}

// Kind implements Entity.
func (*Post) Kind() Kind { return KindPost }

// Keys implements Entity.
func (p *Post) Keys() Keys {
	return Keys{Departement: p.Address.Departement, Commune: p.Address.Commune,
		Status: string(p.Status), Parent: p.OrganisationID, ROME: p.ROMECodes,
		Public: p.Visibility == VisibilityPublic && p.Status != PostDraft}
}

// PlacesLeft is the number of places still available.
func (p *Post) PlacesLeft() int { return max(0, p.Places-p.PlacesTaken) }

// Listed reports whether p is shown to audience a on the map and in
// search: registered, open or full (never a draft nor a closed post), at a
// valid place, of an active host organisation (org is p's; nil when
// unknown), and public unless a is the justice audience. It is the one
// rule the tiles and the search index share.
func (p *Post) Listed(org *Organisation, a Audience) bool {
	switch p.Status {
	case PostRegistered, PostOpen, PostFull:
	default:
		return false
	}
	if org == nil || !org.Active || p.Location.IsZero() || !p.Location.Valid() {
		return false
	}
	return p.Visibility == VisibilityPublic || a == AudienceJustice
}

// Validate implements Entity.
func (p *Post) Validate() error {
	var pr Problems
	pr.Check(p.OrganisationID <= 0, "organisation_id", "La structure d'accueil est obligatoire.")
	pr.Check(strings.TrimSpace(p.Title) == "", "title", "L'intitulé du poste est obligatoire.")
	pr.Check(len(p.Title) > 300, "title", "L'intitulé dépasse 300 caractères.")
	pr.Check(len(p.Description) > 10000, "description", "La description dépasse 10 000 caractères.")
	pr.checkROME("rome_codes", p.ROMECodes)
	pr.Check(p.Places < 1 || p.Places > 1000, "places", "Le nombre de places doit être compris entre 1 et 1000.")
	pr.Check(p.PlacesTaken < 0 || p.PlacesTaken > p.Places, "places_taken", "Les places occupées doivent être comprises entre 0 et le nombre de places.")
	pr.checkSchedule("schedule", p.Schedule)
	pr.checkAddress("address", p.Address)
	pr.checkPoint("location", p.Location, true)
	if _, ok := PostStatuses[p.Status]; !ok {
		pr.Add("status", "Statut de poste inconnu : %q.", p.Status)
	}
	pr.Check(p.Visibility != VisibilityPublic && p.Visibility != VisibilityJustice,
		"visibility", "Visibilité inconnue : %q (public ou justice).", p.Visibility)
	return pr.Err("Poste de TIG")
}
