package tiles

import (
	"context"
	"testing"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"

	"github.com/atigip/atigip360/internal/atigip"
)

// fixture is a small hand-made data set with known places.
func fixture() Data {
	org := func(id int64, name string, active bool) *atigip.Organisation {
		return &atigip.Organisation{Meta: atigip.Meta{ID: id, Version: 1}, Name: name, OrgKind: atigip.OrgCommune,
			Active: active, Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated},
			Contacts: []atigip.Contact{{Name: "Claire Martin", Role: "Tutrice", Email: "tuteur@mairie.example.fr", Phone: "0102030405"}}}
	}
	post := func(id, orgID int64, title string, lon, lat float64, vis atigip.Visibility, st atigip.PostStatus) *atigip.Post {
		return &atigip.Post{Meta: atigip.Meta{ID: id, Version: 1}, OrganisationID: orgID, Title: title,
			Description: "Entretien des espaces verts et petits travaux.", ROMECodes: []string{"A1203"},
			Places: 3, PlacesTaken: 1, MinorsAccepted: id%2 == 0, WheelchairAccess: true,
			Schedule: atigip.Schedule{Slots: []atigip.Slot{{Day: 2, Start: "09:00", End: "12:00"}, {Day: 6, Start: "08:00", End: "12:00"}}},
			Address:  atigip.Address{City: "Ville", Postcode: "69001", Commune: "69381", Departement: "69"},
			Location: atigip.Point{Lon: lon, Lat: lat}, Status: st, Visibility: vis}
	}
	return Data{
		Organisations: []*atigip.Organisation{org(1, "Mairie de Lyon", true), org(2, "Association fermée", false)},
		Posts: []*atigip.Post{
			post(10, 1, "Espaces verts Lyon", 4.8357, 45.7640, atigip.VisibilityPublic, atigip.PostOpen),
			post(11, 1, "Bibliothèque Lyon", 4.8400, 45.7600, atigip.VisibilityPublic, atigip.PostOpen),
			post(12, 1, "Poste réservé justice", 4.8500, 45.7500, atigip.VisibilityJustice, atigip.PostOpen),
			post(13, 1, "Brouillon", 4.8300, 45.7700, atigip.VisibilityPublic, atigip.PostDraft),
			post(14, 2, "Structure archivée", 4.8200, 45.7800, atigip.VisibilityPublic, atigip.PostOpen),
			post(15, 1, "Voirie Lille", 3.0573, 50.6292, atigip.VisibilityPublic, atigip.PostFull),
			post(16, 1, "Port Marseille", 5.3698, 43.2965, atigip.VisibilityPublic, atigip.PostRegistered),
			post(17, 1, "Fermé", 5.3600, 43.3000, atigip.VisibilityPublic, atigip.PostClosed),
		},
		Prisons: []*atigip.Prison{{Meta: atigip.Meta{ID: 100, Version: 1}, Name: "Centre pénitentiaire de Lyon-Corbas",
			Type: "CP", DISP: "lyon", Address: atigip.Address{City: "Corbas", Departement: "69"},
			Location: atigip.Point{Lon: 4.9000, Lat: 45.6700}, Capacity: 690,
			Contact: &atigip.Contact{Name: "Jean Dupont", Role: "Chef du travail", Email: "ipro.corbas@justice.example.fr"}}},
		FloorSpaces: []*atigip.FloorSpace{{Meta: atigip.Meta{ID: 200, Version: 1}, PrisonID: 100, Name: "Atelier A",
			Geometry: square(4.9000, 45.6700, 0.002), AreaM2: 800, Use: atigip.UseProduction, CeilingHeightM: 6,
			LoadingDock: true, PowerKVA: 250, Status: atigip.FloorAvailable, Departement: "69"}},
	}
}

// square is a closed ring around (lon, lat), counter-clockwise in WGS84
// (which is clockwise in tile coordinates, y down).
func square(lon, lat, d float64) atigip.Polygon {
	pt := func(x, y float64) atigip.Point { return atigip.Point{Lon: x, Lat: y} }
	return atigip.Polygon{{pt(lon-d, lat-d), pt(lon+d, lat-d), pt(lon+d, lat+d), pt(lon-d, lat+d), pt(lon-d, lat-d)}}
}

func mustBuild(t testing.TB, d Data, o Options) *Engine {
	t.Helper()
	e, err := Build(d, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func decode(t testing.TB, e *Engine, a atigip.Audience, ts string, z, x, y int) (mvt.Layers, Tile) {
	t.Helper()
	tl, err := e.Tile(context.Background(), a, ts, z, x, y)
	if err != nil {
		t.Fatalf("tile %s %d/%d/%d: %v", ts, z, x, y, err)
	}
	if tl.Empty {
		return nil, tl
	}
	ls, err := mvt.Unmarshal(tl.Data)
	if err != nil {
		t.Fatalf("decode %d/%d/%d: %v", z, x, y, err)
	}
	return ls, tl
}

func layer(ls mvt.Layers, name string) *mvt.Layer {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// fid is a decoded feature id (orb decodes ids as float64).
func fid(id any) uint64 {
	switch v := id.(type) {
	case float64:
		return uint64(v)
	case uint64:
		return v
	}
	return 0
}

// features is the layer's features, none for a missing layer.
func features(l *mvt.Layer) []*geojson.Feature {
	if l == nil {
		return nil
	}
	return l.Features
}

// at returns the items of every tile of zoom z.
func (p *pyramid) at(z int) []item {
	if z < len(p.levels) {
		return p.levels[z]
	}
	return leafItems(p.leaves)
}
