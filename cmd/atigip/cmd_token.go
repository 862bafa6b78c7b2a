package main

import (
	"context"
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// cmdToken prints a signed development token, for curl and scripts.
func cmdToken(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "token")
	role := fs.String("role", "", "role: "+roleNames())
	subject := fs.String("subject", "", "subject (default dev:<role>)")
	dep := fs.String("departement", "", "perimeter of a professional (INSEE département code)")
	org := fs.Int64("organisation", 0, "organisation id, for the host role")
	prison := fs.Int64("prison", 0, "prison id, for prison staff")
	person := fs.Int64("person", 0, "person id, for the person role")
	siret := fs.String("siret", "", "company of a business (SIRET, or SIREN for all its establishments)")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	if err := parse(fs, args); err != nil {
		return err
	}
	r := atigip.Role(*role)
	if !r.Valid() {
		return fmt.Errorf("%w: --role must be one of %s", errUsage, roleNames())
	}
	if *siret != "" && !atigip.ValidSIRET(*siret) && !atigip.ValidSIREN(*siret) {
		return fmt.Errorf("%w: --siret must be a SIRET (14 digits) or a SIREN (9 digits) with a valid key", errUsage)
	}
	if !env.Config.DevTokens {
		return fmt.Errorf("development tokens are disabled (production mode without ATIGIP_DEV_TOKENS)")
	}
	_, dev, err := env.authenticator(ctx)
	if err != nil {
		return err
	}
	if *subject == "" {
		*subject = "dev:" + *role
	}
	tok, err := dev.Issue(atigip.Principal{Subject: *subject, Role: r, Name: "Compte de démonstration", Departement: *dep,
		OrganisationID: *org, PrisonID: *prison, PersonID: *person, SIRET: *siret}, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, tok)
	return nil
}

func roleNames() string {
	s := ""
	for i, r := range atigip.Roles {
		if i > 0 {
			s += ", "
		}
		s += string(r.Role)
	}
	return s
}
