package sqlite

import (
	"errors"
	"fmt"

	"github.com/atigip/atigip360/internal/atigip"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// kindLabels names each kind in French for user messages.
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

// msgStale is shown when an update or delete carries an old version.
const msgStale = "La fiche a été modifiée entre-temps : rechargez-la avant de l'enregistrer."

func notFound(k atigip.Kind, id int64) error {
	return atigip.Errorf(atigip.ENOTFOUND, "%s n° %d introuvable.", kindLabels[k], id)
}

func stale(k atigip.Kind, id int64) error {
	e := atigip.Errorf(atigip.ECONFLICT, msgStale)
	e.Err = fmt.Errorf("sqlite: %s %d: stale version: %w", k, id, atigip.ErrConcurrent)
	return e
}

func unknownKind(k atigip.Kind) error {
	return atigip.Errorf(atigip.EINVALID, "Type de fiche inconnu : %q.", k)
}

// dbErr maps a database error to a coded error, wrapping the technical
// cause as "sqlite: <op>: …". Coded errors pass through unchanged.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *atigip.Error
	if errors.As(err, &ae) {
		return err
	}
	wrapped := fmt.Errorf("sqlite: %s: %w", op, err)
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// The ref is the only unique key a client controls; it may be a
			// case reference, so it is not repeated in the message.
			return &atigip.Error{Code: atigip.ECONFLICT,
				Message: "Une fiche portant la même référence externe existe déjà : doublon refusé.",
				Err:     fmt.Errorf("%w: %w", atigip.ErrConcurrent, wrapped)}
		case code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED:
			return &atigip.Error{Code: atigip.EUNAVAILABLE,
				Message: "La base de données est momentanément occupée : réessayez dans un instant.", Err: wrapped}
		case code&0xff == sqlite3.SQLITE_FULL:
			return &atigip.Error{Code: atigip.EUNAVAILABLE,
				Message: "Le disque de la base de données est plein.", Err: wrapped}
		}
	}
	return wrapped
}
