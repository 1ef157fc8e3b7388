package tenant_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// The entities are tenant/webapi's; these helpers keep the transport
// tests that need an entity call short.

// currentPrincipal asks who c's credentials act as.
func currentPrincipal(ctx context.Context, c *tenant.Client) (*webapi.SoPrincipalCarrier, error) {
	return webapi.New(c).UserAgent.CurrentPrincipal(ctx)
}

// createCompany creates a company the documented way.
func createCompany(ctx context.Context, c *tenant.Client, name string) (*webapi.ContactEntity, error) {
	return webapi.New(c).Contact.CreateCompany(ctx, name)
}

// getContact reads company id.
func getContact(ctx context.Context, c *tenant.Client, id int) (*webapi.ContactEntity, error) {
	return webapi.New(c).Contact.GetByID(ctx, int64(id))
}

// deleteContact deletes company id.
func deleteContact(ctx context.Context, c *tenant.Client, id int) error {
	return webapi.New(c).Contact.DeleteByID(ctx, int64(id))
}

// contactRow is a row of the Contact list, with the columns the tests ask
// for.
type contactRow struct {
	PrimaryKey int    `json:"PrimaryKey"`
	ContactID  int    `json:"contactId"`
	Name       string `json:"name"`
	Category   string `json:"category"`
}

// personRow is a row of the Person list.
type personRow struct {
	PersonID    int    `json:"personId"`
	FullName    string `json:"fullName"`
	ContactName string `json:"contactName"`
}

// The documented way to create a company, as the system user: every
// request carries the ticket and the application token, under the
// tenant's base URL, and the emulator stores what was sent.
func TestCreateCompanyAsSystemUser(t *testing.T) {
	f := setup(t)
	api := webapi.New(f.client(t))
	ctx := context.Background()

	def, err := api.Contact.GetDefault(ctx)
	require.NoError(t, err)
	assert.Zero(t, def.ContactID)
	require.NotNil(t, def.Country, "the default entity carries the server's country")
	assert.NotZero(t, def.Country.CountryID)
	assert.NotNil(t, def.Associate, "the default entity carries its owner")

	created, err := api.Contact.CreateCompany(ctx, "Acme AS")
	require.NoError(t, err)
	assert.Positive(t, created.ContactID)
	assert.Equal(t, "Acme AS", created.Name)
	assert.False(t, created.CreatedDate.IsZero())

	got, err := api.Contact.GetByID(ctx, created.ContactID)
	require.NoError(t, err)
	require.NotNil(t, got.CreatedBy)
	assert.Equal(t, int64(superidtest.SystemUserAssociateID), got.CreatedBy.AssociateID)
	assert.NotEmpty(t, got.TableRight.Mask)

	got.Department = "Sales"
	got.Emails = []webapi.EntityElement{{Value: "post@acme.example"}}
	upd, err := api.Contact.PutByID(ctx, got.ContactID, got)
	require.NoError(t, err)
	assert.Equal(t, "Sales", upd.Department)
	assert.Len(t, upd.Emails, 1)
	assert.NotNil(t, upd.UpdatedBy)

	stored := f.em.Contacts(testCtx)
	require.Len(t, stored, 1)
	assert.Equal(t, "Acme AS", stored[0].Name)
	assert.Equal(t, "Sales", stored[0].Department)
	assert.Equal(t, superidtest.SystemUserAssociateID, stored[0].CreatedBy)

	require.NoError(t, api.Contact.DeleteByID(ctx, created.ContactID))
	_, err = api.Contact.GetByID(ctx, created.ContactID)
	require.ErrorIs(t, err, tenant.ErrNotFound)
	assert.Empty(t, f.em.Contacts(testCtx))

	for _, r := range f.em.Requests(superidtest.EndpointTenantAPI) {
		assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "SOTicket 7T:"), "%s %s: Authorization", r.Method, r.Path)
		assert.Equal(t, testSecret, r.Header.Get("SO-AppToken"), "%s %s", r.Method, r.Path)
		assert.True(t, strings.HasPrefix(r.Path, "/"+testCtx+"/api/v1/"), "path %q is not under the tenant's base URL", r.Path)
	}
	ex, _ := f.tickets.counts()
	assert.Equal(t, 1, ex, "ticket exchanges (cached)")
}

