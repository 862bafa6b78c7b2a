package axelor

import (
	"encoding/json"
	"fmt"
	"time"
)

// Criterion is a search filter node: a leaf (field, operator, value) or a
// group (and/or/not over children). Build it with the helpers below; the
// zero Criterion is invalid.
type Criterion struct {
	Field    string
	Op       string
	Value    any
	Value2   any
	Children []Criterion
}

// And, Or and Not build groups. Not means NOT c1 AND NOT c2 …
func And(c ...Criterion) Criterion { return Criterion{Op: "and", Children: c} }
func Or(c ...Criterion) Criterion  { return Criterion{Op: "or", Children: c} }
func Not(c ...Criterion) Criterion { return Criterion{Op: "not", Children: c} }

// Leaf helpers. Note that != never matches rows where the field is NULL.
func Eq(field string, v any) Criterion    { return Criterion{Field: field, Op: "=", Value: v} }
func Ne(field string, v any) Criterion    { return Criterion{Field: field, Op: "!=", Value: v} }
func Gt(field string, v any) Criterion    { return Criterion{Field: field, Op: ">", Value: v} }
func Ge(field string, v any) Criterion    { return Criterion{Field: field, Op: ">=", Value: v} }
func Lt(field string, v any) Criterion    { return Criterion{Field: field, Op: "<", Value: v} }
func Le(field string, v any) Criterion    { return Criterion{Field: field, Op: "<=", Value: v} }
func Like(field, v string) Criterion      { return Criterion{Field: field, Op: "like", Value: v} }
func IsNull(field string) Criterion       { return Criterion{Field: field, Op: "isNull"} }
func NotNull(field string) Criterion      { return Criterion{Field: field, Op: "notNull"} }
func In(field string, v ...any) Criterion { return Criterion{Field: field, Op: "in", Value: v} }
func Between(field string, a, b any) Criterion {
	return Criterion{Field: field, Op: "between", Value: a, Value2: b}
}

func (c Criterion) isGroup() bool { return c.Op == "and" || c.Op == "or" || c.Op == "not" }

// validate rejects what the server would answer with status -1 (missing
// operator, empty "in") before anything is sent.
func (c Criterion) validate() error {
	if c.Op == "" {
		return fmt.Errorf("criterion on %q without operator", c.Field)
	}
	if c.isGroup() {
		for _, ch := range c.Children {
			if err := ch.validate(); err != nil {
				return err
			}
		}
		return nil
	}
	if c.Field == "" {
		return fmt.Errorf("criterion %q without field", c.Op)
	}
	if c.Op == "in" || c.Op == "notIn" {
		if l, ok := c.Value.([]any); !ok || len(l) == 0 {
			return fmt.Errorf("criterion %q on %q needs a non-empty list", c.Op, c.Field)
		}
	}
	return nil
}

// MarshalJSON renders the Axelor criteria form.
func (c Criterion) MarshalJSON() ([]byte, error) {
	if c.isGroup() {
		ch := c.Children
		if ch == nil {
			ch = []Criterion{}
		}
		return json.Marshal(struct {
			Operator string      `json:"operator"`
			Criteria []Criterion `json:"criteria"`
		}{c.Op, ch})
	}
	m := map[string]any{"fieldName": c.Field, "operator": c.Op}
	if c.Op != "isNull" && c.Op != "notNull" {
		m["value"] = c.Value
	}
	if c.Op == "between" || c.Op == "notBetween" {
		m["value2"] = c.Value2
	}
	return json.Marshal(m)
}

// SearchRequest is the body of POST /ws/rest/{model}/search.
type SearchRequest struct {
	Offset int
	// Limit must be > 0: a missing or zero limit makes the server return
	// every row, and the client refuses it.
	Limit  int
	Fields []string
	SortBy []string
	// Criteria is the filter; its root operator is always sent explicitly,
	// a leaf root is wrapped in an "and" group.
	Criteria *Criterion
	// Archived includes archived records (they are filtered out otherwise).
	Archived      bool
	Domain        string
	DomainContext map[string]any
	Related       map[string][]string
}

func (r SearchRequest) body() (map[string]any, error) {
	if r.Limit <= 0 {
		return nil, fmt.Errorf("limit must be > 0, got %d", r.Limit)
	}
	if r.Offset < 0 {
		return nil, fmt.Errorf("offset must be >= 0, got %d", r.Offset)
	}
	// data is always present: without it the server applies no filter at
	// all and returns archived rows.
	data := map[string]any{"_archived": r.Archived}
	if r.Criteria != nil {
		if err := r.Criteria.validate(); err != nil {
			return nil, err
		}
		root := *r.Criteria
		if !root.isGroup() {
			root = And(root)
		}
		ch := root.Children
		if ch == nil {
			ch = []Criterion{}
		}
		data["operator"] = root.Op
		data["criteria"] = ch
	}
	if r.Domain != "" {
		data["_domain"] = r.Domain
		ctx := r.DomainContext
		if ctx == nil {
			ctx = map[string]any{}
		}
		data["_domainContext"] = ctx
	}
	b := map[string]any{"offset": r.Offset, "limit": r.Limit, "data": data}
	if len(r.Fields) > 0 {
		b["fields"] = r.Fields
	}
	if len(r.SortBy) > 0 {
		b["sortBy"] = r.SortBy
	}
	if len(r.Related) > 0 {
		b["related"] = r.Related
	}
	return b, nil
}

// ChangedSince matches records created or updated at or after t. A new
// record has updatedOn = null until its first update, so
// "updatedOn >= t" alone never sees it:
// (updatedOn >= t) OR (updatedOn IS NULL AND createdOn >= t).
func ChangedSince(t time.Time) Criterion {
	return ChangedSinceOn("", t)
}

// ChangedSinceOn is ChangedSince on a related record: prefix is a
// many-to-one path such as "mainAddress" (empty for the record itself).
func ChangedSinceOn(prefix string, t time.Time) Criterion {
	p := ""
	if prefix != "" {
		p = prefix + "."
	}
	ts := FormatTime(t)
	return Or(
		Ge(p+"updatedOn", ts),
		And(IsNull(p+"updatedOn"), Ge(p+"createdOn", ts)),
	)
}
