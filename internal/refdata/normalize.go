package refdata

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldPool reuses the accent-folding transformer (decompose, drop combining
// marks, recompose); a transform.Chain is stateful so it cannot be shared.
var foldPool = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// Normalize folds a name for comparison: lower case, accents removed,
// ligatures expanded (œ→oe, æ→ae, ß→ss), every character that is not a letter
// or a digit (hyphen, apostrophe, punctuation, spaces) turned into a single
// space, and no leading or trailing space. "L'Haÿ-les-Roses" → "l hay les roses".
func Normalize(s string) string {
	if isPlainASCII(s) {
		return foldASCII(s)
	}
	t := foldPool.Get().(transform.Transformer)
	folded, _, err := transform.String(t, s)
	t.Reset()
	foldPool.Put(t)
	if err != nil {
		folded = s // invalid UTF-8 cannot fail these transformers; keep going
	}
	var b strings.Builder
	b.Grow(len(folded))
	space := false
	for _, r := range folded {
		switch {
		case r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case r == 'œ' || r == 'Œ':
			writeSep(&b, &space)
			b.WriteString("oe")
			continue
		case r == 'æ' || r == 'Æ':
			writeSep(&b, &space)
			b.WriteString("ae")
			continue
		case r == 'ß':
			writeSep(&b, &space)
			b.WriteString("ss")
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
		default:
			space = b.Len() > 0
			continue
		}
		writeSep(&b, &space)
		b.WriteRune(r)
	}
	return b.String()
}

func writeSep(b *strings.Builder, space *bool) {
	if *space {
		b.WriteByte(' ')
		*space = false
	}
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// foldASCII is the allocation-light path of Normalize for ASCII input, which
// is most geocoder queries ("ST ETIENNE").
func foldASCII(s string) string {
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		default:
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return string(b)
}

// nameKey is the key the geocoder compares: Normalize, then abbreviations of
// "saint" expanded and a leading article (le, la, les, l) dropped, so that
// "ST ETIENNE", "Saint-Étienne" and "Le Mans"/"Mans" meet. Postal noise
// ("CEDEX 07", a trailing arrondissement number) is removed too.
func nameKey(s string) string {
	words := strings.Fields(Normalize(s))
	for i, w := range words {
		switch w {
		case "st":
			words[i] = "saint"
		case "ste":
			words[i] = "sainte"
		case "sts":
			words[i] = "saints"
		case "stes":
			words[i] = "saintes"
		}
	}
	if len(words) > 1 {
		switch words[0] {
		case "le", "la", "les", "l":
			words = words[1:]
		}
	}
	// Drop "cedex" and anything after it, then trailing bare numbers.
	for i, w := range words {
		if w == "cedex" && i > 0 {
			words = words[:i]
			break
		}
	}
	for len(words) > 1 && isDigits(words[len(words)-1]) {
		words = words[:len(words)-1]
	}
	return strings.Join(words, " ")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
