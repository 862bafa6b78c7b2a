package axelorfake

import "time"

// ref points at a related record.
type ref struct {
	model string
	id    int64
}

// data is the in-memory database, guarded by Server.mu.
type data struct {
	partners   map[int64]*partner
	order      []int64 // partner ids, ascending
	addresses  map[int64]*address
	categories map[int64]*category
	cities     map[int64]*city
	countries  map[int64]*country
	emails     map[int64]*email
	nextID     map[string]int64
}

func newData() *data {
	return &data{
		partners: map[int64]*partner{}, addresses: map[int64]*address{},
		categories: map[int64]*category{}, cities: map[int64]*city{},
		countries: map[int64]*country{}, emails: map[int64]*email{},
		nextID: map[string]int64{},
	}
}

func (d *data) newID(model string) int64 {
	d.nextID[model]++
	return d.nextID[model]
}

// object returns the record of model with id, or nil.
func (d *data) object(model string, id int64) any {
	switch model {
	case mPartner:
		return found(d.partners, id)
	case mAddress:
		return found(d.addresses, id)
	case mCategory:
		return found(d.categories, id)
	case mCity:
		return found(d.cities, id)
	case mCountry:
		return found(d.countries, id)
	case mEmail:
		return found(d.emails, id)
	}
	return nil
}

// found returns records[id], or an untyped nil when it is missing (a nil
// *T in an interface would not compare equal to nil).
func found[T any](records map[int64]*T, id int64) any {
	if r := records[id]; r != nil {
		return r
	}
	return nil
}

func optRef(model string, id int64) any {
	if id == 0 {
		return nil
	}
	return ref{model, id}
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func optString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// get returns a field value as string, int64, bool, time.Time, decimal
// string, ref, []any of ref or partnerAddress, or nil for NULL.
func (d *data) get(o any, field string) any {
	switch x := o.(type) {
	case *partner:
		switch field {
		case "id":
			return x.ID
		case "version":
			return x.Version
		case "archived":
			if x.Archived == nil {
				return nil
			}
			return *x.Archived
		case "createdOn":
			return x.CreatedOn
		case "updatedOn":
			return optTime(x.UpdatedOn)
		case "name":
			return x.Name
		case "firstName":
			return nilIfEmpty(x.FirstName)
		case "fullName":
			return x.fullName()
		case "simpleFullName":
			return x.simpleFullName()
		case "partnerSeq":
			return nilIfEmpty(x.PartnerSeq)
		case "registrationCode":
			return nilIfEmpty(x.RegistrationCode)
		case "siren":
			return nilIfEmpty(x.Siren)
		case "nic":
			return nilIfEmpty(x.Nic)
		case "fixedPhone":
			return nilIfEmpty(x.FixedPhone)
		case "mobilePhone":
			return nilIfEmpty(x.MobilePhone)
		case "webSite":
			return nilIfEmpty(x.WebSite)
		case "description":
			return nilIfEmpty(x.Description)
		case "partnerAttrs":
			return optString(x.PartnerAttrs)
		case "partnerTypeSelect":
			return x.PartnerTypeSelect
		case "titleSelect":
			return x.TitleSelect
		case "isContact":
			return x.IsContact
		case "isCustomer":
			return x.IsCustomer
		case "isProspect":
			return x.IsProspect
		case "isSupplier":
			return x.IsSupplier
		case "isEmployee":
			return x.IsEmployee
		case "isInternal":
			return x.IsInternal
		case "partnerCategory":
			return optRef(mCategory, x.CategoryID)
		case "mainAddress":
			return optRef(mAddress, x.MainAddressID)
		case "emailAddress":
			return optRef(mEmail, x.EmailID)
		case "mainPartner":
			return optRef(mPartner, x.MainPartID)
		case "partnerAddressList":
			l := make([]any, len(x.Addresses))
			for i := range x.Addresses {
				l[i] = &x.Addresses[i]
			}
			return l
		}
	case *address:
		switch field {
		case "id":
			return x.ID
		case "version":
			return x.Version
		case "archived":
			return nil
		case "createdOn":
			return x.CreatedOn
		case "updatedOn":
			return optTime(x.UpdatedOn)
		case "addressL2":
			return nilIfEmpty(x.L2)
		case "addressL3":
			return nilIfEmpty(x.L3)
		case "addressL4":
			return nilIfEmpty(x.L4)
		case "addressL5":
			return nilIfEmpty(x.L5)
		case "addressL6":
			return nilIfEmpty(x.L6)
		case "zip":
			return nilIfEmpty(x.Zip)
		case "inseeCode":
			return nilIfEmpty(x.Insee)
		case "fullName":
			return nilIfEmpty(x.FullName)
		case "latit":
			return optString(x.Latit)
		case "longit":
			return optString(x.Longit)
		case "isValidLatLong":
			return true
		case "city":
			return optRef(mCity, x.CityID)
		case "addressL7Country":
			return optRef(mCountry, x.CountryID)
		}
	case *category:
		switch field {
		case "id":
			return x.ID
		case "version":
			return x.Version
		case "code":
			return x.Code
		case "name":
			return x.Name
		}
	case *city:
		switch field {
		case "id":
			return x.ID
		case "version":
			return x.Version
		case "name":
			return x.Name
		case "zip":
			return x.Zip
		case "inseeCode":
			return x.Insee
		case "fullName":
			return x.Name + " - " + x.Zip
		case "country":
			return ref{mCountry, 1}
		}
	case *country:
		switch field {
		case "id":
			return x.ID
		case "version":
			return x.Version
		case "name":
			return x.Name
		case "alpha2Code":
			return x.Alpha2
		}
	case *email:
		switch field {
		case "id":
			return x.ID
		case "version":
			return x.Version
		case "address":
			return x.Address
		case "name":
			name := ""
			if p := d.partners[x.PartnerID]; p != nil {
				name = p.fullName() + " "
			}
			return name + "[" + x.Address + "]"
		case "createdOn":
			return x.CreatedOn
		case "updatedOn":
			return optTime(x.UpdatedOn)
		}
	case *partnerAddress:
		switch field {
		case "id":
			return x.ID
		case "version":
			return x.Version
		case "isDefaultAddr":
			return x.Default
		case "isInvoicingAddr":
			return x.Invoicing
		case "isDeliveryAddr":
			return x.Delivery
		case "address":
			return optRef(mAddress, x.AddressID)
		}
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func modelOf(o any) string {
	switch o.(type) {
	case *partner:
		return mPartner
	case *address:
		return mAddress
	case *category:
		return mCategory
	case *city:
		return mCity
	case *country:
		return mCountry
	case *email:
		return mEmail
	case *partnerAddress:
		return mPAddress
	}
	return ""
}

func versionOf(o any) int64 {
	v, _ := (&data{}).get(o, "version").(int64)
	return v
}

// resolve walks a dotted path from o; a NULL reference yields nil.
func (d *data) resolve(o any, path []string) any {
	cur := o
	for i, f := range path {
		v := d.get(cur, f)
		if i == len(path)-1 {
			return v
		}
		r, ok := v.(ref)
		if !ok {
			return nil
		}
		cur = d.object(r.model, r.id)
		if cur == nil {
			return nil
		}
	}
	return nil
}
