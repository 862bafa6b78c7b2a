package atigip

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckText refuses text that a store cannot keep alike everywhere: a NUL
// character (PostgreSQL text and jsonb refuse it, SQLite keeps it) or
// bytes that are not UTF-8. It walks every string of v (structs, pointers,
// slices, maps) and returns nil or an EINVALID error naming each field by
// its JSON path (address.commune, rome_codes[2]). Both stores call it
// before every write and the HTTP decoder on every body, so that the same
// input gets the same 400 whatever the store.
func CheckText(v any) error {
	var p Problems
	walkText(reflect.ValueOf(v), "", &p)
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "Texte invalide : caractère nul ou encodage autre que UTF-8.", Fields: p}
}

// TextProblem says what is wrong with s ("" when nothing).
func TextProblem(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "Le caractère nul (U+0000) n'est pas accepté."
	case !utf8.ValidString(s):
		return "Texte non encodé en UTF-8."
	}
	return ""
}

// maxTextProblems bounds the fields reported (a body full of NULs).
const maxTextProblems = 20

func walkText(v reflect.Value, path string, p *Problems) {
	if len(*p) >= maxTextProblems || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkText(v.Elem(), path, p)
		}
	case reflect.String:
		if msg := TextProblem(v.String()); msg != "" {
			p.Add(orDocument(path), "%s", msg)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			sub := path
			switch {
			case f.Anonymous && name == "":
				// embedded (Meta): its fields are the parent's
			case name != "":
				sub = join(path, name)
			default:
				sub = join(path, f.Name)
			}
			walkText(v.Field(i), sub, p)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw bytes, not text
		}
		for i := range v.Len() {
			walkText(v.Index(i), path+"["+strconv.Itoa(i)+"]", p)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			key := ""
			if k.Kind() == reflect.String {
				key = k.String()
				if msg := TextProblem(key); msg != "" {
					p.Add(orDocument(path), "Clé : %s", msg)
					continue
				}
			}
			walkText(iter.Value(), join(path, key), p)
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orDocument(path string) string {
	if path == "" {
		return "(document)"
	}
	return path
}

// SafeText makes s storable as it reads: NULs and bytes that are not UTF-8
// become U+FFFD. It is for what must be kept for inspection even when
// malformed (a rejected flow message), never for data entered by users,
// which CheckText refuses.
func SafeText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
