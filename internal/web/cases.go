package web

// The workspaces of the TIG professionals (CaseworkModule in
// internal/httpapi): « Mes mesures » of the CPIP and the PJJ educator,
// the judge's decisions and opinions, the director's procedures and
// global assignment. Values come formatted in French (frfmt): templates
// only lay them out.

// Choice is one option of a filter or a select, with its count.
type Choice struct {
	Code, Label string
	Count       string // formatted, "" when not counted
	Selected    bool
}

// Link is a labelled URL.
type Link struct{ Label, URL string }

// PageLink is one entry of a DSFR pagination.
type PageLink struct {
	Label, URL string
	Current    bool
}

// SortHead is a sortable column header: its link toggles the order.
type SortHead struct {
	Label, URL string
	// Sort is the aria-sort value of the column ("" when unsorted).
	Sort string
}

// CaseRow is one measure of « Mes mesures ».
type CaseRow struct {
	URL, Pseudonym, CaseRef, State string
	Deadline, DaysLeft, HoursLeft  string
	Flags                          []string
	Late                           bool
}

// Caseload is the content of /mesures.
type Caseload struct {
	Perimeter string
	Text      string
	States    []Choice
	Flags     []Choice
	Sorts     []Choice
	Desc      bool
	Heads     []SortHead
	Rows      []CaseRow
	Total     string
	Pager     Pager
}

// Fact is one line of a description list.
type Fact struct{ Term, Value string }

// TimelineEntry is one step of a measure's life, from FFE11 to closure.
type TimelineEntry struct {
	Date, What, Detail, Who string
}

// ScoreTerm is one term of a score's explanation.
type ScoreTerm struct{ Label, Value, Points string }

// RankedPost is one post of the ranking, or an excluded near miss.
type RankedPost struct {
	PostID         int64
	Rank           string
	Title, URL     string
	Distance       string
	Score          string
	Summary        string
	Terms          []ScoreTerm
	Broken         []string // the rules' sentences, for an excluded post
	ProposeAllowed bool
}

// FormError is a message next to a field.
type FormError struct{ Field, Message string }

// Form is what a form was sent with, and what was wrong.
type Form struct {
	Values map[string]string
	Errors map[string]string
	// Message is the form's message when it concerns no one field.
	Message string
}

// Value is the typed value of field k.
func (f Form) Value(k string) string { return f.Values[k] }

// Error is the message next to field k.
func (f Form) Error(k string) string { return f.Errors[k] }

// Conflict is « Modifié entre-temps »: what the record became while the
// user was editing it, the user's input kept.
type Conflict struct {
	Version string
	State   string
	Last    string
}

// MeasurePage is the content of /mesures/{id}: the person's profile and
// constraints, the measure's timeline, the ranked posts and the
// follow-up forms.
type MeasurePage struct {
	ID, Version     int64
	CaseRef, State  string
	Flags           []string
	Measure         []Fact
	Person          []Fact
	Constraints     []string
	Availability    []Fact
	Timeline        []TimelineEntry
	HoursURL        string
	Posts           []RankedPost
	Excluded        []RankedPost
	RankNote        string
	CanPropose      bool
	Next            []Choice // follow-up transitions the reader may make
	CanIncident     bool
	IncidentKinds   []Choice
	Propose         Form
	Move            Form
	Incident        Form
	Conflict        *Conflict
	Done            string // the success message after a Post/Redirect/Get
	Today           string // yyyy-mm-dd, the date fields' default
	DefaultStart    string
	ReadOnlyMessage string
}

// DecisionRow is one proposal awaiting the judge's decision.
type DecisionRow struct {
	ID, Version                       int64
	CaseRef, Pseudonym, Post, PostURL string
	Hours, Deadline, Proposed, Start  string
	Note                              string
	Form                              Form
}

// OpinionRow is one procedure awaiting an opinion.
type OpinionRow struct {
	ID                           int64
	Kind, Organisation, Deadline string
	Requested                    string
	Authorities                  []Choice
	Late                         bool
	Form                         Form
}

// JudgePage is the content of /juge.
type JudgePage struct {
	CanDecide bool
	Proposals []DecisionRow
	Opinions  []OpinionRow
	Done      string
	Message   string
	Pager     Pager
	Total     string
}

// ProcedureRow is one procedure of the director's list.
type ProcedureRow struct {
	URL, Kind, Organisation, Status string
	Requested, Deadline             string
	Opinions                        string
	Ready                           bool
	Expires                         string
}

// DirectionPage is the content of /direction.
type DirectionPage struct {
	Awaiting []ProcedureRow
	Decided  []ProcedureRow
	Expiring []ProcedureRow
	ToPlace  string
	Done     string
}

// OpinionLine is one opinion of a procedure.
type OpinionLine struct{ Authority, Verdict, Date, Comment string }

// ProcedurePage is the content of /direction/procedures/{id}.
type ProcedurePage struct {
	ID             int64
	Title          string
	Facts          []Fact
	Opinions       []OpinionLine
	Missing        []string
	CanDecide      bool
	Blocked        string
	PrefectMissing bool
	Decision       Form
	Done           string
}

// PairRow is one pair of a global assignment, to accept or reject.
type PairRow struct {
	PersonID           int64
	MeasureID, Version int64
	Pseudonym, CaseRef string
	PostID             int64
	Post, PostURL      string
	Distance, Score    string
	Summary            string
	Decision           string // accept, reject or ""
	Error              string
	Sent               bool
}

// AssignmentPage is the content of /direction/affectation and of a job.
type AssignmentPage struct {
	JobID      string
	Running    bool
	Failed     string
	Progress   string
	Stats      []Fact
	Pairs      []PairRow
	Unplaced   []Fact
	Message    string
	Done       string
	RefreshURL string
}
