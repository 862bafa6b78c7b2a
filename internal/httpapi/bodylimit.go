package httpapi

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
)

// inflateBody bounds compressed request bodies after decoding. Fiber's
// Body() inflates gzip, deflate and brotli bodies with no limit, while
// Options.MaxBody only bounds the bytes received: a 64 KB gzip body would
// inflate to 64 MiB. Here the body is decoded once, reading at most
// MaxBody+1 bytes (413 beyond), and replaced by its decoded form, so
// handlers never see the encoding. Unknown encodings are refused (415).
func (s *Server) inflateBody(c *fiber.Ctx) error {
	header := c.Request().Header.Peek(fiber.HeaderContentEncoding)
	if len(header) == 0 {
		return c.Next()
	}
	var encodings []string
	for _, e := range strings.Split(string(header), ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" && e != "identity" {
			encodings = append(encodings, e)
		}
	}
	body := c.Request().Body()
	if len(body) == 0 {
		c.Request().Header.Del(fiber.HeaderContentEncoding)
		return c.Next()
	}
	var err error
	// Encodings are listed in the order they were applied (RFC 9110 §8.4).
	for i := len(encodings) - 1; i >= 0 && err == nil; i-- {
		body, err = inflate(encodings[i], body, s.opts.MaxBody)
	}
	if err != nil {
		var unsupported unsupportedEncoding
		if errors.As(err, &unsupported) {
			p := problemOf(atigip.Errorf(atigip.EINVALID,
				"Encodage du corps non pris en charge : %s (gzip, deflate, br ou aucun).", string(unsupported)))
			p.Status, p.Title = fiber.StatusUnsupportedMediaType, "Type de média non pris en charge"
			c.Set(fiber.HeaderAcceptEncoding, "gzip, deflate, br")
			return s.writeProblem(c, p, err)
		}
		return s.Problem(c, err)
	}
	c.Request().Header.Del(fiber.HeaderContentEncoding)
	c.Request().SetBodyRaw(body)
	return c.Next()
}

type unsupportedEncoding string

func (u unsupportedEncoding) Error() string { return "unsupported content encoding " + string(u) }

// inflate decodes body, reading at most limit+1 decoded bytes.
func inflate(encoding string, body []byte, limit int) ([]byte, error) {
	var (
		r   io.Reader
		err error
	)
	switch encoding {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate": // zlib-wrapped, as HTTP defines it and fasthttp reads it
		r, err = zlib.NewReader(bytes.NewReader(body))
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return nil, unsupportedEncoding(encoding)
	}
	if err == nil {
		var out bytes.Buffer
		if _, err = out.ReadFrom(io.LimitReader(r, int64(limit)+1)); err == nil {
			if out.Len() > limit {
				return nil, atigip.Errorf(atigip.ETOOLARGE,
					"Le corps de la requête, une fois décompressé, dépasse la taille autorisée (%d octets).", limit)
			}
			return out.Bytes(), nil
		}
	}
	return nil, &atigip.Error{Code: atigip.EINVALID, Message: fmt.Sprintf("Corps compressé (%s) illisible.", encoding),
		Err: fmt.Errorf("httpapi: inflate %s: %w", encoding, err)}
}