// The same one way as the signed-in user: only the credentials differ.
func TestCreateCompanyAsSignedInUser(t *testing.T) {
	f := setup(t)
	tok, err := f.em.AccessTokenFor(testUser)
	require.NoError(t, err)
	c := f.client(t, func(c *tenant.Config) {
		c.Credentials = tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "bearer"}))
	})
	ctx := context.Background()
	me, err := currentPrincipal(ctx, c)
	require.NoError(t, err)
	company, err := createCompany(ctx, c, "Ada's Company")
	require.NoError(t, err)
	require.NotNil(t, company.CreatedBy)
	assert.Equal(t, me.AssociateID, company.CreatedBy.AssociateID)
	require.NotNil(t, company.Associate)
	assert.Equal(t, me.AssociateID, company.Associate.AssociateID, "the default owner is the user")
}

func TestEntityErrorPaths(t *testing.T) {
	f := setup(t)
	api := webapi.New(f.client(t))
	ctx := context.Background()
	existing, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Existing"})
	require.NoError(t, err)
	id := int64(existing.ContactID)

	tests := []struct {
		name string
		call func() error
		want error  // a sentinel, or nil for a local validation error
		msg  string // part of the error text
	}{
		{"GetByID missing", func() error { _, err := api.Contact.GetByID(ctx, 999); return err }, tenant.ErrNotFound, "Contact 999 not found"},
		{"Post with id", func() error {
			_, err := api.Contact.Post(ctx, &webapi.ContactEntity{ContactID: 3, Name: "x"})
			return err
		}, tenant.ErrBadRequest, "ContactId must be 0"},
		{"Post no name", func() error { _, err := api.Contact.Post(ctx, &webapi.ContactEntity{Name: "  "}); return err }, tenant.ErrBadRequest, "Name is required"},
		{"CreateCompany empty", func() error { _, err := api.Contact.CreateCompany(ctx, " "); return err }, nil, "webapi: CreateCompany: empty name"},
		{"PutByID missing", func() error {
			_, err := api.Contact.PutByID(ctx, 999, &webapi.ContactEntity{Name: "x"})
			return err
		}, tenant.ErrNotFound, ""},
		{"PutByID invalid", func() error {
			_, err := api.Contact.PutByID(ctx, id, &webapi.ContactEntity{ContactID: id, Name: strings.Repeat("n", 300)})
			return err
		}, tenant.ErrBadRequest, "longer than 255"},
		{"DeleteByID missing", func() error { return api.Contact.DeleteByID(ctx, 999) }, tenant.ErrNotFound, ""},
		{"Person PutByID missing", func() error {
			_, err := api.Person.PutByID(ctx, 999, &webapi.PersonEntity{Firstname: "x"})
			return err
		}, tenant.ErrNotFound, "Person 999 not found"},
		{"Person Post bad contact", func() error {
			_, err := api.Person.Post(ctx, &webapi.PersonEntity{Firstname: "X", Contact: &webapi.Contact{ContactID: 4242}})
			return err
		}, tenant.ErrBadRequest, "Contact 4242 does not exist"},
		{"Person Post no name", func() error { _, err := api.Person.Post(ctx, &webapi.PersonEntity{}); return err }, tenant.ErrBadRequest, "Firstname or Lastname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			if tt.want == nil {
				return
			}
			require.ErrorIs(t, err, tt.want)
			te := asError(t, err)
			assert.NotZero(t, te.StatusCode)
			assert.NotEmpty(t, te.Method)
			assert.Contains(t, te.URL, "/"+testCtx+"/api/v1/")
		})
	}

	// GetDefault on a failing server, and CreateCompany stops there.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 500, Body: `{"Message":"boom"}`})
	f.em.ResetRequests()
	_, err = api.Contact.CreateCompany(ctx, "Never")
	require.ErrorIs(t, err, tenant.ErrServer)
	assert.Equal(t, "boom", asError(t, err).Message)
	for _, r := range f.em.Requests(superidtest.EndpointTenantAPI) {
		assert.Equal(t, "GET", r.Method, "nothing is posted after the default failed")
	}
}

