package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

func TestContactsLifecycleAsSystemUser(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	ctx := context.Background()

	def, err := c.Contacts.Default(ctx)
	must(t, err)
	if def.ContactID != 0 || def.Country == nil || def.Country.CountryID == 0 || def.Associate == nil {
		t.Fatalf("default contact = %+v, want id 0 with server defaults (country, owner)", def)
	}
	created, err := c.Contacts.CreateCompany(ctx, "Acme AS")
	must(t, err)
	if created.ContactID <= 0 || created.Name != "Acme AS" || created.CreatedDate.IsZero() {
		t.Fatalf("created = %+v, want an id, the name and a created date", created)
	}

	got, err := c.Contacts.Get(ctx, created.ContactID)
	must(t, err)
	if got.Name != "Acme AS" || got.CreatedBy == nil || got.CreatedBy.AssociateID != superidtest.SystemUserAssociateID {
		t.Fatalf("got = %+v (created by %+v)", got, got.CreatedBy)
	}
	if got.Extra["TableRight"] == nil {
		t.Fatalf("fields without a Go field were lost: Extra = %v", got.Extra)
	}

	got.Department = "Sales"
	got.Emails = []tenant.EntityElement{{Value: "post@acme.example"}}
	upd, err := c.Contacts.Update(ctx, got)
	must(t, err)
	if upd.Department != "Sales" || len(upd.Emails) != 1 || upd.UpdatedBy == nil {
		t.Fatalf("updated = %+v", upd)
	}

	stored := f.em.Contacts(testCtx)
	if len(stored) != 1 || stored[0].Name != "Acme AS" || stored[0].Department != "Sales" ||
		stored[0].CreatedBy != superidtest.SystemUserAssociateID {
		t.Fatalf("emulator holds %+v", stored)
	}

	must(t, c.Contacts.Delete(ctx, created.ContactID))
	if _, err := c.Contacts.Get(ctx, created.ContactID); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if n := len(f.em.Contacts(testCtx)); n != 0 {
		t.Fatalf("%d contacts left after Delete", n)
	}

	// Every request carried the system user's ticket and the app token.
	for _, r := range f.em.Requests(superidtest.EndpointTenantAPI) {
		if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "SOTicket 7T:") {
			t.Errorf("%s %s: Authorization %q, want SOTicket", r.Method, r.Path, a)
		}
		if got := r.Header.Get("SO-AppToken"); got != testSecret {
			t.Errorf("%s %s: SO-AppToken %q", r.Method, r.Path, got)
		}
		if !strings.HasPrefix(r.Path, "/"+testCtx+"/api/v1/") {
			t.Errorf("path %q is not under the tenant's base URL", r.Path)
		}
	}
	if ex, _ := f.tickets.counts(); ex != 1 {
		t.Errorf("%d ticket exchanges, want 1 (cached)", ex)
	}
}

