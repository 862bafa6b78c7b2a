package atigip_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

func TestValidSIRET(t *testing.T) {
	tests := []struct {
		siret string
		want  bool
	}{
		{"73282932000074", true},  // Luhn-valid
		{"73282932000075", false}, // wrong key
		{"7328293200007", false},  // 13 digits
		{"7328293200007A", false}, // letter
		{"35600000000047", true},  // La Poste: digit sum multiple of 5
		{"35600000000048", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.siret, func(t *testing.T) {
			if got := atigip.ValidSIRET(tt.siret); got != tt.want {
				t.Errorf("ValidSIRET(%q) = %v, want %v", tt.siret, got, tt.want)
			}
		})
	}
}

func validPost() *atigip.Post {
	return &atigip.Post{
		OrganisationID: 1, Title: "Entretien des espaces verts", ROMECodes: []string{"A1203"},
		Places: 2, Schedule: atigip.Schedule{Slots: []atigip.Slot{{Day: 1, Start: "08:00", End: "12:00"}}},
		Location: atigip.Point{Lon: 4.83, Lat: 45.76}, Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic,
	}
}

func TestValidateFieldErrors(t *testing.T) {
	tests := []struct {
		name   string
		entity atigip.Entity
		field  string
	}{
		{"post without title", func() atigip.Entity { p := validPost(); p.Title = " "; return p }(), "title"},
		{"post bad rome", func() atigip.Entity { p := validPost(); p.ROMECodes = []string{"Z9999"}; return p }(), "rome_codes[0]"},
		{"post taken over places", func() atigip.Entity { p := validPost(); p.PlacesTaken = 3; return p }(), "places_taken"},
		{"post bad slot", func() atigip.Entity {
			p := validPost()
			p.Schedule.Slots[0].End = "07:00"
			return p
		}(), "schedule.slots[0]"},
		{"post without location", func() atigip.Entity { p := validPost(); p.Location = atigip.Point{}; return p }(), "location"},
		{"organisation bad siret", &atigip.Organisation{Name: "Mairie", OrgKind: atigip.OrgCommune, SIRET: "12345678901234", Habilitation: atigip.Habilitation{Status: atigip.HabNone}}, "siret"},
		{"measure 10 hours", &atigip.Measure{PersonID: 1, HoursOrdered: 10, SentenceDate: atigip.NewDate(2025, 1, 1), State: atigip.MeasureToPlace}, "hours_ordered"},
		{"measure 401 hours", &atigip.Measure{PersonID: 1, HoursOrdered: 401, SentenceDate: atigip.NewDate(2025, 1, 1), State: atigip.MeasureToPlace}, "hours_ordered"},
		{"measure assigned without post", &atigip.Measure{PersonID: 1, HoursOrdered: 100, SentenceDate: atigip.NewDate(2025, 1, 1), State: atigip.MeasureAssigned}, "post_id"},
		{"prison work over 48 h", &atigip.Offer{OfferKind: atigip.OfferWork, Title: "Atelier", PrisonID: 1, Places: 1, HoursPerWeek: 50,
			EmployerKind: atigip.EmployerConcession, Status: atigip.OfferOpen, Location: atigip.Point{Lon: 2, Lat: 48}}, "hours_per_week"},
		{"person bad pseudonym", &atigip.Person{Pseudonym: "x", CaseSystem: "APPI", CaseRef: "1"}, "pseudonym"},
		{"floor space open ring", &atigip.FloorSpace{PrisonID: 1, Name: "Atelier A", AreaM2: 100, Use: atigip.UseStorage, Status: atigip.FloorAvailable,
			Geometry: atigip.Polygon{{{Lon: 2, Lat: 48}, {Lon: 2.001, Lat: 48}, {Lon: 2.001, Lat: 48.001}, {Lon: 2, Lat: 48.002}}}}, "geometry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entity.Validate()
			if atigip.ErrorCode(err) != atigip.EINVALID {
				t.Fatalf("code = %q (%v), want invalid", atigip.ErrorCode(err), err)
			}
			var found bool
			for _, f := range atigip.ErrorFields(err) {
				if f.Field == tt.field {
					found = true
					if f.Message == "" {
						t.Errorf("field %s has no message", f.Field)
					}
				}
			}
			if !found {
				t.Errorf("no error on %q in %v", tt.field, atigip.ErrorFields(err))
			}
		})
	}
	if err := validPost().Validate(); err != nil {
		t.Errorf("valid post rejected: %v", err)
	}
}

