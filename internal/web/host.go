package web

import (
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// The pages of the host organisation's workspace (« Ma structure »), of
// the person doing a TIG (« Ma mesure ») and of the CPIP's confirmation of
// hours. A tutor sees of a tigiste only the pseudonym, the post, the
// schedule and the hours: never the offence nor the case.

// HostPage is the host's workspace: the organisation, its habilitation
// and procedures, its posts (paged), and the tigistes hosted.
type HostPage struct {
	Org        *atigip.Organisation
	HabLabel   string
	HabExpires *time.Time
	// CanRenew offers the habilitation (or renewal) request.
	CanRenew   bool
	Procedures []HostProcedure
	Posts      []HostPost
	Pager      Pager
	TotalPosts int
	Hosted     int // tigistes hosted now
	Flash      string
	Errors     []atigip.FieldError // of a request refused (habilitation, registration)
}

// HostProcedure is one habilitation or registration procedure.
type HostProcedure struct {
	ID        int64
	Kind      string // in French
	Post      string // title of the post registered
	Status    string
	Requested time.Time
	Deadline  atigip.Date // for opinions
	Opinions  int
	Decision  string // authority and reason, when decided
}

// HostPost is one post in the host's list.
type HostPost struct {
	*atigip.Post
	StatusLabel  string
	HoursPerWeek float64
	// Draft posts can be registered; Pending ones await the decision.
	Draft, Pending bool
}

// PostForm is the post form as typed (creation or edit).
type PostForm struct {
	ID, Version                   int64
	Title, Description, ROME      string
	Places                        string
	Street, Postcode, City        string
	Days                          [7]DayField
	Minors, Wheelchair, Transport bool
	Medical                       bool
	Visibility, Status            string
	// Statuses are the choices the post's state allows.
	Statuses []Domain
	Errors   map[string]string // form field → French message
	// Conflict holds the other version's values after « Modifié
	// entre-temps »; the form keeps the user's.
	Conflict *PostForm
}

// DayField is one day of a weekly schedule typed as « 09:00-12:00,
// 14:00-17:00 ».
type DayField struct {
	Name, Label, Value string
}

// HoursPage is the week grid of the hours the tutor reports.
type HoursPage struct {
	Monday     atigip.Date
	Days       [7]DayHead
	Prev, Next string
	Rows       []HoursRow
	Saved      int // reports stored by the last submission
	Failed     int
	// Others are the refusals of cells the grid does not show (a measure
	// that is not the organisation's).
	Others   []string
	Incident IncidentForm
	Kinds    []Domain
	Flash    string
}

// DayHead is a column of the week grid.
type DayHead struct {
	Label string // « Lun. 07/12 »
	Long  string // « lundi 07/12/2026 »
	Date  atigip.Date
}

// HoursRow is one tigiste's week.
type HoursRow struct {
	MeasureID                     int64
	Pseudonym, Post, State        string
	Cells                         [7]HoursCell
	Total, Limit, DayLimit        float64
	Minor                         bool
	HoursDone, HoursLeft, Ordered float64
}

// HoursCell is one day of one tigiste: what was reported, and the input
// for more while the day is open.
type HoursCell struct {
	Name, ID                     string // input name and id
	Value                        string // as typed
	Reported, Pending, Confirmed float64
	Open                         bool
	Error                        string
}

// IncidentForm is the tutor's incident report.
type IncidentForm struct {
	MeasureID  int64
	Date, Kind string
	Note       string
	Errors     map[string]string
	Choices    []Domain // the tigistes
}

// MyMeasure is « Ma mesure », for the person doing a TIG.
type MyMeasure struct {
	Measure   *atigip.Measure
	State     string
	HoursDone float64
	HoursLeft float64
	Ordered   int
	Percent   int
	Deadline  atigip.Date
	DaysLeft  int
	Post      *atigip.Post
	Schedule  []string // « lundi : 09:00 – 12:00 »
	OrgName   string
	Contacts  []atigip.Contact
	Confirmed []*atigip.MeasureLog
	Waiting   float64 // hours reported, not yet confirmed
	Absences  []*atigip.MeasureLog
	CanReport bool
	Form      AbsenceForm
	Sent      bool
	Others    int // other measures, closed
}

// AbsenceForm is the person's absence notice as typed.
type AbsenceForm struct {
	Date, Reason string
	Errors       map[string]string
}

// CheckPage is the CPIP's confirmation of the hours a tutor reported on
// one measure.
type CheckPage struct {
	MeasureID            int64
	Pseudonym, Post, Org string
	State                string
	HoursDone, HoursLeft float64
	Ordered              int
	Deadline             atigip.Date
	Pending              []CheckRow
	Done                 []*atigip.MeasureLog
	Flash                string
}

// CheckRow is one report waiting for the CPIP, with the answer as typed.
type CheckRow struct {
	Log   *atigip.MeasureLog
	Note  string
	Error string
}

// PendingPage lists the reports of hours waiting for confirmation in the
// professional's perimeter.
type PendingPage struct {
	Rows  []PendingRow
	Total int
	Pager Pager
}

// PendingRow is one report waiting, linking to its measure's page.
type PendingRow struct {
	MeasureID int64
	Date      atigip.Date
	Hours     float64
	Reported  time.Time
}
