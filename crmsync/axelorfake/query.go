package axelorfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// tri is SQL's three-valued logic: NULL compared to anything is unknown.
type tri int8

const (
	tFalse tri = iota
	tTrue
	tUnknown
)

func triOf(b bool) tri {
	if b {
		return tTrue
	}
	return tFalse
}

type pred func(d *data, o any) tri

// appError is a status -1 answer.
type appError struct {
	title, message string
	entityID       int64
	entityName     string
	status         int
}

func (e *appError) Error() string { return e.message }

func failf(format string, args ...any) *appError {
	return &appError{message: fmt.Sprintf(format, args...), status: -1}
}

// errSwallowed marks a query that fails while executing: Resource#search
// catches it and answers status 0 with neither total nor data.
type errSwallowed struct{ why string }

func (e errSwallowed) Error() string { return e.why }

var operatorNames = map[string]string{
	"=": "=", "equals": "=", "!=": "!=", "notequal": "!=",
	"<": "<", "lessthan": "<", ">": ">", "greaterthan": ">",
	"<=": "<=", "lessorequal": "<=", ">=": ">=", "greaterorequal": ">=",
	"like": "like", "not like": "notLike", "notlike": "notLike",
	"is null": "isNull", "isnull": "isNull", "is not null": "notNull", "notnull": "notNull",
	"in": "in", "not in": "notIn", "notin": "notIn",
	"between": "between", "not between": "notBetween", "notbetween": "notBetween",
	"and": "and", "or": "or", "not": "not",
}

var fieldNameRe = regexp.MustCompile(`^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$`)

// compiler builds predicates; swallowed collects execution-time errors.
type compiler struct {
	model     string
	loc       *time.Location
	swallowed error
}

// compileData turns a request's data into a predicate. A nil data means
// no criteria at all: no filter, archived rows included.
func (c *compiler) compileData(dataMap map[string]any, present bool) (pred, error) {
	if !present || dataMap == nil {
		return nil, nil
	}
	var domain pred
	if dom, _ := dataMap["_domain"].(string); strings.TrimSpace(dom) != "" {
		// Resource#getCriteria compiles the domain first: whatever does not
		// compile is "Invalid domain"; it is then AND-ed with the criteria.
		params, _ := dataMap["_domainContext"].(map[string]any)
		node, ok := domainCriteria(dom, params)
		if !ok {
			return nil, failf("Invalid domain: %s", dom)
		}
		p, err := c.compile(node)
		if err != nil || c.swallowed != nil {
			c.swallowed = nil
			return nil, failf("Invalid domain: %s", dom)
		}
		domain = p
	}
	var root pred
	if crit, ok := dataMap["criteria"]; ok {
		op, _ := dataMap["operator"].(string)
		if op == "" {
			op = "or" // the trap: Criteria.parse defaults to OR
		}
		node := map[string]any{"operator": op, "criteria": crit}
		p, err := c.compile(node)
		if err != nil {
			return nil, err
		}
		root = p
	} else {
		// data without criteria: every key starting with a letter is a
		// like criterion, all OR-ed.
		var leaves []any
		keys := make([]string, 0, len(dataMap))
		for k := range dataMap {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "context" || k == "operator" || k == "" || !isLetter(k[0]) {
				continue
			}
			leaves = append(leaves, map[string]any{"fieldName": k, "operator": "like", "value": dataMap[k]})
		}
		if len(leaves) > 0 {
			p, err := c.compile(map[string]any{"operator": "or", "criteria": leaves})
			if err != nil {
				return nil, err
			}
			root = p
		}
	}
	if domain != nil {
		if root == nil {
			root = domain
		} else {
			inner := root
			root = func(d *data, o any) tri { return and3(domain(d, o), inner(d, o)) }
		}
	}
	if !isTrue(dataMap["_archived"]) && schemas[c.model]["archived"].kind == kBool {
		if _, ok := schemas[c.model]["archived"]; ok {
			arch := func(d *data, o any) tri {
				v := d.get(o, "archived")
				return triOf(v == nil || v == false)
			}
			if root == nil {
				root = arch
			} else {
				inner := root
				root = func(d *data, o any) tri { return and3(arch(d, o), inner(d, o)) }
			}
		}
	}
	return root, nil
}

func isLetter(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }

func isTrue(v any) bool { return v == true || v == "true" }

func and3(a, b tri) tri {
	if a == tFalse || b == tFalse {
		return tFalse
	}
	if a == tUnknown || b == tUnknown {
		return tUnknown
	}
	return tTrue
}

func or3(a, b tri) tri {
	if a == tTrue || b == tTrue {
		return tTrue
	}
	if a == tUnknown || b == tUnknown {
		return tUnknown
	}
	return tFalse
}

func not3(a tri) tri {
	switch a {
	case tTrue:
		return tFalse
	case tFalse:
		return tTrue
	}
	return tUnknown
}

