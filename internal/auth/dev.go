package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/golang-jwt/jwt/v5"
)

// DevIssuerName is the "iss" of development tokens; their audience is
// DevAudience, so that they are never mistaken for provider tokens.
const (
	DevIssuerName = "atigip360-dev"
	DevAudience   = "atigip360"
)

// MinSecretLen is the shortest accepted HS256 secret (RFC 7518 §3.2).
const MinSecretLen = 32

// DevTokens issues and verifies HS256-signed development tokens carrying a
// principal. It implements atigip.Authenticator.
type DevTokens struct {
	secret []byte
	now    func() time.Time
}

// devClaims are the JWT claims of a development token.
type devClaims struct {
	jwt.RegisteredClaims
	Role           atigip.Role `json:"role"`
	Name           string      `json:"name,omitempty"`
	OrganisationID int64       `json:"organisation_id,omitempty"`
	PrisonID       int64       `json:"prison_id,omitempty"`
	PersonID       int64       `json:"person_id,omitempty"`
	Departement    string      `json:"departement,omitempty"`
	SIRET          string      `json:"siret,omitempty"`
}

// NewDevTokens returns development tokens signed with secret (at least
// MinSecretLen bytes).
func NewDevTokens(secret []byte) (*DevTokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: dev tokens: secret of %d bytes, at least %d needed", len(secret), MinSecretLen)
	}
	return &DevTokens{secret: append([]byte(nil), secret...), now: time.Now}, nil
}

// Issue signs a token for p valid for ttl.
func (d *DevTokens) Issue(p atigip.Principal, ttl time.Duration) (string, error) {
	if !p.Role.Valid() {
		return "", fmt.Errorf("auth: issue: unknown role %q", p.Role)
	}
	if p.Subject == "" {
		return "", errors.New("auth: issue: empty subject")
	}
	if ttl <= 0 {
		return "", errors.New("auth: issue: ttl must be positive")
	}
	now := d.now()
	c := devClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: DevIssuerName, Subject: p.Subject, Audience: jwt.ClaimStrings{DevAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role: p.Role, Name: p.Name, OrganisationID: p.OrganisationID, PrisonID: p.PrisonID,
		PersonID: p.PersonID, Departement: p.Departement, SIRET: p.SIRET,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(d.secret)
	if err != nil {
		return "", fmt.Errorf("auth: issue: %w", err)
	}
	return s, nil
}

// Authenticate implements atigip.Authenticator.
func (d *DevTokens) Authenticate(_ context.Context, token string) (atigip.Principal, error) {
	var c devClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return d.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(DevIssuerName), jwt.WithAudience(DevAudience),
		jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(d.now))
	if err != nil {
		return atigip.Principal{}, &atigip.Error{Code: atigip.EUNAUTHORIZED,
			Message: "Jeton de développement invalide ou expiré.", Err: fmt.Errorf("auth: dev token: %w", err)}
	}
	if !c.Role.Valid() || c.Subject == "" {
		return atigip.Principal{}, atigip.Errorf(atigip.EUNAUTHORIZED, "Jeton de développement sans rôle ou sans sujet.")
	}
	return atigip.Principal{Subject: c.Subject, Role: c.Role, Name: c.Name, OrganisationID: c.OrganisationID,
		PrisonID: c.PrisonID, PersonID: c.PersonID, Departement: c.Departement, SIRET: c.SIRET}, nil
}
