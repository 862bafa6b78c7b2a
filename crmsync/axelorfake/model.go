package axelorfake

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Model names.
const (
	mPartner  = "com.axelor.apps.base.db.Partner"
	mAddress  = "com.axelor.apps.base.db.Address"
	mCategory = "com.axelor.apps.base.db.PartnerCategory"
	mCity     = "com.axelor.apps.base.db.City"
	mCountry  = "com.axelor.apps.base.db.Country"
	mEmail    = "com.axelor.message.db.EmailAddress"
	mPAddress = "com.axelor.apps.base.db.PartnerAddress"
)

type kind int

const (
	kString kind = iota
	kInt
	kBool
	kDateTime
	kDecimal
	kRef
	kList
)

type fieldDef struct {
	kind   kind
	target string // model of a relation
}

// schemas list the fields the fake knows per model; any other name is
// "No such field", as on a real server.
var schemas = map[string]map[string]fieldDef{
	mPartner: {
		"id": {kind: kInt}, "version": {kind: kInt}, "archived": {kind: kBool},
		"createdOn": {kind: kDateTime}, "updatedOn": {kind: kDateTime},
		"name": {}, "firstName": {}, "fullName": {}, "simpleFullName": {}, "partnerSeq": {},
		"registrationCode": {}, "siren": {}, "nic": {}, "fixedPhone": {}, "mobilePhone": {},
		"webSite": {}, "description": {}, "partnerAttrs": {},
		"partnerTypeSelect": {kind: kInt}, "titleSelect": {kind: kInt},
		"isContact": {kind: kBool}, "isCustomer": {kind: kBool}, "isProspect": {kind: kBool},
		"isSupplier": {kind: kBool}, "isEmployee": {kind: kBool}, "isInternal": {kind: kBool},
		"partnerCategory":    {kind: kRef, target: mCategory},
		"mainAddress":        {kind: kRef, target: mAddress},
		"emailAddress":       {kind: kRef, target: mEmail},
		"mainPartner":        {kind: kRef, target: mPartner},
		"partnerAddressList": {kind: kList, target: mPAddress},
	},
	mAddress: {
		"id": {kind: kInt}, "version": {kind: kInt}, "archived": {kind: kBool},
		"createdOn": {kind: kDateTime}, "updatedOn": {kind: kDateTime},
		"addressL2": {}, "addressL3": {}, "addressL4": {}, "addressL5": {}, "addressL6": {},
		"zip": {}, "inseeCode": {}, "fullName": {},
		"latit": {kind: kDecimal}, "longit": {kind: kDecimal}, "isValidLatLong": {kind: kBool},
		"city":             {kind: kRef, target: mCity},
		"addressL7Country": {kind: kRef, target: mCountry},
	},
	mCategory: {"id": {kind: kInt}, "version": {kind: kInt}, "code": {}, "name": {}},
	mCity: {"id": {kind: kInt}, "version": {kind: kInt}, "name": {}, "zip": {}, "inseeCode": {}, "fullName": {},
		"country": {kind: kRef, target: mCountry}},
	mCountry: {"id": {kind: kInt}, "version": {kind: kInt}, "name": {}, "alpha2Code": {}},
	mEmail: {"id": {kind: kInt}, "version": {kind: kInt}, "address": {}, "name": {},
		"updatedOn": {kind: kDateTime}, "createdOn": {kind: kDateTime}},
	mPAddress: {"id": {kind: kInt}, "version": {kind: kInt}, "isDefaultAddr": {kind: kBool},
		"isInvoicingAddr": {kind: kBool}, "isDeliveryAddr": {kind: kBool},
		"address": {kind: kRef, target: mAddress}},
}

// nameFields are the namecolumns used in compact maps and for string
// comparisons on relations.
var nameFields = map[string]string{
	mPartner: "fullName", mAddress: "fullName", mCity: "fullName", mCountry: "name",
	mCategory: "name", mEmail: "name", mPAddress: "",
}

type audit struct {
	ID        int64
	Version   int64
	CreatedOn time.Time
	UpdatedOn *time.Time
}

// auditOf gives generic code (commitStaged) the audit fields of a record.
func (a *audit) auditOf() *audit { return a }

type category struct {
	audit
	Code, Name string
}

type country struct {
	audit
	Name, Alpha2 string
}

type city struct {
	audit
	Name, Zip, Insee string
	Lat, Lng         float64
}

type address struct {
	audit
	L2, L3, L4, L5, L6 string
	Zip, Insee         string
	CityID, CountryID  int64
	Latit, Longit      *string // decimal strings at scale 18
	FullName           string
}

type email struct {
	audit
	Address   string
	PartnerID int64
}

type partnerAddress struct {
	ID, Version                  int64
	Default, Invoicing, Delivery bool
	AddressID                    int64
}

type partner struct {
	audit
	Archived                                       *bool
	Name, FirstName, PartnerSeq                    string
	RegistrationCode, Siren, Nic                   string
	FixedPhone, MobilePhone, WebSite, Description  string
	PartnerAttrs                                   *string
	PartnerTypeSelect, TitleSelect                 int64
	IsContact, IsCustomer, IsProspect, IsSupplier  bool
	IsEmployee, IsInternal                         bool
	CategoryID, EmailID, MainAddressID, MainPartID int64
	Addresses                                      []partnerAddress
}

func (p *partner) clone() *partner {
	c := *p
	c.Addresses = append([]partnerAddress(nil), p.Addresses...)
	return &c
}

func (p *partner) simpleFullName() string {
	return strings.TrimSpace(p.Name + " " + p.FirstName)
}

func (p *partner) fullName() string {
	if p.PartnerSeq == "" {
		return p.simpleFullName()
	}
	return p.PartnerSeq + " - " + p.simpleFullName()
}

// addressFullName is AddressBaseRepository#save: L2..L6 joined with
// spaces, skipping empty parts, with the leading space the code leaves
// when L2 is empty.
func addressFullName(a *address) string {
	var b strings.Builder
	if a.L2 != "" {
		b.WriteString(a.L2)
	}
	for _, s := range []string{a.L3, a.L4, a.L5, a.L6} {
		if s != "" {
			b.WriteString(" ")
			b.WriteString(s)
		}
	}
	return b.String()
}

// formatDateTime is ZonedDateTime#toString in UTC: seconds omitted when
// seconds and nanos are zero, the fraction in groups of 3 digits.
func formatDateTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04")
	sec, ns := t.Second(), t.Nanosecond()
	if sec == 0 && ns == 0 {
		return s + "Z"
	}
	s += fmt.Sprintf(":%02d", sec)
	switch {
	case ns == 0:
	case ns%1_000_000 == 0:
		s += fmt.Sprintf(".%03d", ns/1_000_000)
	case ns%1_000 == 0:
		s += fmt.Sprintf(".%06d", ns/1_000)
	default:
		s += fmt.Sprintf(".%09d", ns)
	}
	return s + "Z"
}

var decimalRe = regexp.MustCompile(`^-?\d+(\.\d+)?$`)

// scaleDecimal is BigDecimal at a numeric(38,18) column: the plain string
// padded (or cut) to 18 places, never through a float.
func scaleDecimal(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !decimalRe.MatchString(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		} else {
			return "", false
		}
	}
	ip, fp, _ := strings.Cut(s, ".")
	if len(fp) > 18 {
		fp = fp[:18]
	}
	return ip + "." + fp + strings.Repeat("0", 18-len(fp)), true
}

func decimalFloat(s *string) (float64, bool) {
	if s == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(*s, 64)
	return f, err == nil
}
