package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atigip/atigip360/internal/atigip"
)

// kindLabels name each kind in French for user messages.
var kindLabels = map[atigip.Kind]string{
	atigip.KindOrganisation: "Structure",
	atigip.KindPost:         "Poste de TIG",
	atigip.KindPrison:       "Établissement pénitentiaire",
	atigip.KindFloorSpace:   "Surface d'implantation",
	atigip.KindOffer:        "Offre",
	atigip.KindPerson:       "Profil",
	atigip.KindMeasure:      "Mesure de TIG",
	atigip.KindApplication:  "Candidature",
	// The workflow kinds (atigip.WorkflowKinds).
	atigip.KindFlowMessage:    "Message de flux APPI",
	atigip.KindMeasureLog:     "Suivi de mesure",
	atigip.KindProcedure:      "Procédure d'habilitation",
	atigip.KindContactRequest: "Demande de contact",
}

func label(k atigip.Kind) string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return "Élément"
}

func errNotFound(k atigip.Kind) error {
	return atigip.Errorf(atigip.ENOTFOUND, "%s introuvable.", label(k))
}

func errStale(k atigip.Kind) error {
	e := atigip.Errorf(atigip.ECONFLICT,
		"%s modifié entre-temps par quelqu'un d'autre : rechargez-le puis recommencez.", label(k))
	e.Err = atigip.ErrConcurrent
	return e
}

// errDuplicateRef never quotes the reference: it may be a case number.
func errDuplicateRef(k atigip.Kind) error {
	e := atigip.Errorf(atigip.ECONFLICT, "%s déjà enregistré avec la même référence.", label(k))
	e.Err = atigip.ErrConcurrent // perhaps created a moment ago by a concurrent writer
	return e
}

// PostgreSQL error codes the store maps.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// mapError turns driver errors into coded errors where a code says more
// than EINTERNAL: duplicates and lost races into ECONFLICT, an unreachable
// server into EUNAVAILABLE. The cause stays wrapped for the logs.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var ae *atigip.Error
	if errors.As(err, &ae) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			return &atigip.Error{Code: atigip.ECONFLICT,
				Message: "Un enregistrement avec la même référence existe déjà.", Err: fmt.Errorf("%w: %w", atigip.ErrConcurrent, err)}
		case pgSerializationFailure, pgDeadlockDetected:
			return &atigip.Error{Code: atigip.ECONFLICT,
				Message: "Modification concurrente : recommencez dans un instant.", Err: fmt.Errorf("%w: %w", atigip.ErrConcurrent, err)}
		}
		if len(pe.Code) == 5 && (pe.Code[:2] == "08" || pe.Code[:2] == "57" || pe.Code[:2] == "53") {
			// connection exception, operator intervention (shutdown),
			// insufficient resources: the database is unavailable.
			return unavailable(err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	// A connection cut mid-message ends in io.ErrUnexpectedEOF (or EOF):
	// the server went away, not a bug of ours.
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return unavailable(err)
	}
	return err
}

func unavailable(err error) error {
	return &atigip.Error{Code: atigip.EUNAVAILABLE,
		Message: "La base de données est momentanément indisponible : réessayez plus tard.", Err: err}
}
