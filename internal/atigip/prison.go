package atigip

import (
	"strings"
	"time"
)

// PrisonType is the category of a penitentiary establishment.
type PrisonType string

// PrisonTypes lists the valid types with their French labels.
var PrisonTypes = map[PrisonType]string{
	"MA":    "Maison d'arrêt",
	"CD":    "Centre de détention",
	"MC":    "Maison centrale",
	"CP":    "Centre pénitentiaire",
	"CSL":   "Centre de semi-liberté",
	"EPM":   "Établissement pénitentiaire pour mineurs",
	"EPSNF": "Établissement public de santé national de Fresnes",
	"CNE":   "Centre national d'évaluation",
}

// Prison is a penitentiary establishment (établissement pénitentiaire).
type Prison struct {
	Meta
	Name     string     `json:"name"`
	Type     PrisonType `json:"type"`
	DISP     string     `json:"disp"` // regional directorate
	SPIP     string     `json:"spip"` // probation service
	Address  Address    `json:"address"`
	Location Point      `json:"location"`
	// LocationPrecision says how exact Location is: the demo data only knows
	// the commune centre ("commune_centroid").
	LocationPrecision string `json:"location_precision,omitempty"`
	Capacity          int    `json:"capacity"`
	// Contact is the named person in charge of work and of businesses'
	// activities: professional data, for the justice audience only.
	Contact *Contact `json:"contact,omitempty"`
	// ServiceContact is the establishment's service (its name, a service
	// mailbox, the switchboard), never a named person: the only contact
	// the public and businesses see, in the API and on the public map.
	ServiceContact *Contact `json:"service_contact,omitempty"`
}

// Kind implements Entity.
func (*Prison) Kind() Kind { return KindPrison }

// Keys implements Entity.
func (p *Prison) Keys() Keys {
	return Keys{Departement: p.Address.Departement, Commune: p.Address.Commune,
		Status: string(p.Type), Public: true}
}

// Validate implements Entity.
func (p *Prison) Validate() error {
	var pr Problems
	pr.Check(strings.TrimSpace(p.Name) == "", "name", "Le nom de l'établissement est obligatoire.")
	if _, ok := PrisonTypes[p.Type]; !ok {
		pr.Add("type", "Type d'établissement inconnu : %q.", p.Type)
	}
	pr.Check(p.Capacity < 0 || p.Capacity > 10000, "capacity", "La capacité doit être comprise entre 0 et 10 000.")
	pr.checkAddress("address", p.Address)
	pr.checkPoint("location", p.Location, true)
	return pr.Err("Établissement pénitentiaire")
}

// FloorUse is what a floor space can be used for.
type FloorUse string

// Floor space uses.
const (
	UseProduction FloorUse = "production"
	UseStorage    FloorUse = "storage"
	UseOffice     FloorUse = "office"
)

// FloorUses lists the valid uses with their French labels.
var FloorUses = map[FloorUse]string{
	UseProduction: "Atelier de production",
	UseStorage:    "Stockage",
	UseOffice:     "Bureaux",
}

// FloorStatus says whether a floor space can be taken.
type FloorStatus string

// Floor space statuses.
const (
	FloorAvailable FloorStatus = "available"
	FloorReserved  FloorStatus = "reserved"
	FloorOccupied  FloorStatus = "occupied"
)

// FloorStatuses lists the valid statuses with their French labels.
var FloorStatuses = map[FloorStatus]string{
	FloorAvailable: "Disponible",
	FloorReserved:  "Réservée",
	FloorOccupied:  "Occupée",
}

// FloorSpace is a surface d'implantation: space in a prison where a
// business (concessionnaire) can set up a workshop.
type FloorSpace struct {
	Meta
	PrisonID       int64       `json:"prison_id"`
	Name           string      `json:"name"`
	Geometry       Polygon     `json:"geometry"`
	AreaM2         float64     `json:"area_m2"`
	Use            FloorUse    `json:"use"`
	CeilingHeightM float64     `json:"ceiling_height_m"`
	LoadingDock    bool        `json:"loading_dock"`
	PowerKVA       float64     `json:"power_kva"`
	AvailableFrom  *time.Time  `json:"available_from,omitempty"`
	Status         FloorStatus `json:"status"`
	Description    string      `json:"description,omitempty"`
	// Departement and Commune repeat the prison's, for filtering.
	Departement string `json:"departement,omitempty"`
	Commune     string `json:"commune,omitempty"`
}

// Kind implements Entity.
func (*FloorSpace) Kind() Kind { return KindFloorSpace }

// Keys implements Entity.
func (f *FloorSpace) Keys() Keys {
	return Keys{Departement: f.Departement, Commune: f.Commune, Status: string(f.Status),
		Parent: f.PrisonID, Public: true}
}

// Validate implements Entity.
func (f *FloorSpace) Validate() error {
	var p Problems
	p.Check(f.PrisonID <= 0, "prison_id", "L'établissement pénitentiaire est obligatoire.")
	p.Check(strings.TrimSpace(f.Name) == "", "name", "Le nom de la surface est obligatoire.")
	p.checkPolygon("geometry", f.Geometry)
	p.Check(f.AreaM2 <= 0 || f.AreaM2 > 100000, "area_m2", "La surface doit être comprise entre 0 et 100 000 m².")
	if _, ok := FloorUses[f.Use]; !ok {
		p.Add("use", "Usage inconnu : %q.", f.Use)
	}
	p.Check(f.CeilingHeightM < 0 || f.CeilingHeightM > 50, "ceiling_height_m", "La hauteur sous plafond doit être comprise entre 0 et 50 m.")
	p.Check(f.PowerKVA < 0 || f.PowerKVA > 100000, "power_kva", "La puissance électrique doit être comprise entre 0 et 100 000 kVA.")
	if _, ok := FloorStatuses[f.Status]; !ok {
		p.Add("status", "Statut inconnu : %q.", f.Status)
	}
	return p.Err("Surface d'implantation")
}
