package seed

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// testNow is today, as Person.Validate checks ages against the clock.
var testNow = atigip.DateOf(time.Now()).Time

var (
	cacheMu sync.Mutex
	cache   = map[float64]*Dataset{}
)

// dataset generates (once per scale) the data set of seed 42.
func dataset(t testing.TB, scale float64) *Dataset {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if d, ok := cache[scale]; ok {
		return d
	}
	d, err := Generate(Options{Scale: scale, Seed: 42, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	cache[scale] = d
	return d
}

func TestGenerateDeterministic(t *testing.T) {
	base := Options{Scale: 0.02, Seed: 7, Now: testNow}
	a, err := Generate(base)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		same bool
	}{
		{"same options", base, true},
		{"other seed", Options{Scale: 0.02, Seed: 8, Now: testNow}, false},
		{"other scale", Options{Scale: 0.03, Seed: 7, Now: testNow}, false},
		{"other date", Options{Scale: 0.02, Seed: 7, Now: testNow.AddDate(0, 0, -1)}, false},
		{"progress and batch size do not matter", Options{Scale: 0.02, Seed: 7, Now: testNow.Add(5 * time.Hour), BatchSize: 3, Progress: func(Progress) {}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Generate(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Hash() == b.Hash(); got != tt.same {
				t.Errorf("hashes equal = %v, want %v", got, tt.same)
			}
		})
	}
}

func TestGenerateCounts(t *testing.T) {
	tests := []struct {
		scale float64
		want  map[atigip.Kind]int
	}{
		{0.01, map[atigip.Kind]int{
			atigip.KindPrison: 176, atigip.KindOrganisation: 150, atigip.KindPost: 310,
			atigip.KindFloorSpace: 6, atigip.KindOffer: 20 + 8 + 10, atigip.KindPerson: 160 + 40, atigip.KindMeasure: 160,
		}},
		{0.05, map[atigip.Kind]int{
			atigip.KindPrison: 176, atigip.KindOrganisation: 750, atigip.KindPost: 1550,
			atigip.KindFloorSpace: 30, atigip.KindOffer: 100 + 40 + 50, atigip.KindPerson: 800 + 200, atigip.KindMeasure: 800,
		}},
		{0.005, map[atigip.Kind]int{
			atigip.KindPrison: 88, atigip.KindOrganisation: 75, atigip.KindPost: 155,
			atigip.KindFloorSpace: 3, atigip.KindOffer: 10 + 4 + 5, atigip.KindPerson: 80 + 20, atigip.KindMeasure: 80,
		}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(formatScale(tt.scale), ".", "_"), func(t *testing.T) {
			d := dataset(t, tt.scale)
			got := d.Counts()
			for k, n := range tt.want {
				if got[k] != n {
					t.Errorf("%s: %d, want %d", k, got[k], n)
				}
			}
			if got[atigip.KindApplication] == 0 {
				t.Error("no application")
			}
		})
	}
}

func formatScale(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestGenerateRejectsBadScale(t *testing.T) {
	for _, s := range []float64{-1, math.NaN(), maxScale + 1} {
		_, err := Generate(Options{Scale: s})
		if atigip.ErrorCode(err) != atigip.EINVALID {
			t.Errorf("scale %v: error %v, want EINVALID", s, err)
		}
	}
}

func TestEveryEntityValid(t *testing.T) {
	for _, scale := range []float64{0.01, 0.05} {
		d := dataset(t, scale)
		for _, k := range atigip.Kinds {
			t.Run(formatScale(scale)+"/"+string(k), func(t *testing.T) {
				es := d.Entities(k)
				if len(es) == 0 {
					t.Fatal("none")
				}
				bad := 0
				for i, e := range es {
					if err := e.Validate(); err != nil {
						if bad++; bad <= 3 {
							t.Errorf("#%d: %v", i, err)
						}
					}
				}
			})
		}
	}
}

func TestPrisons(t *testing.T) {
	d := dataset(t, 0.01)
	real := refdata.Prisons()
	if len(d.Prisons) != len(real) {
		t.Fatalf("%d prisons, want %d", len(d.Prisons), len(real))
	}
	for i, p := range d.Prisons {
		if p.Name != real[i].Name || p.Location.Lat != real[i].Lat || p.Location.Lon != real[i].Lon {
			t.Errorf("prison %d is %q at %v, want the real %q", i, p.Name, p.Location, real[i].Name)
		}
		if p.LocationPrecision != "commune_centroid" || p.DISP == "" || p.SPIP == "" || p.Contact == nil || p.Capacity <= 0 {
			t.Errorf("prison %q incomplete: %+v", p.Name, p)
		}
	}
}

func TestFloorSpaces(t *testing.T) {
	d := dataset(t, 0.05)
	for _, f := range d.FloorSpaces {
		p := d.Prisons[f.PrisonID-1]
		if f.AreaM2 < 90 || f.AreaM2 > 3100 {
			t.Errorf("%s: %.0f m², want 100 to 3000", f.Name, f.AreaM2)
		}
		if dist := atigip.DistanceKm(p.Location, f.Geometry[0][0]); dist > 1.5 {
			t.Errorf("%s: %.1f km from its prison", f.Name, dist)
		}
		if !strings.Contains(f.Description, "centre de sa commune") {
			t.Errorf("%s: description does not say the location is a commune centre", f.Name)
		}
		if f.Commune != p.Address.Commune {
			t.Errorf("%s: commune %s, prison's %s", f.Name, f.Commune, p.Address.Commune)
		}
	}
}

func TestMeasuresConsistent(t *testing.T) {
	d := dataset(t, 0.05)
	states := map[atigip.MeasureState]int{}
	active := make([]int, len(d.Posts))
	for _, m := range d.Measures {
		states[m.State]++
		p := d.People[m.PersonID-1]
		if p.Detained {
			t.Errorf("measure of a detainee")
		}
		if m.Minor != p.Minor {
			t.Errorf("measure minor %v, person %v", m.Minor, p.Minor)
		}
		if m.PostID > 0 {
			post := d.Posts[m.PostID-1]
			if p.Minor && !post.MinorsAccepted {
				t.Errorf("minor placed on a post closed to minors")
			}
			if m.State == atigip.MeasureAssigned || m.State == atigip.MeasureInProgress {
				active[m.PostID-1]++
			}
		}
		switch m.State {
		case atigip.MeasureToPlace, atigip.MeasureProposed, atigip.MeasureAssigned:
			if m.HoursDone != 0 {
				t.Errorf("%s with %v hours done", m.State, m.HoursDone)
			}
		case atigip.MeasureCompleted:
			if m.HoursDone != float64(m.HoursOrdered) {
				t.Errorf("completed with %v of %d hours", m.HoursDone, m.HoursOrdered)
			}
		case atigip.MeasureInProgress, atigip.MeasureSuspended:
			if m.HoursDone <= 0 || m.HoursDone >= float64(m.HoursOrdered) {
				t.Errorf("%s with %v of %d hours", m.State, m.HoursDone, m.HoursOrdered)
			}
		}
		if m.State == atigip.MeasureSuspended {
			last := m.Suspensions[len(m.Suspensions)-1]
			if !last.To.IsZero() {
				t.Errorf("suspended measure without an open suspension")
			}
		}
		if len(m.History) == 0 || m.History[len(m.History)-1].To != m.State {
			t.Errorf("history does not end in state %s: %+v", m.State, m.History)
		}
		for i := 1; i < len(m.History); i++ {
			if m.History[i].At.Before(m.History[i-1].At) || m.History[i].From != m.History[i-1].To {
				t.Errorf("history out of order: %+v", m.History)
				break
			}
		}
		if m.SentenceDate.Before(testNow.AddDate(-3, 0, -1)) || m.SentenceDate.After(testNow) {
			t.Errorf("sentence date %s outside the last three years", m.SentenceDate)
		}
	}
	for s := range atigip.MeasureStates {
		if states[s] == 0 {
			t.Errorf("no measure in state %s", s)
		}
	}
	for i, p := range d.Posts {
		if p.PlacesTaken != active[i] {
			t.Errorf("post %d: %d places taken, %d measures on it", i, p.PlacesTaken, active[i])
		}
		if (p.Status == atigip.PostFull) != (p.PlacesTaken == p.Places && p.Status != atigip.PostClosed) && p.Status != atigip.PostDraft && p.Status != atigip.PostRegistered {
			t.Errorf("post %d: status %s with %d/%d places", i, p.Status, p.PlacesTaken, p.Places)
		}
	}
}

func TestPostsSpread(t *testing.T) {
	d := dataset(t, 0.05)
	status := map[atigip.PostStatus]int{}
	justice, minors := 0, 0
	for _, p := range d.Posts {
		status[p.Status]++
		if p.Visibility == atigip.VisibilityJustice {
			justice++
		}
		if p.MinorsAccepted {
			minors++
		}
		if (p.Risky || p.CareSetting) && !p.MedicalCheck {
			t.Errorf("risky or care post without medical check")
		}
		if len(p.Schedule.Slots) == 0 || p.Places < 1 || p.Places > 5 {
			t.Errorf("post %q: %d places, %d slots", p.Title, p.Places, len(p.Schedule.Slots))
		}
		o := d.Organisations[p.OrganisationID-1]
		if p.Address.Commune != o.Address.Commune {
			t.Errorf("post outside its organisation's commune")
		}
	}
	for s := range atigip.PostStatuses {
		if status[s] == 0 {
			t.Errorf("no post %s", s)
		}
	}
	if share := float64(justice) / float64(len(d.Posts)); share < 0.1 || share > 0.2 {
		t.Errorf("%.0f %% justice-only posts, want about 15 %%", share*100)
	}
	if minors == 0 {
		t.Error("no post for minors")
	}
}

func TestPostsAroundLyon(t *testing.T) {
	d := dataset(t, 0.05)
	lyon := atigip.Point{Lon: 4.835, Lat: 45.758}
	in69, near := 0, 0
	for _, p := range d.Posts {
		if p.Address.Departement == "69" {
			in69++
			if atigip.DistanceKm(lyon, p.Location) < 20 {
				near++
			}
		}
	}
	if in69 < 20 || near < 10 {
		t.Errorf("%d posts in the Rhône, %d within 20 km of Lyon; want many", in69, near)
	}
}

func TestOrganisations(t *testing.T) {
	d := dataset(t, 0.05)
	sirets := map[string]bool{}
	names := map[string]bool{}
	kinds := map[atigip.OrganisationKind]int{}
	habs := map[atigip.HabilitationStatus]int{}
	for _, o := range d.Organisations {
		if !atigip.ValidSIRET(o.SIRET) || sirets[o.SIRET] {
			t.Errorf("%s: SIRET %s invalid or reused", o.Name, o.SIRET)
		}
		sirets[o.SIRET] = true
		if names[o.Name] {
			t.Errorf("name %q reused", o.Name)
		}
		names[o.Name] = true
		kinds[o.OrgKind]++
		habs[o.Habilitation.Status]++
		if o.OrgKind == atigip.OrgCommune && !strings.HasPrefix(o.Name, "Mairie") && !strings.Contains(o.Name, "ville") && !strings.Contains(o.Name, "municipal") {
			t.Errorf("commune named %q", o.Name)
		}
		if h := o.Habilitation; h.Status == atigip.HabHabilitated && (h.ExpiresAt == nil || !h.ExpiresAt.After(testNow) || h.DecidedAt == nil) {
			t.Errorf("%s: habilitated without valid dates", o.Name)
		}
		for _, c := range o.Contacts {
			if !strings.HasSuffix(c.Email, ".test") {
				t.Errorf("contact e-mail %q outside the reserved .test domain", c.Email)
			}
		}
	}
	for k := range atigip.OrganisationKinds {
		if kinds[k] == 0 {
			t.Errorf("no organisation of kind %s", k)
		}
	}
	for s := range atigip.HabilitationStatuses {
		if habs[s] == 0 {
			t.Errorf("no organisation with habilitation %s", s)
		}
	}
	if habs[atigip.HabHabilitated] < len(d.Organisations)*7/10 {
		t.Errorf("only %d of %d habilitated", habs[atigip.HabHabilitated], len(d.Organisations))
	}
}

// TestNoPersonalDataInOrganisations checks that no pseudonym or case
// reference leaks into the public kinds.
func TestNoPersonalDataInOrganisations(t *testing.T) {
	d := dataset(t, 0.05)
	var secrets []string
	for _, p := range d.People {
		secrets = append(secrets, p.Pseudonym, p.CaseRef)
	}
	for _, m := range d.Measures {
		secrets = append(secrets, m.CaseRef)
	}
	for _, k := range atigip.Kinds {
		if k.Sensitive() {
			continue
		}
		var b strings.Builder
		for _, e := range d.Entities(k) {
			writeEntity(&b, e)
		}
		text := b.String()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains %q", k, s)
				break
			}
		}
	}
}

func TestPeople(t *testing.T) {
	d := dataset(t, 0.05)
	pseudo, refs := map[string]bool{}, map[string]bool{}
	minors, noDiploma, community := 0, 0, 0
	for _, p := range d.People {
		if pseudo[p.Pseudonym] || refs[p.CaseSystem+p.CaseRef] {
			t.Errorf("pseudonym or case reference reused")
		}
		pseudo[p.Pseudonym], refs[p.CaseSystem+p.CaseRef] = true, true
		if p.Minor {
			minors++
			if age := p.AgeAt(testNow); age < 16 || age > 17 {
				t.Errorf("minor aged %d", age)
			}
		}
		if len(p.Diplomas) == 0 || (len(p.Diplomas) == 1 && p.Diplomas[0] == "Permis B") {
			noDiploma++
		}
		if !p.Detained {
			community++
		}
		for _, s := range p.Skills {
			if _, ok := refdata.SkillByOGR(s); !ok {
				t.Errorf("unknown skill %s", s)
			}
		}
	}
	if minors == 0 {
		t.Error("no minor")
	}
	if share := float64(noDiploma) / float64(len(d.People)); share < 0.5 || share > 0.7 {
		t.Errorf("%.0f %% without diploma, want about 60 %%", share*100)
	}
	if community != len(d.Measures) {
		t.Errorf("%d people in the community, %d measures", community, len(d.Measures))
	}
}

func TestApplications(t *testing.T) {
	d := dataset(t, 0.05)
	ranks := map[int64][]int{}
	accepted := map[int64]int{}
	states := map[atigip.ApplicationState]int{}
	for _, a := range d.Applications {
		states[a.State]++
		p, o := d.People[a.PersonID-1], d.Offers[a.OfferID-1]
		if !p.Detained || o.PrisonID != p.PrisonID {
			t.Errorf("application outside the person's prison")
		}
		if o.OfferKind == atigip.OfferWork && !p.WorkCleared {
			t.Errorf("work application without CPU clearance")
		}
		switch a.State {
		case atigip.AppSubmitted, atigip.AppInterview:
			ranks[a.OfferID] = append(ranks[a.OfferID], a.Rank)
		default:
			if a.Rank != 0 {
				t.Errorf("%s application ranked %d", a.State, a.Rank)
			}
		}
		if a.State == atigip.AppAccepted {
			accepted[a.OfferID]++
		}
	}
	for s := range atigip.ApplicationStates {
		if states[s] == 0 {
			t.Errorf("no application %s", s)
		}
	}
	for id, rs := range ranks {
		seen := map[int]bool{}
		for _, r := range rs {
			if r < 1 || r > len(rs) || seen[r] {
				t.Errorf("offer %d: ranks %v, want 1..%d", id, rs, len(rs))
				break
			}
			seen[r] = true
		}
	}
	for id, n := range accepted {
		if o := d.Offers[id-1]; n > o.PlacesTaken {
			t.Errorf("offer %d: %d accepted, %d places taken", id, n, o.PlacesTaken)
		}
	}
}

func TestOffers(t *testing.T) {
	d := dataset(t, 0.05)
	kinds := map[atigip.OfferKind]int{}
	for _, o := range d.Offers {
		kinds[o.OfferKind]++
		if o.OfferKind == atigip.OfferWork && (o.HoursPerWeek < 10 || o.HoursPerWeek > 48 || o.Schedule.MaxHoursPerDay() > 10) {
			t.Errorf("work offer of %v h a week", o.HoursPerWeek)
		}
		if o.HoursPerWeek != o.Schedule.HoursPerWeek() {
			t.Errorf("hours %v, schedule %v", o.HoursPerWeek, o.Schedule.HoursPerWeek())
		}
		if o.OfferKind == atigip.OfferRelease && o.Address.Departement != d.Prisons[o.PrisonID-1].Address.Departement {
			t.Errorf("job at release away from the prison's département")
		}
	}
	if len(kinds) != 3 {
		t.Errorf("offer kinds %v", kinds)
	}
}

func TestJobTablesUseRealROME(t *testing.T) {
	var codes []string
	for _, j := range tigJobs {
		codes = append(codes, j.rome)
	}
	for _, cs := range prisonWorkJobs {
		codes = append(codes, cs...)
	}
	codes = append(append(append(codes, trainingJobs...), releaseJobs...), experienceJobs...)
	tp := titlePool{}
	for _, c := range codes {
		if _, ok := refdata.ROMEByCode(c); !ok {
			t.Errorf("%s is not a ROME 4.0 code", c)
			continue
		}
		if len(tp.titles(c)) == 0 {
			t.Errorf("%s: no title", c)
		}
		for _, title := range tp.titles(c) {
			if strings.Contains(strings.ToLower(title), "chef") {
				t.Errorf("%s: manager title %q", c, title)
			}
		}
		if len(refdata.SkillsOf(c)) == 0 {
			t.Errorf("%s: no skill", c)
		}
	}
}

func TestDeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Lyon", "de Lyon"},
		{"Le Mans", "du Mans"},
		{"Les Mureaux", "des Mureaux"},
		{"La Rochelle", "de La Rochelle"},
		{"L'Haÿ-les-Roses", "de L'Haÿ-les-Roses"},
		{"Angers", "d'Angers"},
		{"Évry-Courcouronnes", "d'Évry-Courcouronnes"},
		{"Hazebrouck", "de Hazebrouck"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := deName(tt.in); got != tt.want {
				t.Errorf("deName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTownHall(t *testing.T) {
	tests := []struct{ insee, want string }{
		{"69383", "Mairie du 3e arrondissement de Lyon"},
		{"75101", "Mairie du 1er arrondissement de Paris"},
		{"72181", "Mairie du Mans"},
	}
	for _, tt := range tests {
		t.Run(tt.insee, func(t *testing.T) {
			c, ok := refdata.CommuneByINSEE(tt.insee)
			if !ok {
				t.Fatalf("no commune %s", tt.insee)
			}
			if got := townHall(c); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSIRET checks the drawn SIRETs; the Luhn keys themselves are tested
// with atigip.LuhnKey.
func TestSIRET(t *testing.T) {
	r := (&gen{opts: Options{Seed: 1}}).rng(99)
	for i := 0; i < 1000; i++ {
		for _, prefix := range []string{"21", "7", "35600000"} {
			s := siret(r, prefix)
			if !atigip.ValidSIRET(s) || atigip.LuhnKey(s[:8]) != s[8] {
				t.Fatalf("siret(%q) = %s, invalid", prefix, s)
			}
		}
	}
}