func TestContactsErrorPaths(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	ctx := context.Background()
	existing, err := f.em.AddContact(testCtx, superidtest.Contact{Name: "Existing"})
	must(t, err)

	tests := []struct {
		name string
		call func() error
		want error  // a sentinel, or nil for a local validation error
		msg  string // part of the error text
	}{
		{"Get id 0", func() error { _, err := c.Contacts.Get(ctx, 0); return err }, nil, "positive"},
		{"Get missing", func() error { _, err := c.Contacts.Get(ctx, 999); return err }, tenant.ErrNotFound, "Contact 999 not found"},
		{"Create nil", func() error { _, err := c.Contacts.Create(ctx, nil); return err }, nil, "nil contact"},
		{"Create with id", func() error { _, err := c.Contacts.Create(ctx, &tenant.Contact{ContactID: 3, Name: "x"}); return err }, nil, "use Update"},
		{"Create no name", func() error { _, err := c.Contacts.Create(ctx, &tenant.Contact{Name: "  "}); return err }, tenant.ErrBadRequest, "Name is required"},
		{"CreateCompany empty", func() error { _, err := c.Contacts.CreateCompany(ctx, ""); return err }, nil, "empty name"},
		{"Update nil", func() error { _, err := c.Contacts.Update(ctx, nil); return err }, nil, "nil contact"},
		{"Update no id", func() error { _, err := c.Contacts.Update(ctx, &tenant.Contact{Name: "x"}); return err }, nil, "use Create"},
		{"Update missing", func() error { _, err := c.Contacts.Update(ctx, &tenant.Contact{ContactID: 999, Name: "x"}); return err }, tenant.ErrNotFound, ""},
		{"Update invalid", func() error {
			_, err := c.Contacts.Update(ctx, &tenant.Contact{ContactID: existing.ContactID, Name: strings.Repeat("n", 300)})
			return err
		}, tenant.ErrBadRequest, "longer than 255"},
		{"Delete id -1", func() error { return c.Contacts.Delete(ctx, -1) }, nil, "positive"},
		{"Delete missing", func() error { return c.Contacts.Delete(ctx, 999) }, tenant.ErrNotFound, ""},
		{"List bad filter", func() error { _, err := c.Contacts.List(ctx, &tenant.ListOptions{Filter: "name like 'x'"}); return err }, tenant.ErrBadRequest, "unsupported operator"},
		{"List bad column", func() error {
			_, err := c.Contacts.List(ctx, &tenant.ListOptions{Select: []string{"nope"}})
			return err
		}, tenant.ErrBadRequest, "nope"},
		{"List negative top", func() error { _, err := c.Contacts.List(ctx, &tenant.ListOptions{Top: -1}); return err }, nil, "negative"},
		{"All bad filter", func() error {
			for _, err := range c.Contacts.All(ctx, &tenant.ListOptions{Filter: "nope eq 1"}) {
				return err
			}
			return nil
		}, tenant.ErrBadRequest, "unknown column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v does not match %v", err, tt.want)
			}
			if tt.want != nil {
				te := asError(t, err)
				if te.StatusCode == 0 || te.Method == "" || !strings.Contains(te.URL, "/"+testCtx+"/api/v1/") {
					t.Fatalf("error lacks status, method or URL: %+v", te)
				}
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "tenant: ") {
				t.Fatalf("error %q: want prefix tenant: and %q", err, tt.msg)
			}
		})
	}
	// Default's error path: a server that keeps failing.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 500, Body: `{"Message":"boom"}`})
	_, err = c.Contacts.Default(ctx)
	if !errors.Is(err, tenant.ErrServer) || asError(t, err).Message != "boom" {
		t.Fatalf("Default on a failing server: %v", err)
	}
}

