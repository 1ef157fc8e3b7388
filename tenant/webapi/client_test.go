package webapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant"
)

// newTestClient returns a tenant client for baseURL that never retries, so
// that each call makes exactly one request.
func newTestClient(t *testing.T, baseURL string, hc *http.Client) *tenant.Client {
	t.Helper()
	c, err := tenant.New(tenant.Config{BaseURL: baseURL, HTTPClient: hc, Retry: tenant.RetryPolicy{MaxRetries: -1}})
	require.NoError(t, err)
	return c
}