func (c *compiler) compile(node any) (pred, error) {
	m, ok := node.(map[string]any)
	if !ok {
		return nil, failf("Invalid criteria: %v", node)
	}
	rawOp, _ := m["operator"].(string)
	op, known := operatorNames[strings.ToLower(strings.TrimSpace(rawOp))]
	if rawOp == "" {
		return nil, failf("No such operator: null")
	}
	if !known {
		return nil, failf("No such operator: %s", rawOp)
	}
	if op == "and" || op == "or" || op == "not" {
		list, _ := m["criteria"].([]any)
		kids := make([]pred, 0, len(list))
		for _, ch := range list {
			p, err := c.compile(ch)
			if err != nil {
				return nil, err
			}
			kids = append(kids, p)
		}
		return func(d *data, o any) tri {
			acc := tTrue
			if op == "or" {
				acc = tFalse
			}
			for _, k := range kids {
				v := k(d, o)
				switch op {
				case "and":
					acc = and3(acc, v)
				case "or":
					acc = or3(acc, v)
				case "not":
					acc = and3(acc, not3(v))
				}
			}
			return acc
		}, nil
	}
	return c.leaf(m, op)
}

// fieldPath checks a dotted name against the schemas and returns the
// final field definition.
func (c *compiler) fieldPath(name string) ([]string, fieldDef, error) {
	if !fieldNameRe.MatchString(name) {
		return nil, fieldDef{}, failf("Invalid field name: %s", name)
	}
	parts := strings.Split(name, ".")
	model := c.model
	var def fieldDef
	for i, p := range parts {
		d, ok := schemas[model][p]
		if !ok {
			if i == 0 {
				return nil, def, failf("No such field '%s' in object '%s'", p, model)
			}
			return nil, def, failf("could not resolve property: %s of: %s", p, model)
		}
		def = d
		if i < len(parts)-1 {
			if d.kind != kRef {
				return nil, def, failf("could not resolve property: %s of: %s", parts[i+1], model)
			}
			model = d.target
		}
	}
	return parts, def, nil
}

func (c *compiler) leaf(m map[string]any, op string) (pred, error) {
	name, _ := m["fieldName"].(string)
	path, def, err := c.fieldPath(name)
	if err != nil {
		return nil, err
	}
	value, value2 := m["value"], m["value2"]
	if s, ok := value.(string); ok && op != "between" && op != "notBetween" {
		value = strings.TrimSpace(s)
	}
	// A string on a relation compares the target's name field; a number
	// compares ids.
	if def.kind == kRef {
		if _, isStr := value.(string); isStr {
			path = append(path, nameFields[def.target])
			def = schemas[def.target][nameFields[def.target]]
		} else {
			path = append(path, "id")
			def = fieldDef{kind: kInt}
		}
	}
	get := func(d *data, o any) any { return d.resolve(o, path) }
	switch op {
	case "isNull":
		return func(d *data, o any) tri { return triOf(get(d, o) == nil) }, nil
	case "notNull":
		return func(d *data, o any) tri { return triOf(get(d, o) != nil) }, nil
	case "like", "notLike":
		s, ok := value.(string)
		if def.kind != kString || !ok {
			c.swallowed = errSwallowed{"like on a non-string"}
			return nil, nil
		}
		re := likeRegexp(s)
		if raw, _ := m["raw"].(bool); raw {
			re = rawLikeRegexp(s) // JPQL LIKE in a domain
		}
		return func(d *data, o any) tri {
			v, ok := get(d, o).(string)
			if !ok {
				return tUnknown
			}
			r := re.MatchString(v)
			if op == "notLike" {
				r = !r
			}
			return triOf(r)
		}, nil
	case "in", "notIn":
		list, ok := value.([]any)
		if !ok {
			return nil, failf("Invalid value for 'in' operator: %v", value)
		}
		if len(list) == 0 {
			return nil, failf("Invalid value for 'in' operator: empty list")
		}
		vals := make([]any, len(list))
		for i, v := range list {
			if vals[i], err = c.coerce(def.kind, v); err != nil {
				c.swallowed = err
				return nil, nil
			}
		}
		return func(d *data, o any) tri {
			fv := get(d, o)
			if fv == nil {
				return tUnknown
			}
			hit := false
			for _, v := range vals {
				if compare(fv, v) == 0 {
					hit = true
					break
				}
			}
			if op == "notIn" {
				hit = !hit
			}
			return triOf(hit)
		}, nil
	case "between", "notBetween":
		a, err1 := c.coerce(def.kind, value)
		b, err2 := c.coerce(def.kind, value2)
		if err1 != nil || err2 != nil {
			c.swallowed = errSwallowed{"between value"}
			return nil, nil
		}
		return func(d *data, o any) tri {
			fv := get(d, o)
			if fv == nil {
				return tUnknown
			}
			in := compare(fv, a) >= 0 && compare(fv, b) <= 0
			if op == "notBetween" {
				in = !in
			}
			return triOf(in)
		}, nil
	}
	v, err := c.coerce(def.kind, value)
	if err != nil {
		c.swallowed = err
		return nil, nil
	}
	return func(d *data, o any) tri {
		fv := get(d, o)
		if fv == nil || v == nil {
			return tUnknown
		}
		k := compare(fv, v)
		switch op {
		case "=":
			return triOf(k == 0)
		case "!=":
			return triOf(k != 0)
		case "<":
			return triOf(k < 0)
		case ">":
			return triOf(k > 0)
		case "<=":
			return triOf(k <= 0)
		case ">=":
			return triOf(k >= 0)
		}
		return tFalse
	}, nil
}

