package ipro

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

func week(start, end string, days ...int) atigip.Schedule {
	var s atigip.Schedule
	for _, d := range days {
		s.Slots = append(s.Slots, atigip.Slot{Day: d, Start: start, End: end})
	}
	return s
}

func offer(id int64, title, start, end string) *atigip.Offer {
	sc := week(start, end, 1, 2, 3, 4, 5)
	return &atigip.Offer{Meta: atigip.Meta{ID: id}, OfferKind: atigip.OfferWork, Title: title, PrisonID: 1, Places: 2,
		HoursPerWeek: sc.HoursPerWeek(), Schedule: sc, EmployerKind: atigip.EmployerSEP, Status: atigip.OfferOpen,
		Location: atigip.Point{Lon: 2.35, Lat: 48.85}}
}

func TestJudge(t *testing.T) {
	today := atigip.DateOf(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	cleared := &atigip.Person{Meta: atigip.Meta{ID: 1}, Detained: true, PrisonID: 1, WorkCleared: true}
	morning, evening := offer(1, "Cuisine", "08:00", "14:00"), offer(2, "Conditionnement", "14:00", "18:00")
	for _, tc := range []struct {
		name      string
		p         *atigip.Person
		o         *atigip.Offer
		contracts []*atigip.Offer
		can       bool
		later     string
		blocking  string
	}{
		{"cleared, same establishment", cleared, morning, nil, true, "", ""},
		{"not cleared", &atigip.Person{Meta: atigip.Meta{ID: 2}, Detained: true, PrisonID: 1}, morning, nil, false, "", "CPU"},
		{"another establishment", &atigip.Person{Meta: atigip.Meta{ID: 3}, Detained: true, PrisonID: 2, WorkCleared: true}, morning, nil, false, "", "établissement"},
		{"may apply, 48 h checked at assignment", cleared, evening, []*atigip.Offer{morning}, true, "48", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(tc.p, tc.o, tc.contracts, today, nil)
			if v.CanApply != tc.can {
				t.Fatalf("can apply %v, want %v: %+v", v.CanApply, tc.can, v)
			}
			if tc.blocking != "" && !strings.Contains(strings.Join(v.Blocking, " "), tc.blocking) {
				t.Errorf("blocking %q lacks %q", v.Blocking, tc.blocking)
			}
			if tc.later != "" && !strings.Contains(strings.Join(v.Later, " "), tc.later) {
				t.Errorf("later %q lacks %q", v.Later, tc.later)
			}
			if tc.can && len(v.Met) != len(FilingRules) {
				t.Errorf("met %v", v.Met)
			}
		})
	}
}

func TestDetentionExperience(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC) }
	offers := map[int64]*atigip.Offer{1: offer(1, "Cuisine", "08:00", "14:00"), 2: offer(2, "Conditionnement", "14:00", "18:00")}
	apps := []*atigip.Application{
		{OfferID: 1, State: atigip.AppClosed, History: []atigip.ApplicationEvent{{At: at(1), To: atigip.AppSubmitted},
			{At: at(3), To: atigip.AppAccepted}, {At: at(20), To: atigip.AppClosed, Note: "Contrat clos par le transfert"}}},
		{OfferID: 2, State: atigip.AppAccepted, History: []atigip.ApplicationEvent{{At: at(21), To: atigip.AppSubmitted}, {At: at(25), To: atigip.AppAccepted}}},
		{OfferID: 2, State: atigip.AppRefused, History: []atigip.ApplicationEvent{{At: at(2), To: atigip.AppSubmitted}, {At: at(4), To: atigip.AppRefused}}},
		{OfferID: 9, State: atigip.AppAccepted, History: []atigip.ApplicationEvent{{At: at(5), To: atigip.AppAccepted}}},
	}
	got := DetentionExperience(apps, offers, map[int64]string{1: "Centre pénitentiaire de Test"})
	if len(got) != 2 {
		t.Fatalf("got %d lines: %+v", len(got), got)
	}
	if got[0].Title != "Conditionnement" || !got[0].Ongoing || got[0].To != nil {
		t.Errorf("newest first, ongoing: %+v", got[0])
	}
	if got[1].Title != "Cuisine" || got[1].Ongoing || got[1].To == nil || !got[1].To.Equal(at(20)) || got[1].Prison == "" {
		t.Errorf("ended by the transfer: %+v", got[1])
	}
}

func TestSearchROME(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"cuisinier", "metier"}, {"CUISINIÈRE", "metier"}, {"soudure", ""}, {"", "none"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			hits := SearchROME(tc.q, 10)
			if tc.want == "none" {
				if len(hits) != 0 {
					t.Fatalf("empty query: %v", hits)
				}
				return
			}
			if len(hits) == 0 || len(hits) > 10 {
				t.Fatalf("%d hits", len(hits))
			}
			if tc.want == "metier" && (hits[0].Kind != "metier" || hits[0].ROME == "") {
				t.Errorf("first hit %+v", hits[0])
			}
		})
	}
}

// pdftool returns the path of a poppler tool, failing under CI (.ci/run
// installs poppler-utils) and skipping elsewhere when it is missing.
func pdftool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: apt-get install -y poppler-utils", name)
		}
		t.Skipf("%s not found: install poppler-utils", name)
	}
	return p
}

// TestWriteCV renders the CV and reads it back with pdftotext: the
// accents of the French text survive (embedded UTF-8 font).
func TestWriteCV(t *testing.T) {
	tool := pdftool(t, "pdftotext")
	from := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	cv := CV{Pseudonym: "P-0000001", Jobs: []string{"Cuisinier / Cuisinière (G1602)"}, Skills: []string{"Élaborer des préparations"},
		Diplomas: []string{"CAP Cuisine"}, Experience: []Experience{{Title: "Atelier de cuisine", Kind: "Poste de travail en détention", From: from, Ongoing: true, Hours: 30}},
		Wishes: "Travailler en restauration collective à la sortie.", Mobility: "Mobilité : jusqu'à 20 km.", Made: from}
	var b bytes.Buffer
	if err := WriteCV(&b, cv); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "cv.pdf")
	if err := os.WriteFile(f, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"Métiers recherchés", "Cuisinière", "Expérience professionnelle", "Élaborer des préparations",
		"Diplômes et formations", "depuis le 03/03/2026", "Atelier de cuisine"} {
		if !strings.Contains(text, want) {
			t.Errorf("CV text lacks %q:\n%s", want, text)
		}
	}
}

func ExampleJudge() {
	p := &atigip.Person{Meta: atigip.Meta{ID: 1}, Detained: true, PrisonID: 1}
	o := offer(1, "Atelier de cuisine", "08:00", "14:00")
	v := Judge(p, o, nil, atigip.DateOf(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)), nil)
	fmt.Println(v.CanApply, len(v.Blocking))
	// Output: false 1
}
