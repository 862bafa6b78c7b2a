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
