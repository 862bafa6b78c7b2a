package axelorfake

import (
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

// compact is the map of a many-to-one (Resource#_toMap, compact): id,
// $version (with the dollar), the name field and code when the target
// has one.
func (d *data) compact(r ref) any { return d.refMap(r, true) }

// refMap renders reference r as {id, $version, <nameField>}, plus code
// when withCode and the target has one; nil when the target is missing.
func (d *data) refMap(r ref, withCode bool) any {
	o := d.object(r.model, r.id)
	if o == nil {
		return nil
	}
	m := map[string]any{"id": r.id, "$version": versionOf(o)}
	if nf := nameFields[r.model]; nf != "" {
		m[nf] = d.get(o, nf)
	}
	if _, ok := schemas[r.model]["code"]; ok && withCode {
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

// selected renders a search row with a field list (Query.Selector#fetch):
// always id and version, dotted scalars as flat keys, a many-to-one as
// {id, $version, <nameField>}, unknown names and collections on dotted
// paths silently dropped. Resource#search ignores "related".
func (d *data) selected(o any, fields []string) map[string]any {
	model := modelOf(o)
	m := map[string]any{"id": d.get(o, "id"), "version": d.get(o, "version")}
	for _, f := range fields {
		parts := strings.Split(f, ".")
		def, ok := lookup(model, parts)
		if !ok || (len(parts) > 1 && def.kind == kList) {
			continue
		}
		raw := d.resolve(o, parts)
		if r, isRef := raw.(ref); isRef {
			m[f] = d.selectorRef(r)
		} else {
			m[f] = d.jsonValue(raw)
		}
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

// selectorRef is a many-to-one in a search row (Query.Selector): the
// selector joins id, version and the target's name field only, so the map
// is {id, $version, <nameField>}, without the code a compact map carries.
func (d *data) selectorRef(r ref) any { return d.refMap(r, false) }

// unflatten is Resource#unflatten: "mainAddress.city.name" becomes
// {"mainAddress": {"city": {"name": {}}}}.
func unflatten(tree map[string]any, names []string) map[string]any {
	if tree == nil {
		tree = map[string]any{}
	}
	for _, name := range names {
		head, rest, dotted := strings.Cut(name, ".")
		if !dotted {
			if _, ok := tree[name]; !ok {
				tree[name] = map[string]any{}
			}
			continue
		}
		child, _ := tree[head].(map[string]any)
		tree[head] = unflatten(child, []string{rest})
	}
	return tree
}

// toMap is Resource#toMap(bean, names) → _toMap(bean, unflatten(names),
// false, 0), the answer of POST /{id}/fetch: the root holds id, version,
// archived (unless null) and the requested properties; a many-to-one is a
// compact map carrying the requested sub-fields, nested. Dotted names
// therefore come back as nested maps, never as the flat keys of a search
// row.
func (d *data) toMap(o any, names []string) map[string]any {
	tree := unflatten(nil, names)
	model := modelOf(o)
	m := map[string]any{}
	for f := range schemas[model] {
		if _, asked := tree[f]; !asked && f != "id" && f != "version" && f != "archived" {
			continue
		}
		v := d.get(o, f)
		if f == "archived" && v == nil {
			continue
		}
		if r, isRef := v.(ref); isRef {
			sub, _ := tree[f].(map[string]any)
			m[f] = d.compactTree(r, sub)
		} else {
			m[f] = d.jsonValue(v)
		}
	}
	return m
}

// compactTree is _toMap in compact mode: id, $version, the name field and
// code, then each requested name (nested again for a many-to-one). A name
// the target does not have reads as null (Mapper#get).
func (d *data) compactTree(r ref, tree map[string]any) any {
	o := d.object(r.model, r.id)
	if o == nil {
		return nil
	}
	m := d.compact(r).(map[string]any)
	for name, s := range tree {
		sub, _ := s.(map[string]any)
		if _, known := schemas[r.model][name]; !known {
			m[name] = nil
			continue
		}
		if x, ok := d.get(o, name).(ref); ok {
			m[name] = d.compactTree(x, sub)
			continue
		}
		m[name] = d.jsonValue(d.get(o, name))
	}
	return m
}

// mergeRelated is Resource#mergeRelated: each "related" many-to-one is
// rendered with toMap(target, names) and merged over what fields gave
// (Resource#mergeMaps: keys already present win, nested maps merge).
func (d *data) mergeRelated(o any, m map[string]any, related map[string][]string) {
	for name, names := range related {
		if len(names) == 0 {
			continue
		}
		r, ok := d.get(o, name).(ref)
		if !ok {
			continue
		}
		target := d.object(r.model, r.id)
		if target == nil {
			continue
		}
		v := d.toMap(target, names)
		if old, ok := m[name].(map[string]any); ok {
			mergeMaps(v, old)
		}
		m[name] = v
	}
}

func mergeMaps(target, source map[string]any) {
	for k, old := range source {
		val := target[k]
		vm, ok1 := val.(map[string]any)
		om, ok2 := old.(map[string]any)
		switch {
		case ok1 && ok2:
			mergeMaps(vm, om)
		case val == nil:
			target[k] = old
		}
	}
}