func TestDeadlineWithSuspensions(t *testing.T) {
	m := atigip.Measure{SentenceDate: atigip.NewDate(2025, 1, 10)}
	today := atigip.NewDate(2025, 6, 1)
	if got := m.Deadline(today).String(); got != "2026-07-10" {
		t.Errorf("deadline without suspension = %s, want 2026-07-10", got)
	}
	m.Suspensions = []atigip.Suspension{{From: atigip.NewDate(2025, 2, 1), To: atigip.NewDate(2025, 2, 11)}}
	if got := m.Deadline(today).String(); got != "2026-07-20" {
		t.Errorf("deadline with 10 days of suspension = %s, want 2026-07-20", got)
	}
	// An open suspension runs until today.
	m.Suspensions = append(m.Suspensions, atigip.Suspension{From: atigip.NewDate(2025, 5, 22)})
	if got := m.Deadline(today).String(); got != "2026-07-30" {
		t.Errorf("deadline with an open suspension = %s, want 2026-07-30", got)
	}
}

func TestSchedule(t *testing.T) {
	s := atigip.Schedule{Slots: []atigip.Slot{{Day: 1, Start: "08:00", End: "12:00"}, {Day: 1, Start: "13:00", End: "17:30"}, {Day: 6, Start: "21:00", End: "23:00"}}}
	if h := s.HoursPerWeek(); h != 10.5 {
		t.Errorf("HoursPerWeek = %v", h)
	}
	if h := s.MaxHoursPerDay(); h != 8.5 {
		t.Errorf("MaxHoursPerDay = %v", h)
	}
	if !s.Weekends() || !s.NightWork() {
		t.Error("want weekends and night work")
	}
	avail := atigip.Schedule{Slots: []atigip.Slot{{Day: 1, Start: "10:00", End: "14:00"}}}
	if h := s.OverlapHours(avail); h != 3 {
		t.Errorf("OverlapHours = %v, want 3", h)
	}
}

func TestErrorChain(t *testing.T) {
	base := atigip.Errorf(atigip.ECONFLICT, "La fiche a changé.")
	err := fmt.Errorf("sqlite: update posts: %w", base)
	if atigip.ErrorCode(err) != atigip.ECONFLICT || atigip.ErrorMessage(err) != "La fiche a changé." {
		t.Errorf("code/message lost through wrapping: %v", err)
	}
	if atigip.ErrorCode(errors.New("boom")) != atigip.EINTERNAL || atigip.ErrorMessage(errors.New("secret detail")) == "secret detail" {
		t.Error("plain errors must be internal and never show their text")
	}
	if atigip.ErrorCode(nil) != "" {
		t.Error("nil has no code")
	}
}

func TestDateJSON(t *testing.T) {
	var d atigip.Date
	if err := d.UnmarshalJSON([]byte(`"2025-03-04"`)); err != nil || d.String() != "2025-03-04" {
		t.Fatalf("got %v, %v", d, err)
	}
	if err := d.UnmarshalJSON([]byte(`"04/03/2025"`)); err == nil {
		t.Error("want an error on a French-format date")
	}
	b, _ := atigip.Date{}.MarshalJSON()
	if string(b) != "null" {
		t.Errorf("zero date = %s", b)
	}
}

