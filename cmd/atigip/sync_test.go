package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atigip/atigip360/crmsync/axelorfake"
)

func TestSyncCommandAndStatus(t *testing.T) {
	fake := axelorfake.New(axelorfake.Options{Users: map[string]string{"sync": "secret"}})
	fake.Seed(60, 7)
	crm := httptest.NewServer(fake)
	defer crm.Close()

	dataDir := t.TempDir()
	vars := map[string]string{
		"ATIGIP_DATA_DIR": dataDir, "ATIGIP_AXELOR_URL": crm.URL,
		"ATIGIP_AXELOR_USER": "sync", "ATIGIP_AXELOR_PASSWORD": "secret",
		"ATIGIP_SEED_ON_START": "false", "ATIGIP_LOG_LEVEL": "warn",
	}
	getenv := mapEnv(vars)

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"sync", "--quiet", "--dry-run"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("dry run: %v\n%s", err, errOut.String())
	}
	var dry struct {
		DryRun  bool `json:"dry_run"`
		Created int  `json:"created"`
	}
	if err := json.Unmarshal(out.Bytes(), &dry); err != nil || !dry.DryRun {
		t.Fatalf("dry-run report %s: %v", out.String(), err)
	}

	out.Reset()
	if err := run(context.Background(), []string{"sync", "--quiet"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("sync: %v\n%s", err, errOut.String())
	}
	var rep struct {
		Created int `json:"created"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Created == 0 {
		t.Fatalf("sync report %s: %v", out.String(), err)
	}
	if dry.Created != rep.Created {
		t.Errorf("dry run planned %d creations, the real run made %d", dry.Created, rep.Created)
	}

	// The server syncs in the background and shows the status to referents only.
	base := startServer(t, vars)
	if code, _, _ := get(t, base+"/api/sync/status", token(t, dataDir, "public")); code != http.StatusForbidden {
		t.Errorf("public sync status = %d, want 403", code)
	}
	code, body, _ := get(t, base+"/api/sync/status", token(t, dataDir, "referent"))
	if code != http.StatusOK {
		t.Fatalf("referent sync status = %d %s", code, body)
	}
	var st struct {
		CRM           string `json:"crm"`
		PendingPushes *int   `json:"pending_pushes"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.CRM != "ok" || st.PendingPushes == nil {
		t.Errorf("status %s: %v", body, err)
	}
	code, body, _ = get(t, base+"/api/organisations?per_page=1", token(t, dataDir, "referent"))
	var list struct {
		Total int `json:"total"`
	}
	if json.Unmarshal(body, &list); code != 200 || list.Total != rep.Created {
		t.Errorf("organisations after sync = %d %s, want %d", code, body, rep.Created)
	}
}

// A sync that leaves write-backs owed exits non-zero and its report says
// what is pending (issue 18, items 4 and 7).
func TestSyncCommandFailsWhenWorkIsLeft(t *testing.T) {
	fake := axelorfake.New(axelorfake.Options{Users: map[string]string{"sync": "secret"}})
	fake.Seed(80, 8)
	// a proxy in front of the CRM refuses every address write
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, ".Address/") {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	defer crm.Close()
	vars := map[string]string{
		"ATIGIP_DATA_DIR": t.TempDir(), "ATIGIP_AXELOR_URL": crm.URL,
		"ATIGIP_AXELOR_USER": "sync", "ATIGIP_AXELOR_PASSWORD": "secret", "ATIGIP_AXELOR_RETRY_MAX": "0",
		"ATIGIP_SEED_ON_START": "false", "ATIGIP_LOG_LEVEL": "warn",
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"sync", "--quiet"}, mapEnv(vars), &out, &errOut)
	if err == nil || exitCode(err) == 0 || !strings.Contains(err.Error(), "en attente") {
		t.Fatalf("sync with failed write-backs: %v (exit %d)", err, exitCode(err))
	}
	var rep struct {
		Pending    int     `json:"pending"`
		PendingIDs []int64 `json:"pending_crm_ids"`
	}
	if json.Unmarshal(out.Bytes(), &rep) != nil || rep.Pending == 0 || len(rep.PendingIDs) == 0 {
		t.Fatalf("report %s", out.String())
	}
}
