package atigip_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

func TestLuhnKey(t *testing.T) {
	tests := []struct {
		digits string
		want   byte
	}{
		{"7992739871", '3'},    // the usual worked example, 79927398713
		{"73282932", '0'},      // SIREN 732829320
		{"7328293200007", '4'}, // SIRET 73282932000074
		{"0", '0'},
		{"1", '8'}, // 1 doubled is 2, 2+8 = 10
		{"9", '1'}, // 9 doubled is 18 → 9, 9+1 = 10
		{"", '0'},
	}
	for _, tt := range tests {
		t.Run(tt.digits, func(t *testing.T) {
			if got := atigip.LuhnKey(tt.digits); got != tt.want {
				t.Errorf("LuhnKey(%q) = %c, want %c", tt.digits, got, tt.want)
			}
		})
	}
}

func TestNewSIRET(t *testing.T) {
	tests := []struct {
		siren8, nic, want string
	}{
		{"73282932", "0007", "73282932000074"},
		{"12345678", "0001", "12345678200010"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := atigip.NewSIRET(tt.siren8, tt.nic); got != tt.want {
				t.Errorf("NewSIRET(%q, %q) = %q, want %q", tt.siren8, tt.nic, got, tt.want)
			}
		})
	}
	// Any SIREN and NIC give a valid SIRET whose SIREN checks too, and a
	// SIRET with any other last digit is refused.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		siren8, nic := fmt.Sprintf("%08d", 10_000_000+r.IntN(90_000_000)), fmt.Sprintf("%04d", r.IntN(10_000))
		if siren8 == "35600000" {
			continue // La Poste, another rule
		}
		s := atigip.NewSIRET(siren8, nic)
		if len(s) != 14 || s[:8] != siren8 || s[9:13] != nic || !atigip.ValidSIRET(s) {
			t.Fatalf("NewSIRET(%q, %q) = %q: not a valid SIRET", siren8, nic, s)
		}
		if atigip.LuhnKey(s[:8]) != s[8] {
			t.Fatalf("NewSIRET(%q, %q) = %q: SIREN key wrong", siren8, nic, s)
		}
		for k := byte('0'); k <= '9'; k++ {
			if k != s[13] && atigip.ValidSIRET(s[:13]+string(k)) {
				t.Fatalf("%s with last digit %c accepted", s, k)
			}
		}
	}
}

func ExampleNewSIRET() {
	s := atigip.NewSIRET("73282932", "0007")
	fmt.Println(s, atigip.ValidSIRET(s))
	// Output: 73282932000074 true
}
