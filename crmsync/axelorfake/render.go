package axelorfake

import (
	"sort"
	"strings"
	"time"
)

// jsonValue turns a stored value into its JSON form: date-times in
// ZonedDateTime#toString form, references as compact maps.
func (d *data) jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return formatDateTime(x)
	case ref:
		return d.compact(x)
	case []any:
		l := make([]any, 0, len(x))
		for _, it := range x {
			if pa, ok := it.(*partnerAddress); ok {
				l = append(l, map[string]any{"id": pa.ID, "$version": pa.Version})
			}
		}
		return l
	}
	return v
}

// compact is the map of a many-to-one: id, $version (with the dollar),
// the name field and code when the target has one.
func (d *data) compact(r ref) any {
	o := d.object(r.model, r.id)
	if o == nil {
		return nil
	}
	m := map[string]any{"id": r.id, "$version": versionOf(o)}
	if nf := nameFields[r.model]; nf != "" {
		m[nf] = d.get(o, nf)
	}
	if _, ok := schemas[r.model]["code"]; ok {
		m["code"] = d.get(o, "code")
	}
	return m
}

// extraPartnerFields stand for the many properties other AOS modules add
// to Partner; a client must ignore them.
var extraPartnerFields = map[string]any{
	"isKeyAccount": false, "leadScoringSelect": 0, "isDoNotEmail": false,
	"payerQuality": "0.00", "paymentDelay": "0.00", "invoicesCopySelect": 1,
	"cid": nil, "selected": false, "importId": nil, "importOrigin": nil,
	"partnerRoleSet": []any{}, "tagSet": []any{}, "contactPartnerSet": []any{},
	"companySet":   []any{map[string]any{"id": 1, "$version": 0, "name": "ATIGIP", "code": "ATIGIP"}},
	"currency":     map[string]any{"id": 1, "$version": 0, "name": "Euro", "code": "EUR"},
	"localization": nil, "industrySector": nil, "contactAttrs": nil, "user": nil,
	"createdBy": map[string]any{"id": 1, "$version": 3, "name": "Administrateur", "code": "admin"},
}

// full renders a whole record as GET /{id} does: every property, with
// archived omitted when null.
func (d *data) full(o any) map[string]any {
	model := modelOf(o)
	m := make(map[string]any, len(schemas[model])+len(extraPartnerFields))
	for f := range schemas[model] {
		v := d.get(o, f)
		if f == "archived" && v == nil {
			continue
		}
		m[f] = d.jsonValue(v)
	}
	if model == mPartner {
		for k, v := range extraPartnerFields {
			m[k] = v
		}
		if p := o.(*partner); p.UpdatedOn != nil {
			m["updatedBy"] = map[string]any{"id": 2, "$version": 1, "name": "Référent TIG", "code": "referent"}
		} else {
			m["updatedBy"] = nil
		}
	}
	return m
}

// selected renders a record with a field list (Query.Selector#fetch):
// always id and version, dotted scalars as flat keys, unknown names and
// collections on dotted paths silently dropped.
func (d *data) selected(o any, fields []string, related map[string][]string) map[string]any {
	model := modelOf(o)
	m := map[string]any{"id": d.get(o, "id"), "version": d.get(o, "version")}
	for _, f := range fields {
		parts := strings.Split(f, ".")
		def, ok := lookup(model, parts)
		if !ok || (len(parts) > 1 && def.kind == kList) {
			continue
		}
		v := d.jsonValue(d.resolve(o, parts))
		if rel, ok := related[f]; ok && len(parts) == 1 && def.kind == kRef {
			if r, isRef := d.resolve(o, parts).(ref); isRef {
				if target := d.object(r.model, r.id); target != nil {
					cm := d.compact(r).(map[string]any)
					cm["version"] = versionOf(target)
					for _, rf := range rel {
						rp := strings.Split(rf, ".")
						if _, ok := lookup(r.model, rp); ok {
							cm[rf] = d.jsonValue(d.resolve(target, rp))
						}
					}
					v = cm
				}
			}
		}
		m[f] = v
	}
	return m
}

func lookup(model string, parts []string) (fieldDef, bool) {
	var def fieldDef
	for i, p := range parts {
		dd, ok := schemas[model][p]
		if !ok {
			return def, false
		}
		def = dd
		if i < len(parts)-1 {
			if dd.kind != kRef {
				return def, false
			}
			model = dd.target
		}
	}
	return def, true
}

// sortedKeys helps deterministic output in tests.
func sortedKeys(m map[string]any) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
