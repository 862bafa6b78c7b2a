package httpapi

import (
	"errors"
	"log/slog"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
)

// ContentTypeProblem is the media type of error responses (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// statusOf is the one map from coded errors to HTTP statuses.
var statusOf = map[string]int{
	atigip.EINVALID:      fiber.StatusBadRequest, // 422 is deliberately not used
	atigip.ENOTFOUND:     fiber.StatusNotFound,
	atigip.ECONFLICT:     fiber.StatusConflict,
	atigip.EUNAUTHORIZED: fiber.StatusUnauthorized,
	atigip.EFORBIDDEN:    fiber.StatusForbidden,
	atigip.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	atigip.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
	atigip.EINTERNAL:     fiber.StatusInternalServerError,
}

// titles are the French titles of each code, shown to end users.
var titles = map[string]string{
	atigip.EINVALID:      "Requête invalide",
	atigip.ENOTFOUND:     "Ressource introuvable",
	atigip.ECONFLICT:     "Conflit de version ou d'état",
	atigip.EUNAUTHORIZED: "Authentification requise",
	atigip.EFORBIDDEN:    "Accès refusé",
	atigip.ETOOLARGE:     "Requête trop volumineuse",
	atigip.EUNAVAILABLE:  "Service momentanément indisponible",
	atigip.EINTERNAL:     "Erreur interne du serveur",
}

// StatusOf returns the HTTP status of a coded error (500 for uncoded ones).
func StatusOf(err error) int {
	if st, ok := statusOf[atigip.ErrorCode(err)]; ok {
		return st
	}
	return fiber.StatusInternalServerError
}

// retryAfterSeconds is the Retry-After of every 503.
const retryAfterSeconds = "2"

// ProblemDetails is the body of every error response.
type ProblemDetails struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail"`
	Code     string              `json:"code"`
	Instance string              `json:"instance,omitempty"`
	Errors   []atigip.FieldError `json:"errors,omitempty"`
}

// problemOf builds the problem document of err. Uncoded errors become
// EINTERNAL with a generic message: their text may hold technical details
// (SQL, paths) not meant for users.
func problemOf(err error) ProblemDetails {
	code := atigip.ErrorCode(err)
	if _, ok := statusOf[code]; !ok {
		code = atigip.EINTERNAL
	}
	return ProblemDetails{
		Type:   "https://atigip360.justice.fr/problemes/" + code,
		Title:  titles[code],
		Status: statusOf[code],
		Detail: atigip.ErrorMessage(err),
		Code:   code,
		Errors: atigip.ErrorFields(err),
	}
}

// Problem writes err as application/problem+json (a French page for a
// browser asking for text/html) and returns nil so that a
// handler can end with `return s.Problem(c, err)`. Internal errors are
// logged with their technical cause (never a request body).
func (s *Server) Problem(c *fiber.Ctx, err error) error {
	return s.writeProblem(c, problemOf(err), err)
}

func (s *Server) writeProblem(c *fiber.Ctx, p ProblemDetails, err error) error {
	p.Instance = c.Path()
	if p.Status >= 500 {
		s.log.Error("request failed", slog.String("route", routePattern(c)),
			slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	}
	if wantsHTML(c) {
		// Browsers get a French page; API clients the problem document.
		return s.errorPage(c, p)
	}
	c.Status(p.Status)
	if p.Status == fiber.StatusServiceUnavailable {
		// A database restart or a catch-up lasts seconds: clients and load
		// balancers retry rather than give up.
		c.Set(fiber.HeaderRetryAfter, retryAfterSeconds)
	}
	if err := c.JSON(p); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ContentTypeProblem)
	return nil
}

// errorHandler turns errors escaping handlers (including Fiber's own:
// unknown route, body too large, panics recovered) into problems.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		if fe.Code == fiber.StatusMethodNotAllowed {
			// No domain code for it: keep HTTP's own status.
			p := problemOf(atigip.Errorf(atigip.EINVALID, "Méthode non autorisée sur cette adresse."))
			p.Status, p.Title = fiber.StatusMethodNotAllowed, "Méthode non autorisée"
			return s.writeProblem(c, p, err)
		}
		err = fiberToCoded(fe)
	}
	return s.Problem(c, err)
}

func fiberToCoded(fe *fiber.Error) error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return atigip.Errorf(atigip.ENOTFOUND, "Aucune ressource à cette adresse.")
	case fiber.StatusRequestEntityTooLarge:
		return atigip.Errorf(atigip.ETOOLARGE, "Le corps de la requête dépasse la taille autorisée.")
	case fiber.StatusUnauthorized:
		return atigip.Errorf(atigip.EUNAUTHORIZED, "Authentification requise.")
	case fiber.StatusForbidden:
		return atigip.Errorf(atigip.EFORBIDDEN, "Accès refusé.")
	case fiber.StatusServiceUnavailable:
		return atigip.Errorf(atigip.EUNAVAILABLE, "Service momentanément indisponible.")
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return &atigip.Error{Code: atigip.EINVALID, Message: "Requête invalide.", Err: fe}
	}
	return &atigip.Error{Code: atigip.EINTERNAL, Message: "Erreur interne du serveur.", Err: fe}
}
