package axelorfake

import (
	"encoding/json"
	"strings"
	"unicode"
)

// domainCriteria turns a "_domain" (a JPQL WHERE fragment on "self",
// Resource#getCriteria / Criteria#createQuery) into a criteria node the
// compiler understands, with named parameters from "_domainContext".
// The fake reads a subset of JPQL: comparisons (= != <> < > <= >=),
// [NOT] LIKE, IS [NOT] NULL, [NOT] IN (list or :param), AND, OR, NOT and
// parentheses, on self.<path>, with string, number and boolean literals.
// Axelor compiles the domain before running the search, so anything it
// cannot compile (here: anything outside that subset, or an unknown
// field) is status -1 "Invalid domain: <domain>". LIKE in a domain is the
// raw JPQL pattern (no %…% added, case-sensitive), unlike the "like"
// criterion.
func domainCriteria(domain string, params map[string]any) (map[string]any, bool) {
	p := &domainParser{toks: tokenize(domain), params: params}
	node, ok := p.or()
	if !ok || p.pos != len(p.toks) {
		return nil, false
	}
	return node, true
}

type domainParser struct {
	toks   []string
	pos    int
	params map[string]any
}

func (p *domainParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *domainParser) next() string { t := p.peek(); p.pos++; return t }

func (p *domainParser) keyword(k string) bool {
	if strings.EqualFold(p.peek(), k) {
		p.pos++
		return true
	}
	return false
}

func (p *domainParser) or() (map[string]any, bool) { return p.chain("or", p.and) }

func (p *domainParser) and() (map[string]any, bool) { return p.chain("and", p.factor) }

// chain parses operands joined by the keyword op.
func (p *domainParser) chain(op string, operand func() (map[string]any, bool)) (map[string]any, bool) {
	first, ok := operand()
	if !ok {
		return nil, false
	}
	list := []any{first}
	for p.keyword(op) {
		n, ok := operand()
		if !ok {
			return nil, false
		}
		list = append(list, n)
	}
	if len(list) == 1 {
		return first, true
	}
	return map[string]any{"operator": op, "criteria": list}, true
}

func (p *domainParser) factor() (map[string]any, bool) {
	if p.keyword("not") {
		n, ok := p.factor()
		return map[string]any{"operator": "not", "criteria": []any{n}}, ok
	}
	if p.peek() == "(" {
		p.next()
		n, ok := p.or()
		if !ok || p.next() != ")" {
			return nil, false
		}
		return n, true
	}
	field, ok := strings.CutPrefix(p.next(), "self.")
	if !ok || field == "" {
		return nil, false
	}
	leaf := func(op string, v any) map[string]any {
		m := map[string]any{"fieldName": field, "operator": op, "raw": true}
		if v != nil {
			m["value"] = v
		}
		return m
	}
	if p.keyword("is") {
		if p.keyword("not") {
			return leaf("notNull", nil), p.keyword("null")
		}
		return leaf("isNull", nil), p.keyword("null")
	}
	// [NOT] LIKE v, [NOT] IN list
	negated := p.keyword("not")
	for _, kw := range []struct{ word, op, negOp string }{{"like", "like", "notLike"}, {"in", "in", "notIn"}} {
		if !p.keyword(kw.word) {
			continue
		}
		read := p.value
		if kw.word == "in" {
			read = p.list
		}
		v, ok := read()
		if negated {
			return leaf(kw.negOp, v), ok
		}
		return leaf(kw.op, v), ok
	}
	if negated {
		return nil, false
	}
	op := p.next()
	switch op {
	case "=", "!=", "<", ">", "<=", ">=":
	case "<>":
		op = "!="
	default:
		return nil, false
	}
	v, ok := p.value()
	return leaf(op, v), ok
}

func (p *domainParser) list() (any, bool) {
	if strings.HasPrefix(p.peek(), ":") {
		return p.value()
	}
	if p.next() != "(" {
		return nil, false
	}
	var out []any
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		switch p.next() {
		case ",":
		case ")":
			return out, true
		default:
			return nil, false
		}
	}
}

func (p *domainParser) value() (any, bool) {
	t := p.next()
	switch {
	case t == "":
		return nil, false
	case strings.HasPrefix(t, ":"):
		v, ok := p.params[t[1:]]
		return v, ok
	case strings.HasPrefix(t, "'"):
		return strings.ReplaceAll(t[1:len(t)-1], "''", "'"), true
	case strings.EqualFold(t, "true"), strings.EqualFold(t, "false"):
		return strings.EqualFold(t, "true"), true
	}
	var n json.Number = json.Number(t)
	if _, err := n.Float64(); err != nil {
		return nil, false
	}
	return n, true
}

// tokenize splits a domain into words, quoted strings, parameters and
// operators; an unterminated string yields a token the parser refuses.
func tokenize(s string) []string {
	var out []string
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'':
			j := i + 1
			for j < len(r) && (r[j] != '\'' || (j+1 < len(r) && r[j+1] == '\'')) {
				if r[j] == '\'' {
					j++
				}
				j++
			}
			if j >= len(r) {
				return append(out, "\x00")
			}
			out = append(out, string(r[i:j+1]))
			i = j + 1
		case strings.ContainsRune("(),", c):
			out = append(out, string(c))
			i++
		case strings.ContainsRune("=<>!", c):
			j := i + 1
			for j < len(r) && strings.ContainsRune("=<>", r[j]) {
				j++
			}
			out = append(out, string(r[i:j]))
			i = j
		default:
			j := i
			for j < len(r) && !unicode.IsSpace(r[j]) && !strings.ContainsRune("(),=<>!'", r[j]) {
				j++
			}
			out = append(out, string(r[i:j]))
			i = j
		}
	}
	return out
}
