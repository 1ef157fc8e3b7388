package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// Local mode checks that the emulator is what answers on its port:
// another program there gets a message saying so, not a failed run for
// every tenant.
func TestCheckEmulator(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<!DOCTYPE HTML><title>Error response</title>", http.StatusNotImplemented)
	}))
	defer other.Close()
	em := superidtest.NewServer()
	defer em.Close()
	for _, tc := range []struct {
		root string
		ok   bool
	}{{em.URL, true}, {other.URL, false}} {
		env, err := superid.ParseEnvironment(tc.root)
		if err != nil {
			t.Fatal(err)
		}
		err = checkEmulator(context.Background(), http.DefaultClient, &config.Config{Environment: env})
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "not as the emulator")) {
			t.Errorf("%s: %v", tc.root, err)
		}
	}
}
