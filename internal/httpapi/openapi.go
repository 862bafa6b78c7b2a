package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
)

// The OpenAPI 3.1 document is generated from the declared routes: the same
// values that were registered in Fiber, so documentation and routing
// cannot disagree (openapi_test.go compares it with Fiber's route stack).

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)\??`)

// OpenAPIPath converts a Fiber path ("/api/posts/:id") to an OpenAPI path
// template ("/api/posts/{id}"). Wildcards become {path}.
func OpenAPIPath(p string) string {
	p = fiberParam.ReplaceAllString(p, "{$1}")
	p = strings.ReplaceAll(p, "*", "{path}")
	p = strings.ReplaceAll(p, "+", "{path}")
	return p
}

func pathParams(p string) []string {
	var out []string
	for _, m := range fiberParam.FindAllStringSubmatch(p, -1) {
		out = append(out, m[1])
	}
	if strings.ContainsAny(p, "*+") {
		out = append(out, "path")
	}
	return out
}

type schemaGen struct {
	components map[string]any
	names      map[reflect.Type]string
}

var (
	timeType = reflect.TypeOf(time.Time{})
	dateType = reflect.TypeOf(atigip.Date{})
)

// enums documents the closed string sets of the domain.
var enums = map[reflect.Type][]string{
	reflect.TypeOf(atigip.Role("")):               roleNames(),
	reflect.TypeOf(atigip.PostStatus("")):         keys(atigip.PostStatuses),
	reflect.TypeOf(atigip.Visibility("")):         {string(atigip.VisibilityPublic), string(atigip.VisibilityJustice)},
	reflect.TypeOf(atigip.OrganisationKind("")):   keys(atigip.OrganisationKinds),
	reflect.TypeOf(atigip.HabilitationStatus("")): keys(atigip.HabilitationStatuses),
	reflect.TypeOf(atigip.PrisonType("")):         keys(atigip.PrisonTypes),
	reflect.TypeOf(atigip.FloorUse("")):           keys(atigip.FloorUses),
	reflect.TypeOf(atigip.FloorStatus("")):        keys(atigip.FloorStatuses),
	reflect.TypeOf(atigip.OfferKind("")):          keys(atigip.OfferKinds),
	reflect.TypeOf(atigip.EmployerKind("")):       keys(atigip.EmployerKinds),
	reflect.TypeOf(atigip.OfferStatus("")):        keys(atigip.OfferStatuses),
	reflect.TypeOf(atigip.Transport("")):          keys(atigip.Transports),
	reflect.TypeOf(atigip.MeasureState("")):       keys(atigip.MeasureStates),
	reflect.TypeOf(atigip.ApplicationState("")):   keys(atigip.ApplicationStates),
}

func keys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

func roleNames() []string {
	out := make([]string, len(atigip.Roles))
	for i, r := range atigip.Roles {
		out[i] = string(r.Role)
	}
	return out
}

// schema returns the JSON Schema (2020-12, as OpenAPI 3.1 uses) of t.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case dateType:
		return map[string]any{"type": []string{"string", "null"}, "format": "date"}
	}
	if e, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": e}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := g.name(t)
		if _, done := g.components[name]; !done {
			g.components[name] = map[string]any{} // break recursion
			g.components[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	case reflect.Interface:
		return map[string]any{}
	}
	return map[string]any{}
}

func (g *schemaGen) name(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		// Generic instance "ListPage[*…/atigip.Post]" → "ListPagePost".
		arg := strings.TrimSuffix(n[i+1:], "]")
		n = n[:i] + arg[strings.LastIndexByte(arg, '.')+1:]
	}
	for _, used := range g.names {
		if used == n {
			pkg := t.PkgPath()
			n = pkg[strings.LastIndexByte(pkg, '/')+1:] + "." + n
			break
		}
	}
	g.names[t] = n
	return n
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	g.fields(t, props)
	return map[string]any{"type": "object", "properties": props}
}

// fields adds t's JSON fields to props, flattening embedded structs as
// encoding/json does.
func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
	}
}

func (s *Server) buildOpenAPI() ([]byte, error) {
	g := &schemaGen{components: map[string]any{}, names: map[reflect.Type]string{}}
	problemRef := g.schema(reflect.TypeOf(ProblemDetails{}))
	problem := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{ContentTypeProblem: map[string]any{"schema": problemRef}}}
	}
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		p := OpenAPIPath(rt.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
		}
		if rt.Tag != "" {
			op["tags"] = []string{rt.Tag}
		}
		var params []map[string]any
		documented := map[string]bool{}
		for _, pa := range rt.Params {
			typ := pa.Type
			if typ == "" {
				typ = "string"
			}
			in := pa.In
			if in == "" {
				in = "query"
			}
			documented[in+":"+pa.Name] = true
			params = append(params, map[string]any{"name": pa.Name, "in": in, "required": pa.Required || in == "path",
				"description": pa.Description, "schema": map[string]any{"type": typ}})
		}
		for _, name := range pathParams(rt.Path) {
			if !documented["path:"+name] {
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				fiber.MIMEApplicationJSON: map[string]any{"schema": g.schema(reflect.TypeOf(rt.Body))}}}
		}
		produces := rt.Produces
		if produces == "" {
			produces = fiber.MIMEApplicationJSON
		}
		ok := map[string]any{"description": "Succès"}
		if rt.Response != nil {
			ok["content"] = map[string]any{produces: map[string]any{"schema": g.schema(reflect.TypeOf(rt.Response))}}
		} else {
			ok["content"] = map[string]any{produces: map[string]any{}}
		}
		responses := map[string]any{"default": problem("Erreur (application/problem+json)")}
		for _, st := range append([]int{rt.SuccessStatus()}, rt.Also...) {
			responses[strconv.Itoa(st)] = successResponse(st, ok)
		}
		if len(rt.Roles) > 0 {
			responses["401"] = problem("Authentification requise")
			responses["403"] = problem("Rôle non admis")
			op["security"] = []map[string][]string{{"bearer": {}}, {"cookie": {}}}
			roles := make([]string, len(rt.Roles))
			for i, r := range rt.Roles {
				roles[i] = string(r)
			}
			op["x-roles"] = roles
		} else {
			op["x-roles"] = []string{"*"}
		}
		op["responses"] = responses
		paths[p][strings.ToLower(rt.Method)] = op
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{
			"title":       "ATIGIP 360",
			"version":     s.opts.Version,
			"description": "API du système d'information de l'ATIGIP : TIG 360 (travail d'intérêt général) et IPRO 360 (travail et formation en détention). Chaque opération indique les rôles admis (x-roles).",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("httpapi: openapi: %w", err)
	}
	return b, nil
}

// successResponse documents a success status; ok is the response with the
// route's body.
func successResponse(status int, ok map[string]any) map[string]any {
	desc := map[int]string{fiber.StatusCreated: "Créé", fiber.StatusAccepted: "Accepté, traitement différé",
		fiber.StatusNoContent: "Supprimé", fiber.StatusSeeOther: "Redirection"}[status]
	switch status {
	case fiber.StatusNoContent, fiber.StatusSeeOther:
		return map[string]any{"description": desc} // no body
	}
	if desc == "" {
		return ok
	}
	out := map[string]any{}
	for k, v := range ok {
		out[k] = v
	}
	out["description"] = desc
	return out
}

func operationID(rt Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '-' || r == '_' || r == '.' }) {
		seg = strings.Trim(seg, ":?*+")
		if seg == "" {
			continue
		}
		b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	return b.String()
}

// OpenAPI returns the generated OpenAPI 3.1 document.
func (s *Server) OpenAPI() []byte { return s.openapi }
