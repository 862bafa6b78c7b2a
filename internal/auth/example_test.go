package auth_test

import (
	"context"
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
)

// In development, New returns a chain accepting dev tokens; in production
// the same secret is ignored unless AllowDevTokens is set.
func ExampleNew() {
	secret := []byte("exemple-exemple-exemple-exemple-32")
	ctx := context.Background()
	chain, dev, _ := auth.New(ctx, auth.Config{DevSecret: secret})
	tok, _ := dev.Issue(atigip.Principal{Subject: "dev:cpip", Role: atigip.RoleCPIP, Departement: "69"}, time.Hour)
	p, err := chain.Authenticate(ctx, tok)
	fmt.Println(p.Role, p.Departement, err)

	prod, _, _ := auth.New(ctx, auth.Config{Production: true, DevSecret: secret})
	_, err = prod.Authenticate(ctx, tok)
	fmt.Println(atigip.ErrorCode(err))
	// Output:
	// cpip 69 <nil>
	// unauthorized
}
