package axelorfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// PartnerView is a read-only snapshot of a partner with the fields a
// sync cares about, for test assertions.
type PartnerView struct {
	ID, Version      int64
	Archived         bool
	IsContact        bool
	Name, FullName   string
	RegistrationCode string
	CategoryCode     string
	Email            string
	FixedPhone       string
	PartnerAttrs     string
	CreatedOn        time.Time
	UpdatedOn        *time.Time
	AddressID        int64 // mainAddress
	AddressVersion   int64
	Street, L3       string // addressL4, addressL3
	Zip, City, Insee string
	Lat, Lng         *float64
}

func (s *Server) view(p *partner) PartnerView {
	d := s.d
	v := PartnerView{ID: p.ID, Version: p.Version, Archived: p.Archived != nil && *p.Archived,
		IsContact: p.IsContact, Name: p.Name, FullName: p.fullName(), RegistrationCode: p.RegistrationCode,
		FixedPhone: p.FixedPhone, CreatedOn: p.CreatedOn, UpdatedOn: p.UpdatedOn, AddressID: p.MainAddressID}
	if p.PartnerAttrs != nil {
		v.PartnerAttrs = *p.PartnerAttrs
	}
	if c := d.categories[p.CategoryID]; c != nil {
		v.CategoryCode = c.Code
	}
	if e := d.emails[p.EmailID]; e != nil {
		v.Email = e.Address
	}
	if a := d.addresses[p.MainAddressID]; a != nil {
		v.AddressVersion, v.Street, v.L3, v.Zip, v.Insee = a.Version, a.L4, a.L3, a.Zip, a.Insee
		if c := d.cities[a.CityID]; c != nil {
			v.City = c.Name
		}
		if f, ok := decimalFloat(a.Latit); ok {
			v.Lat = &f
		}
		if f, ok := decimalFloat(a.Longit); ok {
			v.Lng = &f
		}
	}
	return v
}

// Partner returns a snapshot of partner id.
func (s *Server) Partner(id int64) (PartnerView, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.d.partners[id]
	if p == nil {
		return PartnerView{}, false
	}
	return s.view(p), true
}

// Partners returns snapshots of every partner, by id.
func (s *Server) Partners() []PartnerView {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]PartnerView, 0, len(s.d.order))
	for _, id := range s.d.order {
		out = append(out, s.view(s.d.partners[id]))
	}
	return out
}

// Len returns the number of partners.
func (s *Server) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.d.order)
}

// asJSON gives Go values the shapes they have after the server decodes
// a request (json.Number, map[string]any…).
func asJSON(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	_ = dec.Decode(&m)
	return m
}

func errOf(e *appError) error {
	if e == nil {
		return nil
	}
	return errors.New("axelorfake: " + e.message)
}

// Modify saves fields on partner id as another user would from the UI
// (with the current version), through the same code as a REST update.
func (s *Server) Modify(id int64, fields map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return modifyAsUser(s, "partner", id, s.d.partners[id], fields, s.d.updatePartner)
}

// ModifyAddress saves fields on address id as another user would.
func (s *Server) ModifyAddress(id int64, fields map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return modifyAsUser(s, "address", id, s.d.addresses[id], fields, s.d.updateAddress)
}

// modifyAsUser runs update on record id (cur, nil when missing) with
// fields and the record's current version. s.mu is held.
func modifyAsUser[T any, PT interface {
	*T
	auditOf() *audit
}](s *Server, what string, id int64, cur PT, fields map[string]any, update func(int64, map[string]any, time.Time) (PT, *appError)) error {
	if cur == nil {
		return errors.New("axelorfake: no " + what + " " + strconv.FormatInt(id, 10))
	}
	m := asJSON(fields)
	m["version"] = json.Number(strconv.FormatInt(cur.auditOf().Version, 10))
	_, err := update(id, m, s.now())
	return errOf(err)
}

// Create saves a new partner as another user would and returns its id.
func (s *Server) Create(fields map[string]any) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.d.createPartner(asJSON(fields), s.now())
	if err != nil {
		return 0, errOf(err)
	}
	return p.ID, nil
}

// Delete removes a partner (hard delete).
func (s *Server) Delete(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.d.deletePartner(id)
	return errOf(err)
}

// CityID returns the id of the city with postcode zip, 0 if none.
func (s *Server) CityID(zip string) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id := int64(1); id <= s.d.nextID[mCity]; id++ {
		if c := s.d.cities[id]; c != nil && c.Zip == zip {
			return id
		}
	}
	return 0
}

// NewLoginRequest builds the XHR session login Axelor reads as JSON
// (AuthPac4jInfo#isXHR: exact header values), for tests that talk to the
// fake without the client.
func NewLoginRequest(baseURL, user, password string) *http.Request {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/callback", bytes.NewReader(body))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	return req
}
