package axelorfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// tx stages the changes of one save: nothing reaches data unless the
// whole request succeeds (Resource#save runs in one transaction).
type tx struct {
	d       *data
	now     time.Time
	addrs   map[int64]*address // staged clones and new addresses
	emails  map[int64]*email
	changed map[string]bool // "model/id" of nested records that changed
}

func newTx(d *data, now time.Time) *tx {
	return &tx{d: d, now: now, addrs: map[int64]*address{}, emails: map[int64]*email{}, changed: map[string]bool{}}
}

func conflict(model string, id int64) *appError {
	return &appError{status: -1, title: "Concurrent updates error",
		message: "Record was updated or deleted by another transaction.", entityID: id, entityName: model}
}

func validation(field string) *appError {
	return &appError{status: -1, title: "Validation error", message: "    &#8226; " + field + " - must not be null\n"}
}

// sentVersion reads "version": absent → (0,false,nil); anything but a
// JSON integer is the ClassCastException of the real server.
func sentVersion(m map[string]any) (int64, bool, *appError) {
	v, ok := m["version"]
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum || strings.ContainsAny(n.String(), ".eE") {
		return 0, false, failf("class %s cannot be cast to class java.lang.Integer", javaClass(v))
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false, failf("class java.lang.Long cannot be cast to class java.lang.Integer")
	}
	return i, true, nil
}

func javaClass(v any) string {
	switch v.(type) {
	case string:
		return "java.lang.String"
	case json.Number:
		return "java.lang.Double"
	case bool:
		return "java.lang.Boolean"
	}
	return "java.util.LinkedHashMap"
}

func idOf(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case map[string]any:
		return idOf(x["id"])
	}
	return 0, false
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

func asBool(v any) bool { return v == true || v == "true" }

func asInt(v any) (int64, *appError) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		i, err := x.Int64()
		if err == nil {
			return i, nil
		}
	}
	return 0, failf("Cannot deserialize value of type `java.lang.Integer` from %v", v)
}

// stage returns the staged version of base[id], cloning it into staged on
// first use; nil when there is no such record.
func stage[T any](staged, base map[int64]*T, id int64) *T {
	if r, ok := staged[id]; ok {
		return r
	}
	r := base[id]
	if r == nil {
		return nil
	}
	c := *r
	staged[id] = &c
	return &c
}

func (t *tx) address(id int64) *address { return stage(t.addrs, t.d.addresses, id) }

func (t *tx) email(id int64) *email { return stage(t.emails, t.d.emails, id) }

// key names a nested record in tx.changed.
func key(model string, id int64) string { return fmt.Sprintf("%s/%d", model, id) }

// setRef writes on dst the many-to-one reference v to a record of model,
// looked up in records: null clears it, an unknown id is the server's
// concurrent-update error.
func setRef[T any](dst *int64, v any, records map[int64]*T, model string) *appError {
	if v == nil {
		*dst = 0
		return nil
	}
	id, ok := idOf(v)
	if !ok || records[id] == nil {
		return conflict(model, id)
	}
	*dst = id
	return nil
}

// relAddress handles a many-to-one to Address: {"id"} is a reference,
// {"id","version",…} edits the target with its own version check, a map
// without id creates one (without fullName: the Address save hook only
// runs for Address roots).
func (t *tx) relAddress(v any) (int64, *appError) {
	m, ok := v.(map[string]any)
	if !ok {
		if id, ok := idOf(v); ok && t.d.addresses[id] != nil {
			return id, nil
		}
		return 0, failf("Invalid address reference")
	}
	id, hasID := idOf(m)
	if !hasID {
		a := &address{audit: audit{ID: t.d.newID(mAddress), CreatedOn: t.now}}
		if err := t.applyAddress(a, m); err != nil {
			return 0, err
		}
		if a.L4 == "" {
			return 0, validation("addressL4")
		}
		t.addrs[a.ID] = a
		t.changed[key(mAddress, a.ID)] = true
		return a.ID, nil
	}
	a := t.address(id)
	if a == nil {
		return 0, conflict(mAddress, id)
	}
	ver, hasVer, verr := sentVersion(m)
	if verr != nil {
		return 0, verr
	}
	if !hasVer {
		return id, nil
	}
	before := *a
	if err := t.applyAddress(a, m); err != nil {
		return 0, err
	}
	if addressChanged(&before, a) {
		if ver != before.Version {
			return 0, conflict(mAddress, id)
		}
		t.changed[key(mAddress, id)] = true
	}
	return id, nil
}

