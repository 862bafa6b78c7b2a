package crmsync_test

import (
	"testing"
	"time"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
		check   func(crmsync.Config) bool
	}{
		{"session", map[string]string{"ATIGIP_AXELOR_URL": "https://crm.justice.fr/axelor-erp", "ATIGIP_AXELOR_USER": "sync", "ATIGIP_AXELOR_PASSWORD": "s3cret", "ATIGIP_SYNC_INTERVAL": "5m"}, false,
			func(c crmsync.Config) bool {
				return c.Interval == 5*time.Minute && c.ClientOptions().Auth.Mode == axelor.AuthSession
			}},
		{"api key wins", map[string]string{"ATIGIP_AXELOR_URL": "https://crm", "ATIGIP_AXELOR_API_KEY": "k", "ATIGIP_AXELOR_USER": "u"}, false,
			func(c crmsync.Config) bool { return c.ClientOptions().Auth.Mode == axelor.AuthAPIKey }},
		{"basic", map[string]string{"ATIGIP_AXELOR_URL": "http://crm:8080", "ATIGIP_AXELOR_USER": "u", "ATIGIP_AXELOR_PASSWORD": "p", "ATIGIP_AXELOR_BASIC_AUTH": "true"}, false,
			func(c crmsync.Config) bool { return c.ClientOptions().Auth.Mode == axelor.AuthBasic }},
		{"no url", map[string]string{"ATIGIP_AXELOR_API_KEY": "k"}, true, nil},
		{"no credentials", map[string]string{"ATIGIP_AXELOR_URL": "https://crm"}, true, nil},
		{"bad interval", map[string]string{"ATIGIP_AXELOR_URL": "https://crm", "ATIGIP_AXELOR_API_KEY": "k", "ATIGIP_SYNC_INTERVAL": "soon"}, true, nil},
		{"interval too short", map[string]string{"ATIGIP_AXELOR_URL": "https://crm", "ATIGIP_AXELOR_API_KEY": "k", "ATIGIP_SYNC_INTERVAL": "10s"}, true, nil},
		{"bad page size", map[string]string{"ATIGIP_AXELOR_URL": "https://crm", "ATIGIP_AXELOR_API_KEY": "k", "ATIGIP_SYNC_PAGE_SIZE": "0"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := crmsync.FromEnv(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil && atigip.ErrorCode(err) != atigip.EINVALID {
				t.Fatalf("code %q", atigip.ErrorCode(err))
			}
			if tt.check != nil && !tt.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

// Issue 18 item 6: category kinds come from the environment over
// defaults that cover the codes Axelor Open Suite installs.
func TestCategoryKindsFromEnv(t *testing.T) {
	base := map[string]string{"ATIGIP_AXELOR_URL": "https://crm", "ATIGIP_AXELOR_API_KEY": "k"}
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	c, err := crmsync.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"INDIV", "SMB", "SME", "KA", "RESAL", "WHSAL", "FRANCH", "ADMIN", "CONC", "INV", "PRESS", "ASSOC"} {
		if _, ok := c.CategoryKinds[code]; !ok && code != "INDIV" {
			t.Errorf("Axelor's category %s has no default kind", code)
		}
	}
	if c.CategoryKinds["ASSOC"] != atigip.OrgAssociation || c.CategoryKinds["ADMIN"] != atigip.OrgPublicBody {
		t.Errorf("defaults %v", c.CategoryKinds)
	}
	c, err = crmsync.FromEnv(env(map[string]string{
		"ATIGIP_SYNC_CATEGORY_KINDS": "HOPITAL=hospital, ADMIN=commune, KA=", "ATIGIP_SYNC_DEFAULT_KIND": "association"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, kept := c.CategoryKinds["KA"]; kept || c.CategoryKinds["HOPITAL"] != atigip.OrgHospital ||
		c.CategoryKinds["ADMIN"] != atigip.OrgCommune || c.CategoryKinds["ASSOC"] != atigip.OrgAssociation ||
		c.DefaultKind != atigip.OrgAssociation {
		t.Errorf("configured %v, default %s", c.CategoryKinds, c.DefaultKind)
	}
	for _, bad := range []string{"HOPITAL=clinic", "=hospital", "HOPITAL"} {
		if _, err := crmsync.FromEnv(env(map[string]string{"ATIGIP_SYNC_CATEGORY_KINDS": bad})); atigip.ErrorCode(err) != atigip.EINVALID {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
	if _, err := crmsync.FromEnv(env(map[string]string{"ATIGIP_SYNC_DEFAULT_KIND": "prison"})); err == nil {
		t.Error("unknown default kind accepted")
	}
}
