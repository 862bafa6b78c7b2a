package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
)

// Decode reads the JSON request body into v strictly: the content type must
// be JSON, unknown fields, trailing data and malformed JSON are EINVALID
// errors naming the field or position in French. The body size itself is
// capped by Options.MaxBody before the handler runs (413).
func (s *Server) Decode(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	if ct != "" && !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) && !strings.Contains(ct, "+json") {
		return atigip.Errorf(atigip.EINVALID, "Type de contenu non pris en charge : JSON attendu (application/json).")
	}
	return decodeStrict(c.Body(), v)
}

func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return atigip.Errorf(atigip.EINVALID, "Le corps de la requête est vide : un document JSON est attendu.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return atigip.Errorf(atigip.EINVALID, "JSON mal formé : données en trop après le document.")
	}
	// encoding/json turns invalid UTF-8 into U+FFFD but keeps \u0000;
	// the body is refused here, naming the field, whatever the store.
	if !utf8.Valid(body) {
		return atigip.Errorf(atigip.EINVALID, "Le corps de la requête n'est pas encodé en UTF-8.")
	}
	return atigip.CheckText(v)
}

// checkRequestText refuses a NUL or non-UTF-8 query or path parameter with
// a 400 naming it, on every route, before any handler or store sees it.
func checkRequestText(c *fiber.Ctx) error {
	var fields []atigip.FieldError
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		for _, b := range [][]byte{k, v} {
			if msg := atigip.TextProblem(string(b)); msg != "" && len(fields) < 10 {
				fields = append(fields, atigip.FieldError{Field: strings.ReplaceAll(strings.ToValidUTF8(string(k), "\uFFFD"), "\x00", "\uFFFD"), Message: msg})
				return
			}
		}
	})
	for _, name := range c.Route().Params {
		if msg := atigip.TextProblem(c.Params(name)); msg != "" {
			fields = append(fields, atigip.FieldError{Field: name, Message: msg})
		}
	}
	if len(fields) > 0 {
		return &atigip.Error{Code: atigip.EINVALID, Message: "Paramètre de requête invalide.", Fields: fields}
	}
	return nil
}

// decodeError translates encoding/json errors into French field errors.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &atigip.Error{Code: atigip.EINVALID, Err: err,
			Message: fmt.Sprintf("JSON mal formé (position %d).", syn.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &atigip.Error{Code: atigip.EINVALID, Err: err, Message: "JSON mal formé : document incomplet."}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(document)"
		}
		return &atigip.Error{Code: atigip.EINVALID, Err: err, Message: "Type de valeur incorrect.",
			Fields: []atigip.FieldError{{Field: field, Message: fmt.Sprintf("Type incorrect : %s attendu.", jsonTypeName(typ.Type.Kind().String()))}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &atigip.Error{Code: atigip.EINVALID, Err: err, Message: "Champ inconnu dans la requête.",
			Fields: []atigip.FieldError{{Field: name, Message: "Champ inconnu : il n'existe pas pour cette ressource."}}}
	}
	// Custom UnmarshalJSON methods (dates…) report their own errors.
	return &atigip.Error{Code: atigip.EINVALID, Err: err, Message: "Valeur illisible dans la requête (format attendu : voir /openapi.json)."}
}

func jsonTypeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "nombre entier"
	case strings.HasPrefix(kind, "float"):
		return "nombre"
	case kind == "string":
		return "texte"
	case kind == "bool":
		return "booléen"
	case kind == "slice", kind == "array":
		return "liste"
	case kind == "struct", kind == "map":
		return "objet"
	}
	return kind
}
