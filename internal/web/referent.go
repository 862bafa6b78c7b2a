package web

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"time"

	"github.com/atigip/atigip360/internal/web/frfmt"
)

// PartnerPage is the TIG referent's page of one partner (a host
// organisation), the page Axelor embeds: its posts on a map, its
// habilitation and history, its tigistes and hours this year, its sync.
type PartnerPage struct {
	// Embedded is true when the page was opened by Axelor's signed link:
	// no site header, no links out of the frame.
	Embedded bool
	ID       int64
	Name     string
	Kind     string
	Address  string
	Active   bool
	// Habilitation is the status in French; HabBadge the DSFR badge class.
	Habilitation, HabBadge string
	DecidedAt, ExpiresAt   *time.Time
	Authority              string
	History                []PartnerProcedure
	Posts                  []PartnerPost
	OpenPosts              int
	Year                   int
	Tigistes               int     // measures hosted this year
	Hours                  float64 // hours confirmed this year
	HoursDone              float64 // hours done so far by these measures, all years
	Sync                   SyncView
}

// PartnerProcedure is one habilitation or post-registration procedure.
type PartnerProcedure struct {
	Kind, Status, Badge string
	RequestedAt         time.Time
	DecidedAt           *time.Time
	Opinions            int
	Authority, Reason   string
	ValidUntil          time.Time
}

// PartnerPost is one of the partner's posts, with its place for the map.
type PartnerPost struct {
	ID                 int64
	Title, Status      string
	City               string
	Places, PlacesLeft int
	Lon, Lat           float64
	Located            bool
}

// SyncView is the partner's state in the CRM sync.
type SyncView struct {
	// Configured is false where the CRM sync does not run.
	Configured      bool
	Linked          bool
	CRMID           int64
	CRMVersion      int64
	Label, Badge    string // « À jour », « Envoi en attente »…
	Detail          string
	LastSuccess     *time.Time
	LastError       string
	AgreedHab       string
	AgreedDate      string
	AgreedOpenPosts int
}

// PartnersPage lists the partners the referent follows.
type PartnersPage struct {
	Departement  string
	Departements []Domain
	Query        string
	Rows         []PartnerRow
	Total        int
	Pager        Pager
}

// PartnerRow is one partner in the list.
type PartnerRow struct {
	ID                            int64
	Name, City, Departement, Kind string
	Habilitation, HabBadge        string
}

// Pager is a DSFR pagination: page links around the current one.
type Pager struct {
	Current, Last int
	First, Prev   string
	Next, End     string
	Pages         []PageLink
}

// NewPager builds the pagination of page (1-based) of last, with link
// giving each page's address.
func NewPager(page, last int, link func(int) string) Pager {
	last = max(last, 1)
	page = min(max(page, 1), last)
	p := Pager{Current: page, Last: last}
	if page > 1 {
		p.First, p.Prev = link(1), link(page-1)
	}
	if page < last {
		p.Next, p.End = link(page+1), link(last)
	}
	for n := max(1, page-2); n <= min(last, page+2); n++ {
		p.Pages = append(p.Pages, PageLink{Label: strconv.Itoa(n), URL: link(n), Current: n == page})
	}
	return p
}

// ProspectionPage shows where posts are missing.
type ProspectionPage struct {
	Departement  string
	Departements []Domain
	FarOnly      bool
	View         string // communes or departements
	RadiusKm     float64
	FarCommunes  int
	WaitingFar   int
	// WaitingScope says whose waiting measures are counted (the
	// principal's département, or all).
	WaitingScope string
	Communes     []ProspectionCommune
	Deps         []ProspectionDep
	Total        int
	Pager        Pager
	CSV          string
	ComputedAt   time.Time
}

// ProspectionCommune is one row of the communes' list (and a point on the map).
type ProspectionCommune struct {
	INSEE, Name, Departement string
	Population, Posts, Open  int
	Per10k                   float64
	NearestKm                float64 // -1: beyond 60 km
	Far                      bool
	Waiting                  int
	Lon, Lat                 float64
}

// ProspectionDep is one row of the départements' list.
type ProspectionDep struct {
	Code, Name              string
	Population, Posts, Open int
	Per10k                  float64
	Communes, FarCommunes   int
	FarPopulation           int
	Waiting, WaitingFar     int
	Lon, Lat                float64
}

// IndicatorsPage is the contract's indicators against their targets.
type IndicatorsPage struct {
	Date       time.Time
	ComputedAt time.Time
	Region     string
	RegionName string
	Regions    []Domain
	Year       int
	Targets    []TargetView
	Charts     []Chart
	// Definitions say how each figure is computed.
	Definitions []string
	CSV         string // the targets' CSV
}