// coerce converts a criterion value to the field's type; a mismatch is a
// query execution error, which the server swallows.
func (c *compiler) coerce(k kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := errSwallowed{fmt.Sprintf("value %v does not fit the field type", v)}
	switch k {
	case kString:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		}
		return nil, bad
	case kInt:
		switch x := v.(type) {
		case json.Number:
			i, err := x.Int64()
			if err != nil {
				return nil, bad
			}
			return i, nil
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, bad
			}
			return i, nil
		}
		return nil, bad
	case kBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if x == "true" || x == "false" {
				return x == "true", nil
			}
		}
		return nil, bad
	case kDecimal:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = x
		default:
			return nil, bad
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, bad
		}
		return f, nil
	case kDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		t, err := c.parseDateTime(strings.TrimSpace(s))
		if err != nil {
			return nil, bad
		}
		return t, nil
	}
	return nil, bad
}

// parseDateTime is JavaTimeAdapter: an instant with Z or an offset; a
// zone-less form in the server's time zone; a date at start of day UTC.
func (c *compiler) parseDateTime(s string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(l, s, c.loc); err == nil {
			return t, nil
		}
	}
	return time.Parse("2006-01-02", s)
}

// compare orders two non-nil values of the same field type.
func compare(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case int64:
		y, _ := b.(int64)
		return cmpOrdered(x, y)
	case bool:
		y, _ := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	case ref:
		y, _ := b.(ref)
		return cmpOrdered(x.id, y.id)
	}
	// decimals are stored as strings, compared as numbers
	fa, _ := toF(a)
	fb, _ := toF(b)
	return cmpOrdered(fa, fb)
}

func toF(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// likeRegexp is UPPER(field) LIKE UPPER(value), wrapped in %…% unless the
// value starts or ends with %; _ matches one character.
func likeRegexp(v string) *regexp.Regexp {
	if !strings.HasPrefix(v, "%") && !strings.HasSuffix(v, "%") {
		v = "%" + v + "%"
	}
	return likePattern(v, "(?is)^")
}

// rawLikeRegexp is JPQL's LIKE: the pattern as given, case-sensitive.
func rawLikeRegexp(v string) *regexp.Regexp { return likePattern(v, "(?s)^") }

func likePattern(v, flags string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(flags)
	for _, r := range v {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// sortKey is one parsed sortBy entry.
type sortKey struct {
	path []string
	desc bool
}

// compileSort is Resource#getSortBy: default to the name field, append id
// for a deterministic order; ASC NULLS LAST, DESC NULLS FIRST.
func (c *compiler) compileSort(specs []string) ([]sortKey, error) {
	if len(specs) == 0 {
		if nf := nameFields[c.model]; nf != "" {
			specs = []string{nf}
		}
	}
	var keys []sortKey
	allDesc, hasID := len(specs) > 0, false
	for _, s := range specs {
		desc := strings.HasPrefix(s, "-")
		name := strings.TrimPrefix(s, "-")
		path, def, err := c.fieldPath(name)
		if err != nil {
			return nil, failf("No such field '%s' in object '%s'", name, c.model)
		}
		if def.kind == kRef {
			path = append(path, nameFields[def.target])
		}
		if name == "id" {
			hasID = true
		}
		allDesc = allDesc && desc
		keys = append(keys, sortKey{path, desc})
	}
	if !hasID {
		keys = append(keys, sortKey{[]string{"id"}, allDesc})
	}
	return keys, nil
}

func sortObjects(d *data, objs []any, keys []sortKey) {
	if len(keys) == 1 && keys[0].path[0] == "id" && len(keys[0].path) == 1 && !keys[0].desc {
		return // already in id order
	}
	sort.SliceStable(objs, func(i, j int) bool {
		for _, k := range keys {
			a, b := d.resolve(objs[i], k.path), d.resolve(objs[j], k.path)
			if a == nil && b == nil {
				continue
			}
			// NULLs are the largest value: last in ASC, first in DESC.
			var r int
			switch {
			case a == nil:
				r = 1
			case b == nil:
				r = -1
			default:
				r = compare(a, b)
			}
			if r == 0 {
				continue
			}
			if k.desc {
				r = -r
			}
			return r < 0
		}
		return false
	})
}
