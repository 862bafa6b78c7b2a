package httpapi

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestServeCancelledBeforeListening: a context that ends before, or just
// as, Serve starts must still end Serve (it once waited forever for a
// listener Shutdown never saw) and release the listener.
func TestServeCancelledBeforeListening(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rounds int
		before bool // cancelled before Serve is called
	}{{"already cancelled", 1, true}, {"cancelled at once", 20, false}} {
		t.Run(tt.name, func(t *testing.T) {
			for range tt.rounds {
				env := newEnv(t, newMemStore())
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				if tt.before {
					cancel()
				}
				done := make(chan error, 1)
				go func() { done <- env.srv.Serve(ctx, ln) }()
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("Serve: %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("Serve did not return after its context ended")
				}
				if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
					c.Close()
					t.Fatal("listener still open after Serve returned")
				}
			}
		})
	}
}
