package atigip

import (
	"regexp"
	"strings"
	"time"
)

// Transport is how a person gets to a post.
type Transport string

// Transports.
const (
	TransportCar    Transport = "car"
	TransportPublic Transport = "public_transport"
	TransportBike   Transport = "bike"
	TransportWalk   Transport = "walk"
)

// Transports lists the valid means with their French labels.
var Transports = map[Transport]string{
	TransportCar:    "Véhicule personnel",
	TransportPublic: "Transports en commun",
	TransportBike:   "Vélo",
	TransportWalk:   "À pied",
}

// Mobility is how far and how a person can travel.
type Mobility struct {
	RadiusKm  float64   `json:"radius_km"`
	Transport Transport `json:"transport"`
}

// Medical holds the facts that make a medical check compulsory before a
// placement, and whether it was done. No diagnosis is ever stored.
type Medical struct {
	Disability  bool `json:"disability,omitempty"`
	Pregnancy   bool `json:"pregnancy,omitempty"`
	NoNightWork bool `json:"no_night_work,omitempty"`
	NoRiskyWork bool `json:"no_risky_work,omitempty"`
	CheckDone   bool `json:"check_done,omitempty"`
	CheckDoneAt Date `json:"check_done_at,omitempty"`
}

// Person is the professional profile of a person under judicial supervision
// (PPSMJ): a tigiste or a detainee. Identity stays in the case system
// (APPI/GENESIS); here there is a pseudonym and the case reference only.
// Sensitive: never in a public output, a public index or a log line.
type Person struct {
	Meta
	Pseudonym  string `json:"pseudonym"`
	CaseSystem string `json:"case_system"` // APPI (probation) or GENESIS (prison)
	CaseRef    string `json:"case_ref"`
	Minor      bool   `json:"minor"`
	BirthDate  Date   `json:"birth_date"`
	// Home is where the person lives, to the commune: the least data that
	// distance needs.
	Home         Point    `json:"home"`
	HomeAddress  Address  `json:"home_address"`
	Mobility     Mobility `json:"mobility"`
	ROMECodes    []string `json:"rome_codes,omitempty"` // jobs held or sought
	Skills       []string `json:"skills,omitempty"`     // ROME skill codes
	Diplomas     []string `json:"diplomas,omitempty"`
	Experience   string   `json:"experience,omitempty"`
	Wishes       string   `json:"wishes,omitempty"`
	Availability Schedule `json:"availability"`
	Medical      Medical  `json:"medical"`
	// JobHoursPerWeek is a declared job: TIG plus job must stay within the
	// legal week + 12 h.
	JobHoursPerWeek float64 `json:"job_hours_per_week,omitempty"`
	Detained        bool    `json:"detained"`
	PrisonID        int64   `json:"prison_id,omitempty"`
	// WorkCleared is the CPU's clearance for work in prison (classement).
	WorkCleared   bool       `json:"work_cleared,omitempty"`
	WorkClearedAt *time.Time `json:"work_cleared_at,omitempty"`
}

// Kind implements Entity.
func (*Person) Kind() Kind { return KindPerson }

// Keys implements Entity. People are never public.
func (p *Person) Keys() Keys {
	status := "community"
	if p.Detained {
		status = "detained"
	}
	return Keys{Departement: p.HomeAddress.Departement, Commune: p.HomeAddress.Commune,
		Status: status, Parent: p.PrisonID, ROME: p.ROMECodes, Ref: p.CaseSystem + ":" + p.CaseRef}
}

// AgeAt is the person's age in whole years at d (-1 when the birth date is unknown).
func (p *Person) AgeAt(d time.Time) int {
	if p.BirthDate.IsZero() {
		return -1
	}
	// By month and day, not day of the year: a leap year would otherwise
	// move every birthday after February by one day.
	age := d.Year() - p.BirthDate.Year()
	if d.Month() < p.BirthDate.Month() || (d.Month() == p.BirthDate.Month() && d.Day() < p.BirthDate.Day()) {
		age--
	}
	return age
}

var pseudonymRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{3,39}$`)

// Validate implements Entity.
func (p *Person) Validate() error {
	var pr Problems
	pr.Check(!pseudonymRE.MatchString(p.Pseudonym), "pseudonym", "Pseudonyme invalide : 4 à 40 caractères, majuscules, chiffres et tirets.")
	pr.Check(p.CaseSystem != "APPI" && p.CaseSystem != "GENESIS", "case_system", "Système d'origine inconnu : APPI ou GENESIS.")
	pr.Check(strings.TrimSpace(p.CaseRef) == "" || len(p.CaseRef) > 40, "case_ref", "La référence du dossier est obligatoire (40 caractères au plus).")
	if !p.BirthDate.IsZero() {
		age := p.AgeAt(time.Now())
		pr.Check(age < 13 || age > 110, "birth_date", "Date de naissance invraisemblable.")
		pr.Check(p.Minor != (age < 18), "minor", "L'indicateur de minorité ne correspond pas à la date de naissance.")
	}
	pr.checkPoint("home", p.Home, false)
	pr.checkAddress("home_address", p.HomeAddress)
	pr.Check(p.Mobility.RadiusKm < 0 || p.Mobility.RadiusKm > 300, "mobility.radius_km", "Le rayon de mobilité doit être compris entre 0 et 300 km.")
	if _, ok := Transports[p.Mobility.Transport]; !ok && p.Mobility.Transport != "" {
		pr.Add("mobility.transport", "Moyen de transport inconnu : %q.", p.Mobility.Transport)
	}
	pr.checkROME("rome_codes", p.ROMECodes)
	pr.Check(len(p.Experience) > 5000, "experience", "L'expérience dépasse 5 000 caractères.")
	pr.Check(len(p.Wishes) > 2000, "wishes", "Les souhaits dépassent 2 000 caractères.")
	pr.checkSchedule("availability", p.Availability)
	pr.Check(p.JobHoursPerWeek < 0 || p.JobHoursPerWeek > 60, "job_hours_per_week", "Les heures d'emploi déclarées doivent être comprises entre 0 et 60.")
	pr.Check(p.Detained && p.PrisonID <= 0, "prison_id", "Une personne détenue doit être rattachée à un établissement pénitentiaire.")
	return pr.Err("Profil")
}