func TestKindsAndAudiences(t *testing.T) {
	for _, k := range atigip.Kinds {
		e := atigip.New(k)
		if e == nil || e.Kind() != k {
			t.Errorf("New(%s) = %v", k, e)
		}
		if k.Sensitive() && e.Keys().Public {
			t.Errorf("sensitive kind %s is public", k)
		}
	}
	if atigip.RolePublic.Audience() != atigip.AudiencePublic || atigip.RoleBusiness.Audience() != atigip.AudiencePublic {
		t.Error("public and business see the public audience")
	}
	if atigip.RoleMagistrate.Audience() != atigip.AudienceJustice || atigip.RoleLawyer.Audience() != atigip.AudienceJustice {
		t.Error("magistrates and lawyers see the justice audience")
	}
	if atigip.RolePublic.Professional() || atigip.RoleBusiness.Professional() || atigip.RoleLawyer.Professional() {
		t.Error("public, business and lawyers are not professionals who read people's data")
	}
	if !strings.HasPrefix(string(atigip.KindFloorSpace), "floor") {
		t.Error("kind names are table names")
	}
}

func ExampleDistanceKm() {
	lyon := atigip.Point{Lon: 4.8357, Lat: 45.7640}
	paris := atigip.Point{Lon: 2.3522, Lat: 48.8566}
	fmt.Printf("%.0f km\n", atigip.DistanceKm(lyon, paris))
	// Output: 391 km
}

func TestPostListed(t *testing.T) {
	active := &atigip.Organisation{Active: true}
	tests := []struct {
		name    string
		edit    func(p *atigip.Post)
		org     *atigip.Organisation
		public  bool
		justice bool
	}{
		{"open public post", func(p *atigip.Post) {}, active, true, true},
		{"justice-only post", func(p *atigip.Post) { p.Visibility = atigip.VisibilityJustice }, active, false, true},
		{"closed post", func(p *atigip.Post) { p.Status = atigip.PostClosed }, active, false, false},
		{"draft post", func(p *atigip.Post) { p.Status = atigip.PostDraft }, active, false, false},
		{"full post", func(p *atigip.Post) { p.Status = atigip.PostFull }, active, true, true},
		{"archived organisation", func(p *atigip.Post) {}, &atigip.Organisation{Active: false}, false, false},
		{"unknown organisation", func(p *atigip.Post) {}, nil, false, false},
		{"no location", func(p *atigip.Post) { p.Location = atigip.Point{} }, active, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPost()
			tt.edit(p)
			if got := p.Listed(tt.org, atigip.AudiencePublic); got != tt.public {
				t.Errorf("public: %v, want %v", got, tt.public)
			}
			if got := p.Listed(tt.org, atigip.AudienceJustice); got != tt.justice {
				t.Errorf("justice: %v, want %v", got, tt.justice)
			}
		})
	}
}

func TestOfferListed(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(o *atigip.Offer)
		public  bool
		justice bool
	}{
		{"open offer with places", func(o *atigip.Offer) {}, true, true},
		{"open offer without a place left", func(o *atigip.Offer) { o.PlacesTaken = o.Places }, false, true},
		{"filled offer", func(o *atigip.Offer) { o.Status = atigip.OfferFilled }, false, true},
		{"closed offer", func(o *atigip.Offer) { o.Status = atigip.OfferClosed }, false, false},
		{"no location", func(o *atigip.Offer) { o.Location = atigip.Point{} }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &atigip.Offer{OfferKind: atigip.OfferWork, Title: "Opérateur de conditionnement", PrisonID: 1,
				Places: 4, PlacesTaken: 1, Status: atigip.OfferOpen, Location: atigip.Point{Lon: 4.83, Lat: 45.76}}
			tt.edit(o)
			if got := o.Listed(atigip.AudiencePublic); got != tt.public {
				t.Errorf("public: %v, want %v", got, tt.public)
			}
			if got := o.Listed(atigip.AudienceJustice); got != tt.justice {
				t.Errorf("justice: %v, want %v", got, tt.justice)
			}
		})
	}
}
