package axelor

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Record is one row of an Axelor answer, decoded with json.Number so that
// ids and versions keep their integer form.
type Record map[string]any

// ID returns the record id, 0 when absent.
func (r Record) ID() int64 { v, _ := r.Int("id"); return v }

// Version returns the top-level "version", or "$version" in compact maps.
func (r Record) Version() (int64, bool) {
	if v, ok := r.Int("version"); ok {
		return v, true
	}
	return r.Int("$version")
}

// Has reports whether key is present (even when null).
func (r Record) Has(key string) bool { _, ok := r.lookup(key); return ok }

// Get returns the value at key. A dotted key is read both ways Axelor
// answers it: as the flat key of a search row (Query.Selector#fetch,
// "mainAddress.zip") or as nested maps, the form of a fetch or save answer
// (Resource#toMap: "mainAddress": {"zip": …}).
func (r Record) Get(key string) any { v, _ := r.lookup(key); return v }

func (r Record) lookup(key string) (any, bool) {
	if v, ok := r[key]; ok {
		return v, true
	}
	head, rest, dotted := strings.Cut(key, ".")
	if !dotted {
		return nil, false
	}
	child, ok := r[head].(map[string]any)
	if !ok {
		// a null reference: the whole path reads as null
		_, present := r[head]
		return nil, present
	}
	return Record(child).lookup(rest)
}

// String returns a string field; null and absent give "".
func (r Record) String(key string) string {
	switch v := r.Get(key).(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// Int returns an integer field; false when absent, null or not an integer.
func (r Record) Int(key string) (int64, bool) {
	switch v := r.Get(key).(type) {
	case json.Number:
		i, err := v.Int64()
		return i, err == nil
	case float64:
		if v == math.Trunc(v) {
			return int64(v), true
		}
	case int64:
		return v, true
	case int:
		return int64(v), true
	}
	return 0, false
}

// Bool returns a boolean field; null and absent give false.
func (r Record) Bool(key string) bool { b, _ := r.Get(key).(bool); return b }

// Decimal returns a BigDecimal field, sent by Axelor as a JSON string
// ("45.759700000000000000"); false when null or absent.
func (r Record) Decimal(key string) (float64, bool, error) {
	return ParseDecimal(r.Get(key))
}

// Time returns a date-time field; false when null or absent.
func (r Record) Time(key string) (time.Time, bool, error) {
	s, ok := r.Get(key).(string)
	if !ok || s == "" {
		return time.Time{}, false, nil
	}
	t, err := ParseTime(s)
	return t, err == nil, err
}

// Ref returns a many-to-one or one-to-one compact map, nil when null.
func (r Record) Ref(key string) Record {
	if m, ok := r.Get(key).(map[string]any); ok {
		return Record(m)
	}
	return nil
}

// List returns a collection as records.
func (r Record) List(key string) []Record {
	l, _ := r.Get(key).([]any)
	out := make([]Record, 0, len(l))
	for _, it := range l {
		if m, ok := it.(map[string]any); ok {
			out = append(out, Record(m))
		}
	}
	return out
}

// timeLayouts covers ZonedDateTime#toString: the seconds and the fraction
// are variable and "2026-03-04T10:15Z" (no seconds) is valid, which
// time.RFC3339 rejects.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime parses an Axelor date-time in any of its serialised forms.
// Zone-less forms are read as UTC (the server serialises in UTC).
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &Error{Code: CodeProtocol, Op: "parse date-time", Message: strconv.Quote(s)}
}

// FormatTime renders an instant the way the server accepts it best in
// criteria: absolute, with a Z.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ParseDecimal reads a BigDecimal sent as a string; numbers are accepted
// too, for proxies or versions that would send them bare.
func ParseDecimal(v any) (float64, bool, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		s = strings.TrimSpace(x)
		if s == "" {
			return 0, false, nil
		}
	case json.Number:
		s = x.String()
	case float64:
		return x, true, nil
	default:
		return 0, false, &Error{Code: CodeProtocol, Op: "parse decimal", Message: fmt.Sprintf("%T", v)}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, &Error{Code: CodeProtocol, Op: "parse decimal", Message: strconv.Quote(s), Err: err}
	}
	return f, true, nil
}

// FormatDecimal renders f as the plain decimal string Axelor expects for a
// BigDecimal column; places fixes the scale (7 places is ~1 cm for degrees).
func FormatDecimal(f float64, places int) string {
	return strconv.FormatFloat(f, 'f', places, 64)
}
