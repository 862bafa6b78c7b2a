package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestTokenSIRET checks that `atigip token --siret` carries a business's
// company, and refuses a number whose key is wrong.
func TestTokenSIRET(t *testing.T) {
	vars := map[string]string{"ATIGIP_DATA_DIR": t.TempDir()}
	getenv := mapEnv(vars)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"token", "--role", "business", "--siret", "44306184100013"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("token: %v %s", err, errOut.String())
	}
	parts := strings.Split(strings.TrimSpace(out.String()), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", out.String())
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !strings.Contains(string(claims), `"siret":"44306184100013"`) {
		t.Fatalf("claims %s (%v) lack the SIRET", claims, err)
	}
	err = run(context.Background(), []string{"token", "--role", "business", "--siret", "44306184100014"}, getenv, &out, &errOut)
	if !errors.Is(err, errUsage) {
		t.Fatalf("bad SIRET: %v, want a usage error", err)
	}
}
