package main

import (
	"io"
	"strings"
	"testing"
)

// TestRunRefusesBadSettings checks that start-up problems are one clear
// line naming the setting, before anything listens.
func TestRunRefusesBadSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want []string
	}{
		"bad log level": {args: []string{"-log-level=loud"}, want: []string{"-log-level"}},
		"unknown flag":  {args: []string{"-nope"}, want: []string{"nope"}},
		"partial SuperOffice settings": {
			env:  map[string]string{"SUPEROFFICE_CLIENT_ID": "abc"},
			want: []string{"SUPEROFFICE_CLIENT_ID set", "SUPEROFFICE_CLIENT_SECRET", "SUPEROFFICE_PRIVATE_KEY_FILE"},
		},
		"missing key file": {
			env: map[string]string{
				"SUPEROFFICE_ENV": "sod", "SUPEROFFICE_CLIENT_ID": "abc", "SUPEROFFICE_CLIENT_SECRET": "s3cret-value",
				"SUPEROFFICE_PRIVATE_KEY_FILE": "/nonexistent/key.xml", "SUPEROFFICE_REDIRECT_URL": "https://app.example.com/callback",
			},
			want: []string{"SUPEROFFICE_PRIVATE_KEY_FILE", "/nonexistent/key.xml"},
		},
		"bad environment": {
			env: map[string]string{
				"SUPEROFFICE_ENV": "nowhere", "SUPEROFFICE_CLIENT_ID": "abc", "SUPEROFFICE_CLIENT_SECRET": "s3cret-value",
				"SUPEROFFICE_PRIVATE_KEY_FILE": "/nonexistent/key.xml", "SUPEROFFICE_REDIRECT_URL": "callback",
			},
			want: []string{"SUPEROFFICE_ENV", "SUPEROFFICE_REDIRECT_URL", "SUPEROFFICE_PRIVATE_KEY_FILE"},
		},
		"unreachable database": {
			// localhost: pgx tries every address and lists each on a line.
			env:  map[string]string{"DATABASE_URL": "postgres://bob:s3cret-value@localhost:1/db?connect_timeout=5"},
			want: []string{"DATABASE_URL (postgres://bob:xxxxx@localhost:1/db?connect_timeout=5): ", "connection refused"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			// Every case fails before anything listens: run must return.
			err := run(append(tc.args, "-data", t.TempDir()), env(tc.env), io.Discard)
			if err == nil {
				t.Fatal("started")
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r\t") || strings.Contains(msg, "s3cret-value") {
				t.Errorf("error %q is not one clean line", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}
