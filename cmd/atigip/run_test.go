package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/flows"
)

// startServer runs `atigip serve` in-process on port 0 with a small demo
// set and returns its base URL.
func startServer(t *testing.T, extra map[string]string) string {
	t.Helper()
	base, _ := startStoppable(t, extra)
	return base
}

// startStoppable is startServer, also returning a function that stops
// the server gracefully (a restart's first half).
func startStoppable(t *testing.T, extra map[string]string) (base string, stop func()) {
	t.Helper()
	vars := map[string]string{
		"ATIGIP_ADDR":        "127.0.0.1:0",
		"ATIGIP_DATA_DIR":    t.TempDir(),
		"ATIGIP_SEED_SCALE":  "0.02",
		"ATIGIP_BASEMAP_URL": "",
		"ATIGIP_LOG_LEVEL":   "warn",
	}
	for k, v := range extra {
		vars[k] = v
	}
	getenv := mapEnv(vars)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve"}, getenv, pw, &stderr)
		pw.Close()
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not shut down within 15 s")
		}
	})
	t.Cleanup(stop)
	lines := bufio.NewScanner(pr)
	addr := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
				addr <- u
			}
		}
	}()
	select {
	case u := <-addr:
		return u, stop
	case err := <-done:
		t.Fatalf("serve stopped early: %v\n%s", err, stderr.String())
	case <-time.After(120 * time.Second):
		t.Fatalf("serve did not start within 120 s\n%s", stderr.String())
	}
	return "", stop
}

func get(t *testing.T, url, token string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func token(t *testing.T, dataDir, role string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	vars := map[string]string{"ATIGIP_DATA_DIR": dataDir}
	if err := run(context.Background(), []string{"token", "--role", role}, mapEnv(vars), &out, &errOut); err != nil {
		t.Fatalf("token: %v %s", err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

func TestServeEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	const appiKey = "test-key-of-the-appi-client-0123456789"
	base := startServer(t, map[string]string{"ATIGIP_DATA_DIR": dataDir, "ATIGIP_FLOWS_CLIENTS": "appi=" + flows.HashKey(appiKey)})

	if code, _, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	if code, _, _ := get(t, base+"/readyz", ""); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}

	code, body, _ := get(t, base+"/api/posts?departement=69", "")
	if code != 200 {
		t.Fatalf("/api/posts?departement=69 = %d %s", code, body)
	}
	var list struct {
		Total int `json:"total"`
		Items []struct {
			Address struct {
				Departement string `json:"departement"`
			} `json:"address"`
			Visibility *string `json:"visibility"`
			Places     *int    `json:"places"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if list.Total == 0 || len(list.Items) == 0 {
		t.Fatalf("no post around Lyon: %s", body)
	}
	for _, p := range list.Items {
		// The public view: the public map's fields, no visibility nor places.
		if p.Address.Departement != "69" || p.Visibility != nil || p.Places != nil {
			t.Errorf("public list returned %+v", p)
		}
	}

	// People's profiles: 401 without a token, 403 for the public role, 200 for a CPIP.
	if code, _, _ := get(t, base+"/api/people/1", ""); code != http.StatusUnauthorized {
		t.Errorf("profile without token = %d, want 401", code)
	}
	if code, _, _ := get(t, base+"/api/people/1", token(t, dataDir, "public")); code != http.StatusForbidden {
		t.Errorf("profile with a public token = %d, want 403", code)
	}
	if code, _, _ := get(t, base+"/api/people/1", token(t, dataDir, "cpip")); code != http.StatusOK {
		t.Errorf("profile with a CPIP token = %d, want 200", code)
	}

	code, body, hdr := get(t, base+"/api/people/1", token(t, dataDir, "business"))
	if code != http.StatusForbidden || !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") {
		t.Errorf("business profile read = %d %s %s", code, hdr.Get("Content-Type"), body)
	}

	if code, body, _ := get(t, base+"/openapi.json", ""); code != 200 || !bytes.Contains(body, []byte(`"openapi"`)) {
		t.Errorf("/openapi.json = %d", code)
	}
	if code, _, _ := get(t, base+"/", ""); code != 200 {
		t.Errorf("map page = %d", code)
	}

	// Every capability is wired into serve.
	cpip := token(t, dataDir, "cpip")
	for _, c := range []struct {
		path, token, contentType string
	}{
		{"/tiles/public.json", "", "application/json"},
		{"/tiles/public/5/16/11.mvt", "", "application/vnd.mapbox-vector-tile"},
		{"/api/search?q=jardinier", "", "application/json"},
		{"/api/matching/people/1/offers", cpip, "application/json"},
		{"/api/indicators", token(t, dataDir, "dspip"), "application/json"},
		{"/styles/public.json", "", "application/json"},
	} {
		code, body, hdr := get(t, base+c.path, c.token)
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), c.contentType) {
			t.Errorf("%s = %d %s %.200s", c.path, code, hdr.Get("Content-Type"), body)
		}
	}
	// Machine flows refuse people's tokens: they need an API key.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/flows/outbox", nil)
	req.Header.Set("Authorization", "Bearer "+cpip)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		t.Errorf("outbox with a person's token = %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/api/flows/outbox", nil)
	req.Header.Set("X-API-Key", appiKey)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("outbox with the APPI client's key = %d", resp.StatusCode)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	getenv := mapEnv(nil)
	if err := run(context.Background(), nil, getenv, &out, &errOut); !errors.Is(err, errUsage) {
		t.Errorf("no subcommand: err = %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, getenv, &out, &errOut); !errors.Is(err, errUsage) || exitCode(err) != 2 {
		t.Errorf("unknown subcommand: err = %v", err)
	}
	if err := run(context.Background(), []string{"version"}, getenv, &out, &errOut); err != nil || !strings.Contains(out.String(), "atigip") {
		t.Errorf("version: %v %q", err, out.String())
	}
	bad := mapEnv(map[string]string{"ATIGIP_DATABASE_URL": "mysql://nope"})
	if err := run(context.Background(), []string{"migrate"}, bad, &out, &errOut); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("bad config must be refused before anything runs: %v", err)
	}
}

// mapEnv is a process environment holding exactly vars.
func mapEnv(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}
