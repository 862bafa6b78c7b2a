package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"

	"github.com/atigip/atigip360/internal/flows"
)

var clientName = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,31}$`)

// cmdFlowsKey makes an API key for a machine client of the flows (APPI,
// GENESIS): the key goes to the client, only its hash to our configuration.
func cmdFlowsKey(_ context.Context, env *Env, args []string) error {
	fs := flags(env, "flows-key")
	name := fs.String("name", "appi", "client name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !clientName.MatchString(*name) {
		return fmt.Errorf("%w: --name must be 2 to 32 lowercase letters, digits, - or _", errUsage)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	key := base64.RawURLEncoding.EncodeToString(buf)
	fmt.Fprintf(env.Stdout, "key (give it to the client, sent as X-API-Key): %s\n", key)
	fmt.Fprintf(env.Stdout, "configuration: ATIGIP_FLOWS_CLIENTS=%s=%s\n", *name, flows.HashKey(key))
	return nil
}
