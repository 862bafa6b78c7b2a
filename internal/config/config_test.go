package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestBasemapOffline: ATIGIP_BASEMAP_URL unset or set and empty means no
// raster basemap (the vector one alone, offline); any value adds it.
func TestBasemapOffline(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"unset", nil, ""},
		{"empty", map[string]string{"ATIGIP_BASEMAP_URL": ""}, ""},
		{"blank", map[string]string{"ATIGIP_BASEMAP_URL": "  "}, ""},
		{"set", map[string]string{"ATIGIP_BASEMAP_URL": "https://tiles.example/{z}/{x}/{y}.png"}, "https://tiles.example/{z}/{x}/{y}.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromLookupEnv(func(k string) (string, bool) { v, ok := tc.vars[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			if c.BasemapURL != tc.want {
				t.Fatalf("BasemapURL = %q, want %q", c.BasemapURL, tc.want)
			}
		})
	}
	c, err := FromLookupEnv(func(k string) (string, bool) {
		v, ok := map[string]string{"ATIGIP_BASEMAP_PMTILES": "/srv/france.pmtiles"}[k]
		return v, ok
	})
	if err != nil || c.BasemapPMTiles != "/srv/france.pmtiles" {
		t.Fatalf("ATIGIP_BASEMAP_PMTILES: %q, %v", c.BasemapPMTiles, err)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", vars: nil, check: func(t *testing.T, c Config) {
			if c.Addr != ":8080" || c.DataDir != "./var" || c.Mode != Development || !c.DevTokens || !c.SeedOnStart {
				t.Errorf("unexpected defaults: %+v", c)
			}
		}},
		{name: "postgres", vars: map[string]string{"ATIGIP_DATABASE_URL": "postgres://u@h/db"}, check: func(t *testing.T, c Config) {
			if c.DatabaseURL != "postgres://u@h/db" {
				t.Errorf("DatabaseURL = %q", c.DatabaseURL)
			}
		}},
		{name: "bad database url", vars: map[string]string{"ATIGIP_DATABASE_URL": "mysql://x"}, wantErr: "postgres://"},
		{name: "browser sign-in", vars: map[string]string{"ATIGIP_OIDC_ISSUER": "https://idp", "ATIGIP_OIDC_CLIENT_ID": "c",
			"ATIGIP_OIDC_CLIENT_SECRET": "s", "ATIGIP_PUBLIC_URL": "https://atigip.example/", "ATIGIP_SESSION_IDLE": "15m"},
			check: func(t *testing.T, c Config) {
				if !c.BrowserSignIn() || c.PublicURL != "https://atigip.example" || c.SessionIdle != 15*time.Minute || c.SessionLifetime != 8*time.Hour {
					t.Errorf("sign-in config: %+v", c)
				}
			}},
		{name: "sign-in without public url", vars: map[string]string{"ATIGIP_OIDC_ISSUER": "https://idp", "ATIGIP_OIDC_CLIENT_ID": "c",
			"ATIGIP_OIDC_CLIENT_SECRET": "s"}, wantErr: "ATIGIP_PUBLIC_URL"},
		{name: "secret without provider", vars: map[string]string{"ATIGIP_OIDC_CLIENT_SECRET": "s", "ATIGIP_PUBLIC_URL": "http://x"}, wantErr: "needs ATIGIP_OIDC_ISSUER"},
		{name: "franceconnect half set", vars: map[string]string{"ATIGIP_FRANCECONNECT_ISSUER": "https://fc", "ATIGIP_PUBLIC_URL": "http://x"}, wantErr: "go together"},
		{name: "http public url in production", vars: map[string]string{"ATIGIP_ENV": "production", "ATIGIP_OIDC_ISSUER": "https://idp",
			"ATIGIP_OIDC_CLIENT_ID": "c", "ATIGIP_OIDC_CLIENT_SECRET": "s", "ATIGIP_PUBLIC_URL": "http://atigip.example"}, wantErr: "must be https"},
		{name: "idle above lifetime", vars: map[string]string{"ATIGIP_SESSION_IDLE": "9h"}, wantErr: "ATIGIP_SESSION_IDLE must not exceed"},
		{name: "bad session duration", vars: map[string]string{"ATIGIP_SESSION_LIFETIME": "-1h"}, wantErr: "positive duration"},
		{name: "bad bool", vars: map[string]string{"ATIGIP_SEED_ON_START": "perhaps"}, wantErr: "not a boolean"},
		{name: "bad scale", vars: map[string]string{"ATIGIP_SEED_SCALE": "0"}, wantErr: "SEED_SCALE"},
		{name: "bad addr", vars: map[string]string{"ATIGIP_ADDR": "8080"}, wantErr: "ATIGIP_ADDR"},
		{name: "production without sign-in", vars: map[string]string{"ATIGIP_ENV": "production"}, wantErr: "production needs a sign-in"},
		{name: "production dev tokens without secret", vars: map[string]string{"ATIGIP_ENV": "production", "ATIGIP_DEV_TOKENS": "true"}, wantErr: "ATIGIP_TOKEN_SECRET"},
		{name: "production with oidc", vars: map[string]string{"ATIGIP_ENV": "production", "ATIGIP_OIDC_ISSUER": "https://id.example", "ATIGIP_OIDC_CLIENT_ID": "atigip"},
			check: func(t *testing.T, c Config) {
				if c.DevTokens || c.SeedOnStart {
					t.Errorf("production must refuse dev tokens and demo seeding by default: %+v", c)
				}
			}},
		{name: "oidc claims", vars: map[string]string{"ATIGIP_OIDC_ROLE_MAP": "GRP_SPIP=cpip, GRP_JAP=magistrate",
			"ATIGIP_OIDC_DEPARTEMENT_CLAIM": "departement", "ATIGIP_OIDC_SIRET_CLAIM": "siret", "ATIGIP_OIDC_NATIONAL_ROLES": "dspip, referent"},
			check: func(t *testing.T, c Config) {
				if c.OIDCRoleMap["GRP_SPIP"] != "cpip" || c.OIDCRoleMap["GRP_JAP"] != "magistrate" || len(c.OIDCRoleMap) != 2 ||
					c.OIDCDepartementClaim != "departement" || c.OIDCSIRETClaim != "siret" ||
					strings.Join(c.OIDCNationalRoles, "|") != "dspip|referent" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "bad role map", vars: map[string]string{"ATIGIP_OIDC_ROLE_MAP": "GRP_SPIP"}, wantErr: "ATIGIP_OIDC_ROLE_MAP"},
		{name: "short metrics token", vars: map[string]string{"ATIGIP_METRICS_TOKEN": "short"}, wantErr: "ATIGIP_METRICS_TOKEN"},
		{name: "short embed secret", vars: map[string]string{"ATIGIP_EMBED_SECRET": "short"}, wantErr: "ATIGIP_EMBED_SECRET"},
		{name: "embed origin with a path", vars: map[string]string{"ATIGIP_EMBED_ORIGIN": "https://crm.example.fr/axelor"}, wantErr: "ATIGIP_EMBED_ORIGIN"},
		{name: "embed", vars: map[string]string{"ATIGIP_EMBED_SECRET": strings.Repeat("s", 32), "ATIGIP_EMBED_ORIGIN": "https://crm.example.fr/"},
			check: func(t *testing.T, c Config) {
				if c.EmbedSecret != strings.Repeat("s", 32) || c.EmbedOrigin != "https://crm.example.fr" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "bad metrics addr", vars: map[string]string{"ATIGIP_METRICS_ADDR": "9090"}, wantErr: "ATIGIP_METRICS_ADDR"},
		{name: "metrics on the API address", vars: map[string]string{"ATIGIP_METRICS_ADDR": ":8080"}, wantErr: "differ"},
		{name: "bad pprof addr", vars: map[string]string{"ATIGIP_PPROF_ADDR": "6060"}, wantErr: "ATIGIP_PPROF_ADDR"},
		{name: "pprof on the metrics address", vars: map[string]string{"ATIGIP_METRICS_ADDR": "127.0.0.1:9090", "ATIGIP_PPROF_ADDR": "127.0.0.1:9090"}, wantErr: "ATIGIP_PPROF_ADDR must differ"},
		{name: "pprof", vars: map[string]string{"ATIGIP_PPROF_ADDR": "127.0.0.1:6060"}, check: func(t *testing.T, c Config) {
			if c.PprofAddr != "127.0.0.1:6060" {
				t.Errorf("PprofAddr = %q", c.PprofAddr)
			}
		}},
		{name: "memory limit too low", vars: map[string]string{"ATIGIP_MEMORY_LIMIT_MB": "16"}, wantErr: "MEMORY_LIMIT"},
		{name: "no memory limit", vars: map[string]string{"ATIGIP_MEMORY_LIMIT_MB": "0"}, check: func(t *testing.T, c Config) {
			if c.MemoryLimitMB != 0 {
				t.Errorf("MemoryLimitMB = %d", c.MemoryLimitMB)
			}
		}},
		{name: "unknown mode", vars: map[string]string{"ATIGIP_ENV": "staging"}, wantErr: "development or production"},
		{name: "figures max age", vars: map[string]string{"ATIGIP_FIGURES_MAX_AGE": "90s"}, check: func(t *testing.T, c Config) {
			if c.FiguresMaxAge != 90*time.Second {
				t.Errorf("FiguresMaxAge = %v", c.FiguresMaxAge)
			}
		}},
		{name: "figures max age too short", vars: map[string]string{"ATIGIP_FIGURES_MAX_AGE": "1s"}, wantErr: "ATIGIP_FIGURES_MAX_AGE must be between"},
		{name: "bad figures max age", vars: map[string]string{"ATIGIP_FIGURES_MAX_AGE": "5 minutes"}, wantErr: "ATIGIP_FIGURES_MAX_AGE: \"5 minutes\" is not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(env(tt.vars))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
