package webapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant"
)

// CreateCompany sends GET v1/Contact/default, then POSTs that entity with
// the name set, and nothing when the name is empty or the default fails.
func TestCreateCompany(t *testing.T) {
	var seen []string
	var posted map[string]any
	defaultBody := `{"ContactId":0,"Name":"","Country":{"CountryId":578},"Associate":{"AssociateId":7}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/Contact/default":
			_, _ = io.WriteString(w, defaultBody)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/Contact":
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &posted)
			_, _ = io.WriteString(w, `{"ContactId":12,"Name":"Acme AS","Country":{"CountryId":578}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	api := New(newTestClient(t, srv.URL+"/api/", srv.Client()))
	ctx := context.Background()

	c, err := api.Contact.CreateCompany(ctx, "Acme AS")
	require.NoError(t, err)
	assert.Equal(t, int64(12), c.ContactID)
	assert.Equal(t, []string{"GET /api/v1/Contact/default", "POST /api/v1/Contact"}, seen)
	assert.Equal(t, "Acme AS", posted["Name"])
	assert.Equal(t, float64(578), posted["Country"].(map[string]any)["CountryId"], "the server's defaults are sent back")
	assert.Equal(t, float64(7), posted["Associate"].(map[string]any)["AssociateId"])

	seen = nil
	_, err = api.Contact.CreateCompany(ctx, " \t")
	require.EqualError(t, err, "webapi: CreateCompany: empty name")
	assert.Empty(t, seen, "nothing is sent for an empty name")

	defaultBody = "null"
	seen = nil
	_, err = api.Contact.CreateCompany(ctx, "Acme AS")
	require.ErrorContains(t, err, "answered null")
	assert.Equal(t, []string{"GET /api/v1/Contact/default"}, seen)

	seen = nil
	_, err = New(newTestClient(t, srv.URL+"/nowhere/", srv.Client())).Contact.CreateCompany(ctx, "Acme AS")
	require.ErrorIs(t, err, tenant.ErrNotFound)
	assert.Equal(t, []string{"GET /nowhere/v1/Contact/default"}, seen, "no POST after a failed default")

	_, err = ContactRestAPI{}.CreateCompany(ctx, "Acme AS")
	require.ErrorIs(t, err, errNoClient)
}