func TestPersonsLifecycleAndErrors(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	ctx := context.Background()
	co, err := c.Contacts.CreateCompany(ctx, "Globex")
	must(t, err)

	p, err := c.Persons.Default(ctx)
	must(t, err)
	if p.PersonID != 0 || p.Associate == nil {
		t.Fatalf("default person = %+v", p)
	}
	p.Firstname, p.Lastname = "Grace", "Hopper"
	p.Contact = &tenant.ContactRef{ContactID: co.ContactID}
	created, err := c.Persons.Create(ctx, p)
	must(t, err)
	if created.PersonID <= 0 || created.Contact == nil || created.Contact.Name != "Globex" {
		t.Fatalf("created person = %+v (contact %+v)", created, created.Contact)
	}
	got, err := c.Persons.Get(ctx, created.PersonID)
	must(t, err)
	got.Title = "Rear Admiral"
	upd, err := c.Persons.Update(ctx, got)
	must(t, err)
	if upd.Title != "Rear Admiral" || upd.Firstname != "Grace" {
		t.Fatalf("updated person = %+v", upd)
	}
	page, err := c.Persons.List(ctx, &tenant.ListOptions{Filter: "lastname begins 'hop'", Select: []string{"personId", "fullName", "contactName"}})
	must(t, err)
	if len(page.Value) != 1 || page.Value[0].FullName != "Grace Hopper" || page.Value[0].ContactName != "Globex" {
		t.Fatalf("person list = %+v", page.Value)
	}
	n := 0
	for row, err := range c.Persons.All(ctx, nil) {
		must(t, err)
		if row.PersonID != created.PersonID {
			t.Fatalf("row %+v", row)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("All yielded %d persons", n)
	}
	stored := f.em.Persons(testCtx)
	if len(stored) != 1 || stored[0].ContactID != co.ContactID || stored[0].CreatedBy != superidtest.SystemUserAssociateID {
		t.Fatalf("emulator holds %+v", stored)
	}
	must(t, c.Persons.Delete(ctx, created.PersonID))

	for name, call := range map[string]func() error{
		"Get missing":    func() error { _, err := c.Persons.Get(ctx, created.PersonID); return err },
		"Update missing": func() error { _, err := c.Persons.Update(ctx, got); return err },
		"Delete missing": func() error { return c.Persons.Delete(ctx, created.PersonID) },
		"Create bad contact": func() error {
			_, err := c.Persons.Create(ctx, &tenant.Person{Firstname: "X", Contact: &tenant.ContactRef{ContactID: 4242}})
			return err
		},
		"List bad orderby": func() error { _, err := c.Persons.List(ctx, &tenant.ListOptions{OrderBy: "nope"}); return err },
	} {
		err := call()
		if !errors.Is(err, tenant.ErrNotFound) && !errors.Is(err, tenant.ErrBadRequest) {
			t.Errorf("%s: %v, want a 404 or 400 *Error", name, err)
		}
	}
	for name, call := range map[string]func() error{
		"Get 0":         func() error { _, err := c.Persons.Get(ctx, 0); return err },
		"Create nil":    func() error { _, err := c.Persons.Create(ctx, nil); return err },
		"Create noname": func() error { _, err := c.Persons.Create(ctx, &tenant.Person{}); return err },
		"Create id":     func() error { _, err := c.Persons.Create(ctx, &tenant.Person{PersonID: 1, Firstname: "x"}); return err },
		"Update nil":    func() error { _, err := c.Persons.Update(ctx, nil); return err },
		"Update no id":  func() error { _, err := c.Persons.Update(ctx, &tenant.Person{Firstname: "x"}); return err },
		"Delete 0":      func() error { return c.Persons.Delete(ctx, 0) },
	} {
		if err := call(); err == nil || !strings.HasPrefix(err.Error(), "tenant: ") {
			t.Errorf("%s: %v, want a local tenant: error", name, err)
		}
	}
	// Default's error path.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 403, Times: 1})
	if _, err := c.Persons.Default(ctx); !errors.Is(err, tenant.ErrForbidden) {
		t.Fatalf("Default with 403: %v", err)
	}
}

func TestCurrentPrincipal(t *testing.T) {
	f := setup(t)
	ctx := context.Background()

	sys, err := f.client(t).User.CurrentPrincipal(ctx)
	must(t, err)
	if sys.AssociateID != superidtest.SystemUserAssociateID || sys.UserType != "SystemAssociate" || sys.DatabaseContextIdentifier != testCtx {
		t.Fatalf("system user principal = %+v", sys)
	}

	tok, err := f.em.AccessTokenFor(testUser)
	must(t, err)
	uc := f.client(t, func(c *tenant.Config) {
		c.Credentials = tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "bearer"}))
	})
	f.em.ResetRequests()
	me, err := uc.User.CurrentPrincipal(ctx)
	must(t, err)
	if me.FullName != "Ada Lovelace" || me.Email != testUser || me.AssociateID < 5 || !me.IsPerson {
		t.Fatalf("user principal = %+v", me)
	}
	reqs := f.em.Requests(superidtest.EndpointTenantAPI)
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer "+tok || reqs[0].Header.Get("SO-AppToken") != "" {
		t.Fatalf("user request headers: %v", reqs[0].Header)
	}

	// A refused access token surfaces at once: there is no refresh to try.
	bad := f.client(t, func(c *tenant.Config) {
		c.Credentials = tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "8A:forged"}))
	})
	f.em.ResetRequests()
	_, err = bad.User.CurrentPrincipal(ctx)
	if !errors.Is(err, tenant.ErrUnauthorized) || f.em.Count(superidtest.EndpointTenantAPI) != 1 {
		t.Fatalf("forged token: %v after %d requests", err, f.em.Count(superidtest.EndpointTenantAPI))
	}
	if strings.Contains(err.Error(), "forged") {
		t.Fatalf("error %q leaks the token", err)
	}
	// A token source that fails never reaches the server.
	failing := f.client(t, func(c *tenant.Config) { c.Credentials = tenant.AccessToken(errTokenSource{}) })
	f.em.ResetRequests()
	if _, err := failing.User.CurrentPrincipal(ctx); err == nil || f.em.Count(superidtest.EndpointTenantAPI) != 0 {
		t.Fatalf("failing token source: %v", err)
	}
}

type errTokenSource struct{}

func (errTokenSource) Token() (*oauth2.Token, error) { return nil, fmt.Errorf("refresh failed") }