func TestPersonsThroughWebAPI(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	api := webapi.New(c)
	ctx := context.Background()
	co, err := api.Contact.CreateCompany(ctx, "Globex")
	require.NoError(t, err)

	p, err := api.Person.GetDefault(ctx)
	require.NoError(t, err)
	assert.Zero(t, p.PersonID)
	assert.NotNil(t, p.Associate)
	p.Firstname, p.Lastname = "Grace", "Hopper"
	p.Contact = &webapi.Contact{ContactID: co.ContactID}
	created, err := api.Person.Post(ctx, p)
	require.NoError(t, err)
	assert.Positive(t, created.PersonID)
	require.NotNil(t, created.Contact)
	assert.Equal(t, "Globex", created.Contact.Name)

	got, err := api.Person.GetByID(ctx, created.PersonID)
	require.NoError(t, err)
	got.Title = "Rear Admiral"
	upd, err := api.Person.PutByID(ctx, got.PersonID, got)
	require.NoError(t, err)
	assert.Equal(t, "Rear Admiral", upd.Title)
	assert.Equal(t, "Grace", upd.Firstname)

	page, err := tenant.List[personRow](ctx, c, "v1/Person", &tenant.ListOptions{
		Filter: "lastname begins 'hop'", Select: []string{"personId", "fullName", "contactName"}})
	require.NoError(t, err)
	assert.Equal(t, []personRow{{PersonID: int(created.PersonID), FullName: "Grace Hopper", ContactName: "Globex"}}, page.Value)

	var ids []int
	for row, err := range tenant.All[personRow](ctx, c, "v1/Person", nil) {
		require.NoError(t, err)
		ids = append(ids, row.PersonID)
	}
	assert.Equal(t, []int{int(created.PersonID)}, ids)

	stored := f.em.Persons(testCtx)
	require.Len(t, stored, 1)
	assert.Equal(t, int(co.ContactID), stored[0].ContactID)
	assert.Equal(t, superidtest.SystemUserAssociateID, stored[0].CreatedBy)

	require.NoError(t, api.Person.DeleteByID(ctx, created.PersonID))
	_, err = api.Person.GetByID(ctx, created.PersonID)
	require.ErrorIs(t, err, tenant.ErrNotFound)
	require.ErrorIs(t, api.Person.DeleteByID(ctx, created.PersonID), tenant.ErrNotFound)

	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 403, Times: 1})
	_, err = api.Person.GetDefault(ctx)
	require.ErrorIs(t, err, tenant.ErrForbidden)
}

func TestCurrentPrincipal(t *testing.T) {
	f := setup(t)
	ctx := context.Background()

	sys, err := currentPrincipal(ctx, f.client(t))
	require.NoError(t, err)
	assert.Equal(t, int64(superidtest.SystemUserAssociateID), sys.AssociateID)
	assert.Equal(t, webapi.UserType("SystemAssociate"), sys.UserType)
	assert.Equal(t, testCtx, sys.DatabaseContextIdentifier)

	tok, err := f.em.AccessTokenFor(testUser)
	require.NoError(t, err)
	uc := f.client(t, func(c *tenant.Config) {
		c.Credentials = tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "bearer"}))
	})
	f.em.ResetRequests()
	me, err := currentPrincipal(ctx, uc)
	require.NoError(t, err)
	assert.Equal(t, "Ada Lovelace", me.FullName)
	assert.Equal(t, testUser, me.EMailAddress)
	assert.GreaterOrEqual(t, me.AssociateID, int64(5))
	assert.True(t, me.IsPerson)
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	require.Len(t, reqs, 1)
	assert.Equal(t, "Bearer "+tok, reqs[0].Header.Get("Authorization"))
	assert.Empty(t, reqs[0].Header.Get("SO-AppToken"))

	// A refused access token surfaces at once: there is no refresh to try.
	bad := f.client(t, func(c *tenant.Config) {
		c.Credentials = tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "8A:forged"}))
	})
	f.em.ResetRequests()
	_, err = currentPrincipal(ctx, bad)
	require.ErrorIs(t, err, tenant.ErrUnauthorized)
	assert.Equal(t, 1, f.em.Count(superidtest.EndpointTenantAPI))
	assert.NotContains(t, err.Error(), "forged", "the error leaks the token")

	// A token source that fails never reaches the server.
	failing := f.client(t, func(c *tenant.Config) { c.Credentials = tenant.AccessToken(errTokenSource{}) })
	f.em.ResetRequests()
	_, err = currentPrincipal(ctx, failing)
	require.Error(t, err)
	assert.Zero(t, f.em.Count(superidtest.EndpointTenantAPI))

	// The zero API has no client.
	_, err = webapi.UserAgent{}.CurrentPrincipal(ctx)
	require.ErrorContains(t, err, "webapi: no tenant client")
}

type errTokenSource struct{}

func (errTokenSource) Token() (*oauth2.Token, error) { return nil, fmt.Errorf("refresh failed") }
