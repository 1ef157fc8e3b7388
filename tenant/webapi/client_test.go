package webapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant"
)

// newTestClient returns a tenant client for baseURL that never retries, so
// that each call makes exactly one request, and is not paced: the spec
// test calls thousands of methods of one tenant.
func newTestClient(t *testing.T, baseURL string, hc *http.Client) *tenant.Client {
	t.Helper()
	c, err := tenant.New(tenant.Config{BaseURL: baseURL, HTTPClient: hc, Retry: tenant.RetryPolicy{MaxRetries: -1},
		Pacer: tenant.NewPacer(tenant.PacerConfig{Rate: tenant.Unlimited, MaxConcurrent: -1})})
	require.NoError(t, err)
	return c
}
