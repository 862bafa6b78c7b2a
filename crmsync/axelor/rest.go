package axelor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Page is one search answer.
type Page struct {
	Offset  int
	Total   int64 // COUNT of all matching rows, not of this page
	Records []Record
}

func restPath(model string, parts ...string) string {
	p := "/ws/rest/" + url.PathEscape(model)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// decodeRecords reads data as a list of records. An absent data is an
// empty list (the server omits empty lists); an object is a protocol
// error here, because error objects only come with status != 0.
func decodeRecords(op string, raw json.RawMessage) ([]Record, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, &Error{Code: CodeProtocol, Op: op, Message: "data n'est pas une liste"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []Record
	if err := dec.Decode(&out); err != nil {
		return nil, &Error{Code: CodeProtocol, Op: op, Err: err}
	}
	return out, nil
}

// Search runs POST /ws/rest/{model}/search. A status 0 answer without
// "total" is a query error the server swallowed (a value of the wrong
// type, like on a number…) and returns ErrSwallowedQuery.
func (c *Client) Search(ctx context.Context, model string, r SearchRequest) (*Page, error) {
	op := "search " + model
	body, err := r.body()
	if err != nil {
		return nil, &Error{Code: CodeInvalid, Op: op, Err: err}
	}
	env, err := c.call(ctx, op, http.MethodPost, restPath(model, "search"), body, false)
	if err != nil {
		return nil, err
	}
	if env.Total == nil {
		return nil, &Error{Code: CodeSwallowedQuery, Op: op}
	}
	recs, err := decodeRecords(op, env.Data)
	if err != nil {
		return nil, err
	}
	if int64(len(recs)) > *env.Total || len(recs) > r.Limit {
		return nil, &Error{Code: CodeProtocol, Op: op, Message: fmt.Sprintf("%d lignes pour un total de %d", len(recs), *env.Total)}
	}
	p := &Page{Total: *env.Total, Records: recs}
	if env.Offset != nil {
		p.Offset = *env.Offset
	}
	return p, nil
}

// Read runs GET /ws/rest/{model}/{id} (archived records included). The
// server answers a missing id with a bare {"status":0}: ErrNotFound.
func (c *Client) Read(ctx context.Context, model string, id int64) (Record, error) {
	op := fmt.Sprintf("read %s/%d", model, id)
	env, err := c.call(ctx, op, http.MethodGet, restPath(model, strconv.FormatInt(id, 10)), nil, false)
	if err != nil {
		return nil, err
	}
	return one(op, env)
}

func one(op string, env *envelope) (Record, error) {
	recs, err := decodeRecords(op, env.Data)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, &Error{Code: CodeNotFound, Op: op}
	}
	return recs[0], nil
}

// Fetch runs POST /ws/rest/{model}/{id}/fetch, a partial read. The server
// answers a missing id with a "Concurrent updates error": ErrNotFound here.
func (c *Client) Fetch(ctx context.Context, model string, id int64, fields []string, related map[string][]string) (Record, error) {
	op := fmt.Sprintf("fetch %s/%d", model, id)
	body := map[string]any{"fields": fields}
	if len(related) > 0 {
		body["related"] = related
	}
	env, err := c.call(ctx, op, http.MethodPost, restPath(model, strconv.FormatInt(id, 10), "fetch"), body, false)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == CodeConflict {
			e.Code = CodeNotFound
		}
		return nil, err
	}
	return one(op, env)
}

// Update runs POST /ws/rest/{model}/{id} with data and the record's
// version. It is safe to retry: the server compares versions only when a
// value changes, so replaying a committed write succeeds without effect.
// The answer is checked against data; a record that does not hold the
// written values gives ErrNoEffect, a stale version ErrConflict.
func (c *Client) Update(ctx context.Context, model string, id, version int64, data map[string]any) (Record, error) {
	op := fmt.Sprintf("update %s/%d", model, id)
	if version < 0 {
		return nil, &Error{Code: CodeInvalid, Op: op, Message: "version négative"}
	}
	d := make(map[string]any, len(data)+1)
	for k, v := range data {
		if k == "id" || k == "version" {
			continue
		}
		d[k] = v
	}
	// version must be a JSON integer: without it the record is treated as
	// a reference and nothing is written, and "3" or 3.0 fail.
	d["version"] = version
	env, err := c.call(ctx, op, http.MethodPost, restPath(model, strconv.FormatInt(id, 10)), map[string]any{"data": d}, true)
	if err != nil {
		return nil, err
	}
	rec, err := one(op, env)
	if err != nil {
		return nil, err
	}
	if rec.ID() != id {
		return nil, &Error{Code: CodeProtocol, Op: op, Message: "identifiant inattendu dans la réponse"}
	}
	if field, ok := Verify(data, rec); !ok {
		return nil, &Error{Code: CodeNoEffect, Op: op, Message: "champ " + field}
	}
	return rec, nil
}

// Archive sets archived = true with the version (deletes do not check
// versions, and a sync must never lose a record).
func (c *Client) Archive(ctx context.Context, model string, id, version int64) (Record, error) {
	return c.Update(ctx, model, id, version, map[string]any{"archived": true})
}

// Verify reports whether rec holds the values of sent, and the first
// field that does not. Nested maps are compared on the keys the answer
// carries (a compact reference has only id, $version and a name); lists
// are compared by length.
func Verify(sent map[string]any, rec Record) (string, bool) {
	for k, v := range sent {
		if k == "id" || k == "version" {
			continue
		}
		got, present := rec[k]
		if !present {
			// archived is omitted when null; anything else missing was
			// not written (unknown field or no setter).
			if k == "archived" && (v == nil || v == false) {
				continue
			}
			return k, false
		}
		if !sameValue(v, got) {
			return k, false
		}
	}
	return "", true
}

func sameValue(sent, got any) bool {
	switch s := sent.(type) {
	case nil:
		return got == nil
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range s {
			if k == "version" || k == "$version" {
				continue
			}
			if gv, ok := g[k]; ok && !sameValue(v, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		return ok && len(g) == len(s)
	case string:
		g, ok := got.(string)
		if !ok {
			if n, isNum := got.(json.Number); isNum {
				g = n.String()
			} else {
				return false
			}
		}
		if g == s {
			return true
		}
		// Decimals come back at the column scale: "45.75" is
		// "45.750000000000000000".
		if strings.Contains(s, ".") {
			a, e1 := strconv.ParseFloat(s, 64)
			b, e2 := strconv.ParseFloat(g, 64)
			return e1 == nil && e2 == nil && math.Abs(a-b) < 1e-9
		}
		return false
	case bool:
		g, ok := got.(bool)
		return ok && g == s
	}
	a, ok1 := toFloat(sent)
	b, ok2 := toFloat(got)
	return ok1 && ok2 && a == b
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}
