package tiles

import (
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
)

// Layer names, as in the tiles and in TileJSON vector_layers.
const (
	LayerBoundaries  = "boundaries"
	LayerFloorSpaces = "floor_spaces"
	LayerPrisons     = "prisons"
	LayerPosts       = "posts"
)

// layerOrder is the drawing order inside a tile, bottom first.
var layerOrder = []string{LayerBoundaries, LayerFloorSpaces, LayerPrisons, LayerPosts}

// Field is one attribute a layer may carry.
type Field struct {
	Name string
	// Type is the MVT value type: String, Number or Boolean.
	Type string
	// Audience is the narrowest audience that may see the field: a
	// "public" field is in both tilesets, a "justice" one only in justice.
	Audience    atigip.Audience
	Description string // French, shown in TileJSON
}

const (
	tString = "String"
	tNumber = "Number"
	tBool   = "Boolean"
)

func pub(name, typ, desc string) Field { return Field{name, typ, atigip.AudiencePublic, desc} }
func jus(name, typ, desc string) Field { return Field{name, typ, atigip.AudienceJustice, desc} }

// Fields is the attribute whitelist per layer and audience: the encoder
// never writes a key that is not listed here for the tile's audience (a
// test decodes every public tile and checks it). Nothing personal is on
// the public list: no person, no places left, no named contact.
var Fields = map[string][]Field{
	LayerPosts: {
		pub("cluster", tBool, "Vrai pour un regroupement de postes"),
		pub("point_count", tNumber, "Nombre de postes représentés (1 pour un poste seul)"),
		pub("point_count_abbreviated", tString, "Nombre de postes abrégé (1,2k)"),
		pub("expansion_zoom", tNumber, "Regroupement : niveau de zoom où il s'ouvre"),
		pub("minors_count", tNumber, "Regroupement : postes acceptant les mineurs"),
		pub("weekends_count", tNumber, "Regroupement : postes ouverts le week-end"),
		pub("wheelchair_count", tNumber, "Regroupement : postes accessibles en fauteuil roulant"),
		pub("transport_count", tNumber, "Regroupement : postes desservis par les transports en commun"),
		pub("domains", tString, "Domaines ROME présents (lettres A à N)"),
		pub("title", tString, "Intitulé du poste"),
		pub("tasks", tString, "Tâches (extrait de la description)"),
		pub("rome", tString, "Codes ROME, séparés par des virgules"),
		pub("organisation", tString, "Structure d'accueil"),
		pub("organisation_kind", tString, "Type de structure d'accueil"),
		pub("city", tString, "Commune"),
		pub("commune", tString, "Code INSEE de la commune"),
		pub("departement", tString, "Code du département"),
		pub("hours_per_week", tNumber, "Heures par semaine"),
		pub("schedule", tString, "Horaires"),
		pub("weekends", tBool, "Ouvert le week-end"),
		pub("minors_accepted", tBool, "Mineurs acceptés (à partir de 16 ans)"),
		pub("wheelchair_access", tBool, "Accessible en fauteuil roulant"),
		pub("public_transport", tBool, "Desservi par les transports en commun"),
		pub("medical_check", tBool, "Visite médicale requise"),
		jus("places_available", tNumber, "Regroupement : places restantes au total"),
		jus("with_places_count", tNumber, "Regroupement : postes ayant des places restantes"),
		jus("status", tString, "Statut du poste"),
		jus("visibility", tString, "Visibilité : public ou justice"),
		jus("places", tNumber, "Nombre de places"),
		jus("places_left", tNumber, "Places restantes"),
		jus("address", tString, "Adresse"),
		jus("contact_name", tString, "Contact professionnel de la structure : nom"),
		jus("contact_role", tString, "Contact professionnel : fonction"),
		jus("contact_email", tString, "Contact professionnel : courriel"),
		jus("contact_phone", tString, "Contact professionnel : téléphone"),
	},
	LayerPrisons: {
		pub("name", tString, "Nom de l'établissement pénitentiaire"),
		pub("type", tString, "Type (MA, CD, MC, CP…)"),
		pub("type_label", tString, "Type en clair"),
		pub("disp", tString, "Direction interrégionale"),
		pub("spip", tString, "Service pénitentiaire d'insertion et de probation"),
		pub("city", tString, "Commune"),
		pub("departement", tString, "Code du département"),
		pub("capacity", tNumber, "Capacité"),
		pub("location_precision", tString, "Précision de la position"),
		pub("floor_spaces", tNumber, "Surfaces d'implantation disponibles"),
		pub("service", tString, "Contact pour les entreprises : service de l'établissement"),
		pub("contact_email", tString, "Contact pour les entreprises : courriel du service"),
		pub("contact_phone", tString, "Contact pour les entreprises : téléphone du service"),
		jus("contact_name", tString, "Référent nommé : nom"),
		jus("contact_role", tString, "Référent nommé : fonction"),
	},
	LayerFloorSpaces: {
		pub("name", tString, "Nom de la surface"),
		pub("prison_id", tNumber, "Identifiant de l'établissement"),
		pub("prison", tString, "Établissement pénitentiaire"),
		pub("area_m2", tNumber, "Surface (m²)"),
		pub("use", tString, "Usage (production, storage, office)"),
		pub("use_label", tString, "Usage en clair"),
		pub("ceiling_height_m", tNumber, "Hauteur sous plafond (m)"),
		pub("loading_dock", tBool, "Quai de chargement"),
		pub("power_kva", tNumber, "Puissance électrique (kVA)"),
		pub("available_from", tString, "Disponible à partir du (AAAA-MM-JJ)"),
		pub("status", tString, "Statut (available, reserved, occupied)"),
		pub("status_label", tString, "Statut en clair"),
	},
	LayerBoundaries: {
		pub("kind", tString, "region ou departement"),
		pub("code", tString, "Code INSEE"),
		pub("name", tString, "Nom"),
	},
}

// AllowedFields returns the names of the fields of layer that audience may
// see, sorted.
func AllowedFields(layer string, a atigip.Audience) []string {
	var out []string
	for _, f := range Fields[layer] {
		if f.Audience == atigip.AudiencePublic || a == atigip.AudienceJustice {
			out = append(out, f.Name)
		}
	}
	slices.Sort(out)
	return out
}

// fieldAllowed is the encoder's guard, built once.
var fieldAllowed = func() map[atigip.Audience]map[string]map[string]bool {
	m := map[atigip.Audience]map[string]map[string]bool{}
	for _, a := range []atigip.Audience{atigip.AudiencePublic, atigip.AudienceJustice} {
		m[a] = map[string]map[string]bool{}
		for layer := range Fields {
			m[a][layer] = map[string]bool{}
			for _, n := range AllowedFields(layer, a) {
				m[a][layer][n] = true
			}
		}
	}
	return m
}()

// Tilesets are the tile sets served: one per audience, same layers.
var Tilesets = map[string]atigip.Audience{
	"public":  atigip.AudiencePublic,
	"justice": atigip.AudienceJustice,
}
