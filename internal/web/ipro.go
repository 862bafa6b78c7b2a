package web

import (
	"strconv"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/ipro"
)

// The pages of IPRO 360 (prison work and training): « Mon établissement »
// for prison staff, the detainee's kiosk, the professional profile and
// the business's space.

// iproParts is the template file of the parts the IPRO pages share.
const iproParts = "ipro-parts"

// IPROOfferRow is an offer in a list.
type IPROOfferRow struct {
	Offer                            *atigip.Offer
	KindLabel, StatusLabel, Employer string
	Prison                           string
	PlacesLeft, Waiting              int
}

// IPROOfferForm is the offer form, as typed.
type IPROOfferForm struct {
	Title, Kind, EmployerKind, EmployerName, ROME, Places, Start, End, Description, Status string
	Days                                                                                   []int
	Version                                                                                int64
}

// HasDay reports whether day d (1 Monday … 7 Sunday) is ticked.
func (f IPROOfferForm) HasDay(d int) bool {
	for _, x := range f.Days {
		if x == d {
			return true
		}
	}
	return false
}

// Ticked reports whether the day of code ("1".."7") is ticked.
func (f IPROOfferForm) Ticked(code string) bool {
	d, err := strconv.Atoi(code)
	return err == nil && f.HasDay(d)
}

// IPROPersonRow is a detainee in the establishment's list.
type IPROPersonRow struct {
	ID        int64
	Pseudonym string
	Cleared   bool
	ClearedAt *time.Time
	Contracts int
}

// IPROEstablishment is « Mon établissement ».
type IPROEstablishment struct {
	Prison     *atigip.Prison
	Offers     []IPROOfferRow
	OffersPage Pager
	Floors     []*atigip.FloorSpace
	People     []IPROPersonRow
	PeoplePage Pager
	Prisons    []Domain
	Days       []Domain
	Form       IPROOfferForm
	Errors     map[string]string
	// ActionError is a refusal of a clearance or a transfer, next to the
	// person's row (ActionPerson).
	ActionError  string
	ActionPerson int64
	// TransferError is a refused transfer, above its form.
	TransferError string
	Notice        string
	Waiting       int
}

// IPROApplicant is an application on an offer's page.
type IPROApplicant struct {
	App        *atigip.Application
	Pseudonym  string
	StateLabel string
	Waiting    bool
	Filed      time.Time
}

// IPROOfferPage is an offer's page: details, edit form, waiting list.
type IPROOfferPage struct {
	Offer  *atigip.Offer
	Row    IPROOfferRow
	Prison *atigip.Prison
	Days   []Domain
	Form   IPROOfferForm
	Errors map[string]string
	// Theirs is the other version's values after a conflict (« Modifié
	// entre-temps »); the form keeps the user's.
	Theirs     *IPROOfferForm
	CanEdit    bool
	Staff      bool
	Waiting    []IPROApplicant
	Others     []IPROApplicant
	WaitingN   int
	Notice     string
	ActionApp  int64
	ActionErr  string
	ActionMsgs []string
}

// IPROKioskOffer is an offer on the kiosk with the person's verdict.
type IPROKioskOffer struct {
	Offer      *atigip.Offer
	KindLabel  string
	Hours      string
	Days       []string
	PlacesLeft int
	Verdict    ipro.Verdict
	Requires   []string
	Applied    bool
}

// IPROMyApp is one of the person's applications on the kiosk.
type IPROMyApp struct {
	Title, StateLabel string
	Rank              int
	Waiting           bool
	Accepted          bool
	Filed             time.Time
}

// IPROKiosk is the detainee's kiosk.
type IPROKiosk struct {
	Pseudonym   string
	Prison      string
	Cleared     bool
	Work        []IPROKioskOffer
	Training    []IPROKioskOffer
	Apps        []IPROMyApp
	Notice      string
	IdleSeconds int
	IdleLabel   string
	ProfileURL  string
}

// IPROKioskConfirm is step 2 of applying on the kiosk.
type IPROKioskConfirm struct {
	Offer       IPROKioskOffer
	Error       string
	IdleSeconds int
	IdleLabel   string
}

// IPROCode is a ROME code or skill with its label, ticked or not.
type IPROCode struct {
	Code, Label string
	Checked     bool
}

// IPROProfileForm is the profile form, as typed.
type IPROProfileForm struct {
	ROME, Skills                                    []string
	Diplomas, Experience, Wishes, Radius, Transport string
	Version                                         int64
}

// IPROProfile is the professional profile page.
type IPROProfile struct {
	Person     *atigip.Person
	Prison     string
	Situation  string
	Jobs       []IPROCode
	Skills     []IPROCode
	Found      []IPROCode
	FoundSkill []IPROCode
	Q          string
	Searched   bool
	Form       IPROProfileForm
	Theirs     *IPROProfileForm
	Errors     map[string]string
	Experience []ipro.Experience
	CanEdit    bool
	Notice     string
	Transports []Domain
	Diplomas   []string
	Mobility   string
}

// IPROBusiness is the business's space.
type IPROBusiness struct {
	SIRET    string
	Form     IPROOfferForm
	Errors   map[string]string
	Days     []Domain
	Prisons  []Domain
	PrisonID string
	Notice   string
	Offers   []IPROOfferRow
	Page     Pager
	Requests []IPRORequest
	Waiting  int
}

// IPRORequest is one of the business's floor-space requests.
type IPRORequest struct {
	Req    *atigip.ContactRequest
	Prison string
	Floor  string
}

// IPROSignedOut is the kiosk's end of session.
type IPROSignedOut struct{ Idle bool }