func addressChanged(a, b *address) bool {
	return a.L2 != b.L2 || a.L3 != b.L3 || a.L4 != b.L4 || a.L5 != b.L5 || a.L6 != b.L6 ||
		a.Zip != b.Zip || a.Insee != b.Insee || a.CityID != b.CityID || a.CountryID != b.CountryID ||
		!sameDec(a.Latit, b.Latit) || !sameDec(a.Longit, b.Longit)
}

func sameDec(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (t *tx) applyAddress(a *address, m map[string]any) *appError {
	for k, v := range m {
		switch k {
		case "addressL2":
			a.L2 = asString(v)
		case "addressL3":
			a.L3 = asString(v)
		case "addressL4":
			a.L4 = asString(v)
		case "addressL5":
			a.L5 = asString(v)
		case "addressL6":
			a.L6 = asString(v)
		case "zip":
			a.Zip = asString(v)
		case "inseeCode":
			a.Insee = asString(v)
		case "latit", "longit":
			var dec *string
			if v != nil {
				s, ok := scaleDecimal(asString(v))
				if !ok {
					return failf("Character %s is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark.", asString(v))
				}
				dec = &s
			}
			if k == "latit" {
				a.Latit = dec
			} else {
				a.Longit = dec
			}
		case "city":
			if err := setRef(&a.CityID, v, t.d.cities, mCity); err != nil {
				return err
			}
		case "addressL7Country":
			if err := setRef(&a.CountryID, v, t.d.countries, mCountry); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyPartner writes the keys of m on p (a clone). Unknown keys, id and
// version are ignored, as on the server.
func (t *tx) applyPartner(p *partner, m map[string]any) *appError {
	for k, v := range m {
		var err *appError
		switch k {
		case "name":
			p.Name = asString(v)
		case "firstName":
			p.FirstName = asString(v)
		case "registrationCode":
			p.RegistrationCode = asString(v)
		case "siren":
			p.Siren = asString(v)
		case "nic":
			p.Nic = asString(v)
		case "fixedPhone":
			p.FixedPhone = asString(v)
		case "mobilePhone":
			p.MobilePhone = asString(v)
		case "webSite":
			p.WebSite = asString(v)
		case "description":
			p.Description = asString(v)
		case "partnerAttrs":
			switch x := v.(type) {
			case nil:
				p.PartnerAttrs = nil
			case string:
				s := x
				p.PartnerAttrs = &s
			default:
				return failf("Cannot deserialize value of type `java.lang.String` from Object value")
			}
		case "partnerTypeSelect":
			p.PartnerTypeSelect, err = asInt(v)
		case "titleSelect":
			p.TitleSelect, err = asInt(v)
		case "isContact":
			p.IsContact = asBool(v)
		case "isCustomer":
			p.IsCustomer = asBool(v)
		case "isProspect":
			p.IsProspect = asBool(v)
		case "isSupplier":
			p.IsSupplier = asBool(v)
		case "isEmployee":
			p.IsEmployee = asBool(v)
		case "isInternal":
			p.IsInternal = asBool(v)
		case "archived":
			if v == nil {
				p.Archived = nil
			} else {
				b := asBool(v)
				p.Archived = &b
			}
		case "partnerCategory":
			err = setRef(&p.CategoryID, v, t.d.categories, mCategory)
		case "mainPartner":
			err = setRef(&p.MainPartID, v, t.d.partners, mPartner)
		case "mainAddress":
			if v == nil {
				p.MainAddressID = 0
			} else {
				p.MainAddressID, err = t.relAddress(v)
			}
		case "emailAddress":
			p.EmailID, err = t.relEmail(p.EmailID, v)
		case "partnerAddressList":
			err = t.applyAddressList(p, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) relEmail(cur int64, v any) (int64, *appError) {
	if v == nil {
		return 0, nil
	}
	m, isMap := v.(map[string]any)
	id, hasID := idOf(v)
	if !hasID {
		if !isMap {
			return 0, failf("Invalid email reference")
		}
		e := &email{audit: audit{ID: t.d.newID(mEmail), CreatedOn: t.now}, Address: asString(m["address"])}
		t.emails[e.ID] = e
		t.changed[key(mEmail, e.ID)] = true
		return e.ID, nil
	}
	e := t.email(id)
	if e == nil {
		return 0, conflict(mEmail, id)
	}
	if !isMap {
		return id, nil
	}
	ver, hasVer, verr := sentVersion(m)
	if verr != nil {
		return 0, verr
	}
	if hasVer {
		if a, ok := m["address"]; ok && asString(a) != e.Address {
			if ver != e.Version {
				return 0, conflict(mEmail, id)
			}
			e.Address = asString(a)
			t.changed[key(mEmail, id)] = true
		}
	}
	return id, nil
}

// applyAddressList replaces the collection; items left out are deleted
// (one-to-many with mappedBy).
func (t *tx) applyAddressList(p *partner, v any) *appError {
	list, ok := v.([]any)
	if v != nil && !ok {
		return failf("Invalid partnerAddressList")
	}
	existing := map[int64]partnerAddress{}
	for _, pa := range p.Addresses {
		existing[pa.ID] = pa
	}
	out := make([]partnerAddress, 0, len(list))
	for _, it := range list {
		m, isMap := it.(map[string]any)
		id, hasID := idOf(it)
		if hasID {
			pa, found := existing[id]
			if !found {
				return conflict(mPAddress, id)
			}
			if isMap {
				if ver, hasVer, verr := sentVersion(m); verr != nil {
					return verr
				} else if hasVer {
					before := pa
					if err := t.applyPA(&pa, m); err != nil {
						return err
					}
					if before != pa {
						if ver != before.Version {
							return conflict(mPAddress, id)
						}
						pa.Version++
					}
				}
			}
			out = append(out, pa)
			continue
		}
		if !isMap {
			return failf("Invalid partnerAddressList item")
		}
		pa := partnerAddress{ID: t.d.newID(mPAddress)}
		if err := t.applyPA(&pa, m); err != nil {
			return err
		}
		if pa.AddressID == 0 {
			return validation("address")
		}
		out = append(out, pa)
	}
	p.Addresses = out
	return nil
}

func (t *tx) applyPA(pa *partnerAddress, m map[string]any) *appError {
	for k, v := range m {
		switch k {
		case "isDefaultAddr":
			pa.Default = asBool(v)
		case "isInvoicingAddr":
			pa.Invoicing = asBool(v)
		case "isDeliveryAddr":
			pa.Delivery = asBool(v)
		case "address":
			if v == nil {
				pa.AddressID = 0
				continue
			}
			id, err := t.relAddress(v)
			if err != nil {
				return err
			}
			pa.AddressID = id
		}
	}
	return nil
}

// saveHook is PartnerServiceImpl#onSave (AOS 8.0.5): mainAddress is
// rewritten from partnerAddressList for organisations; e-mail addresses
// are unique across partners.
func (t *tx) saveHook(p *partner) *appError {
	if !p.IsContact && !p.IsEmployee {
		var main int64
		inv, del := 0, 0
		for _, pa := range p.Addresses {
			if pa.Default && pa.Invoicing {
				inv++
				main = pa.AddressID
			}
			if pa.Default && pa.Delivery {
				del++
			}
		}
		if inv > 1 {
			return failf("You can select only one default invoicing address.")
		}
		if del > 1 {
			return failf("You can select only one default delivery address.")
		}
		p.MainAddressID = main
	} else if p.MainAddressID != 0 {
		found := false
		for _, pa := range p.Addresses {
			found = found || pa.AddressID == p.MainAddressID
		}
		if !found {
			p.Addresses = append(p.Addresses, partnerAddress{ID: t.d.newID(mPAddress), AddressID: p.MainAddressID, Default: true})
		}
	}
	if p.EmailID != 0 {
		if e := t.email(p.EmailID); e != nil {
			if e.PartnerID != 0 && e.PartnerID != p.ID {
				return failf("Email address already linked with another partner")
			}
			e.PartnerID = p.ID
		}
	}
	if strings.TrimSpace(p.Name) == "" {
		return validation("name")
	}
	return nil
}

func partnerChanged(a, b *partner) bool {
	if len(a.Addresses) != len(b.Addresses) {
		return true
	}
	for i := range a.Addresses {
		if a.Addresses[i] != b.Addresses[i] {
			return true
		}
	}
	return a.Name != b.Name || a.FirstName != b.FirstName || a.RegistrationCode != b.RegistrationCode ||
		a.Siren != b.Siren || a.Nic != b.Nic || a.FixedPhone != b.FixedPhone || a.MobilePhone != b.MobilePhone ||
		a.WebSite != b.WebSite || a.Description != b.Description || !sameDec(a.PartnerAttrs, b.PartnerAttrs) ||
		a.PartnerTypeSelect != b.PartnerTypeSelect || a.TitleSelect != b.TitleSelect ||
		a.IsContact != b.IsContact || a.IsCustomer != b.IsCustomer || a.IsProspect != b.IsProspect ||
		a.IsSupplier != b.IsSupplier || a.IsEmployee != b.IsEmployee || a.IsInternal != b.IsInternal ||
		!sameBool(a.Archived, b.Archived) || a.CategoryID != b.CategoryID || a.EmailID != b.EmailID ||
		a.MainAddressID != b.MainAddressID || a.MainPartID != b.MainPartID
}

func sameBool(a, b *bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// commit writes staged nested records, bumping versions of changed ones.
func (t *tx) commit() {
	commitStaged(t, mAddress, t.addrs, t.d.addresses)
	commitStaged(t, mEmail, t.emails, t.d.emails)
}

// commitStaged writes the staged records of model into base; an existing
// record that changed gets a new version and updatedOn, a new one keeps
// version 0 and a null updatedOn.
func commitStaged[T any, PT interface {
	*T
	auditOf() *audit
}](t *tx, model string, staged, base map[int64]*T) {
	for id, r := range staged {
		if _, existed := base[id]; existed && t.changed[key(model, id)] {
			a := PT(r).auditOf()
			a.Version++
			now := t.now
			a.UpdatedOn = &now
		}
		base[id] = r
	}
}

// updatePartner is JPA#edit on a Partner root. The version is compared
// only if something changes; without "version" the map is a reference
// and nothing is written, yet the answer is status 0.
func (d *data) updatePartner(id int64, m map[string]any, now time.Time) (*partner, *appError) {
	cur := d.partners[id]
	if cur == nil {
		return nil, conflict(mPartner, id)
	}
	ver, hasVer, verr := sentVersion(m)
	if verr != nil {
		return nil, verr
	}
	if !hasVer {
		return cur, nil
	}
	t := newTx(d, now)
	p := cur.clone()
	if err := t.applyPartner(p, m); err != nil {
		return nil, err
	}
	if err := t.saveHook(p); err != nil {
		return nil, err
	}
	if partnerChanged(cur, p) {
		if ver != cur.Version {
			return nil, conflict(mPartner, id)
		}
		p.Version++
		p.UpdatedOn = &now
	}
	t.commit()
	d.partners[id] = p
	return p, nil
}

// createPartner is a save without id: version must not be sent (Hibernate
// "id to load is required for loading"); updatedOn stays null.
func (d *data) createPartner(m map[string]any, now time.Time) (*partner, *appError) {
	if _, has := m["version"]; has {
		return nil, failf("id to load is required for loading")
	}
	t := newTx(d, now)
	p := &partner{audit: audit{ID: d.newID(mPartner), CreatedOn: now}, PartnerTypeSelect: 1}
	if err := t.applyPartner(p, m); err != nil {
		return nil, err
	}
	if p.PartnerSeq == "" {
		p.PartnerSeq = fmt.Sprintf("P%05d", p.ID)
	}
	if err := t.saveHook(p); err != nil {
		return nil, err
	}
	t.commit()
	d.partners[p.ID] = p
	d.order = append(d.order, p.ID)
	return p, nil
}

// updateAddress is JPA#edit on an Address root; its save hook computes
// fullName.
func (d *data) updateAddress(id int64, m map[string]any, now time.Time) (*address, *appError) {
	cur := d.addresses[id]
	if cur == nil {
		return nil, conflict(mAddress, id)
	}
	ver, hasVer, verr := sentVersion(m)
	if verr != nil {
		return nil, verr
	}
	if !hasVer {
		return cur, nil
	}
	t := newTx(d, now)
	a := *cur
	if err := t.applyAddress(&a, m); err != nil {
		return nil, err
	}
	a.FullName = addressFullName(&a)
	if addressChanged(cur, &a) || a.FullName != cur.FullName {
		if ver != cur.Version {
			return nil, conflict(mAddress, id)
		}
		a.Version++
		a.UpdatedOn = &now
	}
	d.addresses[id] = &a
	return &a, nil
}

// deletePartner ignores the version query parameter, as the server does.
func (d *data) deletePartner(id int64) (*partner, *appError) {
	p := d.partners[id]
	if p == nil {
		return nil, conflict(mPartner, id)
	}
	delete(d.partners, id)
	for i, x := range d.order {
		if x == id {
			d.order = append(d.order[:i:i], d.order[i+1:]...)
			break
		}
	}
	return p, nil
}