// TargetView is one indicator against its target, formatted.
type TargetView struct {
	Key, Label, Unit        string
	Baseline, Goal, Current string
	Progress                int // percent of the way from baseline to goal
	LowerIsBetter           bool
	Gauge                   Chart
}

// Chart is a server-rendered horizontal bar chart (SVG) with its data
// table, its CSV and, optionally, a reference line (the target).
type Chart struct {
	ID, Title, Desc string
	CSV             string
	Width, Height   int
	LabelWidth      int
	Bars            []Bar
	// Ref is the target's line (X in the chart's units), when it fits.
	Ref      *RefLine
	Columns  [3]string // table header: key, value, count
	Empty    bool
	AxisNote string
}

// Bar is one bar with its label and formatted value.
type Bar struct {
	Label, Value, Count string
	X, Y, W, H          float64
	TextY               float64
	LabelX, ValueX      float64
}

// RefLine is a vertical line marking a value (a target).
type RefLine struct {
	X, Y1, Y2 float64
	Label     string
}

// BarPoint is one value to chart.
type BarPoint struct {
	Label string
	Value float64
	Count int
}

// chart geometry, in SVG user units.
const (
	chartWidth  = 640
	chartLabelW = 190
	chartValueW = 90
	chartRowH   = 26
	chartTop    = 8
)

// NewBarChart lays out points as horizontal bars; decimals formats the
// values (French), ref (when not nil) draws the target's line.
func NewBarChart(id, title, desc, csv string, columns [3]string, points []BarPoint, decimals int, unit string, ref *float64, refLabel string) Chart {
	c := Chart{ID: id, Title: title, Desc: desc, CSV: csv, Width: chartWidth, LabelWidth: chartLabelW, Columns: columns}
	maxV := 0.0
	for _, p := range points {
		maxV = math.Max(maxV, p.Value)
	}
	if ref != nil {
		maxV = math.Max(maxV, *ref)
	}
	if maxV <= 0 {
		maxV = 1
	}
	area := float64(chartWidth - chartLabelW - chartValueW)
	for i, p := range points {
		y := float64(chartTop + i*chartRowH)
		v := frfmt.Number(p.Value, decimals)
		if unit != "" {
			v += "\u00a0" + unit
		}
		c.Bars = append(c.Bars, Bar{Label: p.Label, Value: v, Count: frfmt.Int(p.Count),
			X: chartLabelW, Y: y + 4, W: math.Round(math.Max(0, p.Value)/maxV*area*10) / 10, H: chartRowH - 8, TextY: y + chartRowH/2 + 4})
		b := &c.Bars[len(c.Bars)-1]
		b.LabelX, b.ValueX = b.X-8, b.X+b.W+6
	}
	c.Height = chartTop*2 + len(points)*chartRowH
	if ref != nil {
		c.Ref = &RefLine{X: chartLabelW + math.Round(*ref/maxV*area*10)/10, Y1: 0, Y2: float64(c.Height), Label: refLabel}
	}
	c.Empty = len(points) == 0
	return c
}

// NewGauge draws a target as a bar from the baseline to the goal with
// the current value on it.
func NewGauge(id, label, unit string, baseline, goal, current float64, decimals int) Chart {
	ref := goal
	return NewBarChart(id, label, "Valeur de référence, valeur actuelle et cible : "+label+".", "",
		[3]string{"Repère", "Valeur", ""},
		[]BarPoint{{Label: "Référence", Value: baseline}, {Label: "Actuel", Value: current}, {Label: "Cible", Value: goal}},
		decimals, unit, &ref, "Cible "+frfmt.Number(goal, decimals))
}

// MonthLabel is « mars 2025 » for "2025-03".
func MonthLabel(key string) string {
	t, err := time.Parse("2006-01", key)
	if err != nil {
		return key
	}
	return monthsFR[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

var monthsFR = [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// embedded are the pages Axelor frames, each parsed with the layout and
// then the frame (referent-cadre.html), whose "layout" replaces the
// site's: same design system, no header, menu nor footer.
var embedded = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"referent-partenaire"} {
		out[name] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/"+name+".html", "templates/referent-cadre.html"))
	}
	return out
}()

// RenderEmbedded writes page name in the frame Axelor embeds.
func RenderEmbedded(name string, l Layout, d any) ([]byte, error) {
	t, ok := embedded[name]
	if !ok {
		return nil, fmt.Errorf("web: render embedded: no page %q", name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", struct {
		L Layout
		D any
	}{l, d}); err != nil {
		return nil, fmt.Errorf("web: render embedded %s: %w", name, err)
	}
	return b.Bytes(), nil
}
