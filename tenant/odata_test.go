package tenant_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

func TestAllOverThousandContacts(t *testing.T) {
	f := setup(t)
	for i := range 1000 {
		_, err := f.em.AddContact(testCtx, superidtest.Contact{Name: fmt.Sprintf("Company %04d", i), CategoryID: 1 + i%4})
		require.NoError(t, err)
	}
	c := f.client(t)
	ctx := context.Background()

	f.em.ResetRequests()
	seen := map[int]bool{}
	last := 0
	for row, err := range tenant.All[contactRow](ctx, c, "v1/Contact", nil) {
		require.NoError(t, err)
		require.False(t, seen[row.ContactID], "row %d repeated", row.ContactID)
		require.Greater(t, row.ContactID, last, "rows out of order")
		seen[row.ContactID], last = true, row.ContactID
		require.Equal(t, fmt.Sprintf("Company %04d", row.ContactID-1), row.Name)
	}
	assert.Len(t, seen, 1000)
	assert.Equal(t, 5, f.em.Count(superidtest.EndpointTenantAPI), "page requests (server pages of 200)")
	for _, r := range f.em.Requests(superidtest.EndpointTenantAPI)[1:] {
		assert.Regexp(t, "^SOTicket ", r.Header.Get("Authorization"), "a next-page request went without the ticket")
	}

	// Breaking off early fetches no more pages.
	f.em.ResetRequests()
	n := 0
	for _, err := range tenant.All[contactRow](ctx, c, "v1/Contact", nil) {
		require.NoError(t, err)
		if n++; n == 250 {
			break
		}
	}
	assert.Equal(t, 2, f.em.Count(superidtest.EndpointTenantAPI), "requests for 250 rows")

	// $top/$skip across pages, a filter, ordering and a selection, into
	// a map for every column sent.
	var names []string
	for row, err := range tenant.All[map[string]any](ctx, c, "v1/Contact", &tenant.ListOptions{
		Select: []string{"contactId", "name", "category"}, Filter: "name begins 'company 09' and category eq 'Customer'",
		OrderBy: "name desc", Skip: 1, Top: 3,
	}) {
		require.NoError(t, err)
		names = append(names, row["name"].(string))
		assert.Equal(t, "Customer", row["category"])
		assert.NotContains(t, row, "department")
	}
	assert.Equal(t, []string{"Company 0992", "Company 0988", "Company 0984"}, names)

	// PageSize pages with $top/$skip itself, bounded by Top.
	n = 0
	for _, err := range tenant.All[contactRow](ctx, c, "v1/Contact", &tenant.ListOptions{PageSize: 100, Top: 450}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 450, n, "rows with PageSize 100, Top 450")

	// List and Next walk pages by hand.
	p, err := tenant.List[contactRow](ctx, c, "v1/Contact", &tenant.ListOptions{Filter: "contactId gt 900"})
	require.NoError(t, err)
	total := 0
	for p != nil {
		total += len(p.Value)
		p, err = tenant.Next(ctx, c, p)
		require.NoError(t, err)
	}
	assert.Equal(t, 100, total, "rows with contactId > 900")

	// A server that answers the second page with an error: All yields it.
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 200, Times: 1,
		Body: `{"odata.nextLink":"v1/Contact?$skip=1","value":[{"PrimaryKey":7}]}`})
	f.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: 404, Times: 1})
	var rows []int
	for row, err := range tenant.All[contactRow](ctx, c, "v1/Contact", nil) {
		if err != nil {
			require.ErrorIs(t, err, tenant.ErrNotFound)
			break
		}
		rows = append(rows, row.PrimaryKey)
	}
	assert.Equal(t, []int{7}, rows)
}

func TestListErrors(t *testing.T) {
	f := setup(t)
	c := f.client(t)
	ctx := context.Background()
	var zero tenant.Client
	var nilCtx context.Context
	link := &tenant.Page[contactRow]{NextLink: "v1/Contact?$skip=5"}
	first := func(seq func(func(contactRow, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	tests := []struct {
		name string
		call func() error
		want error  // a sentinel, or nil for a local error
		msg  string // part of the error text
	}{
		{"bad filter", func() error {
			_, err := tenant.List[contactRow](ctx, c, "v1/Contact", &tenant.ListOptions{Filter: "name like 'x'"})
			return err
		}, tenant.ErrBadRequest, "unsupported operator"},
		{"bad column", func() error {
			_, err := tenant.List[contactRow](ctx, c, "v1/Contact", &tenant.ListOptions{Select: []string{"nope"}})
			return err
		}, tenant.ErrBadRequest, "nope"},
		{"bad orderby", func() error {
			_, err := tenant.List[personRow](ctx, c, "v1/Person", &tenant.ListOptions{OrderBy: "nope"})
			return err
		}, tenant.ErrBadRequest, "nope"},
		{"All bad filter", func() error {
			return first(tenant.All[contactRow](ctx, c, "v1/Contact", &tenant.ListOptions{Filter: "nope eq 1"}))
		}, tenant.ErrBadRequest, "unknown column"},
		{"negative Top", func() error {
			_, err := tenant.List[contactRow](ctx, c, "v1/Contact", &tenant.ListOptions{Top: -1})
			return err
		}, nil, "must not be negative"},
		{"malformed Select", func() error {
			return first(tenant.All[contactRow](ctx, c, "v1/Contact", &tenant.ListOptions{Select: []string{"a,b"}}))
		}, nil, "malformed column"},
		{"query in path", func() error {
			_, err := tenant.List[contactRow](ctx, c, "v1/Contact?$top=1", nil)
			return err
		}, nil, "put $select, $filter"},
		{"query with a value in path", func() error {
			_, err := tenant.List[contactRow](ctx, c, "v1/Contact?ticket=S3CRET", nil)
			return err
		}, nil, `"v1/Contact" has a query`},
		{"malformed next link", func() error {
			_, err := tenant.Next(ctx, c, &tenant.Page[contactRow]{NextLink: "v1/Contact?ticket=S3CRET%zz\x00\x7f"})
			return err
		}, nil, "odata.nextLink"},
		{"absolute path", func() error { return first(tenant.All[contactRow](ctx, c, "/v1/Contact", nil)) }, nil, "relative"},
		{"Next(nil)", func() error { _, err := tenant.Next[contactRow](ctx, c, nil); return err }, nil, "nil page"},
		{"Next with nil ctx", func() error { _, err := tenant.Next(nilCtx, c, link); return err }, nil, "nil context"},
		{"zero Client List", func() error { _, err := tenant.List[contactRow](ctx, &zero, "v1/Contact", nil); return err }, nil, "not created with New"},
		{"nil Client All", func() error { return first(tenant.All[contactRow](ctx, nil, "v1/Contact", nil)) }, nil, "not created with New"},
		{"zero Client Next", func() error { _, err := tenant.Next(ctx, &zero, link); return err }, nil, "not created with New"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.Regexp(t, "^tenant: ", err.Error())
			assert.NotContains(t, err.Error(), "S3CRET", "a query value in an error")
			assert.Contains(t, err.Error(), tt.msg)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
}

// All follows a server's paging to its end: a next link that spells out
// the default port is the same host, and a link back to a page already
// read, or on and on from empty pages, ends the list with an error
// rather than repeating rows or looping.
func TestAllPagingEdges(t *testing.T) {
	var pages map[string]string // query -> body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.RawQuery]
		if !ok {
			// Empty pages, each linking to the next, for ever.
			n, _ := strconv.Atoi(r.URL.Query().Get("$skip"))
			body = fmt.Sprintf(`{"odata.nextLink":"http://tenant.test/Cust12345/api/v1/Contact?$skip=%d","value":[]}`, n+1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	c, err := tenant.New(tenant.Config{BaseURL: "http://tenant.test/Cust12345/api/",
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}}})
	require.NoError(t, err)
	rows := func() (ids []int, err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for row, err := range tenant.All[contactRow](ctx, c, "v1/Contact", nil) {
			if err != nil {
				return ids, err
			}
			ids = append(ids, row.PrimaryKey)
		}
		return ids, nil
	}

	pages = map[string]string{
		"":          `{"odata.nextLink":"http://tenant.test:80/Cust12345/api/v1/Contact?$skip=2","value":[{"PrimaryKey":1},{"PrimaryKey":2}]}`,
		"$skip=2":   `{"value":[{"PrimaryKey":3}]}`,
		"%24skip=2": `{"value":[{"PrimaryKey":3}]}`,
	}
	ids, err := rows()
	require.NoError(t, err, "link with the default port")
	assert.Equal(t, []int{1, 2, 3}, ids)

	pages = map[string]string{
		"": `{"odata.nextLink":"http://tenant.test/Cust12345/api/v1/Contact","value":[{"PrimaryKey":1},{"PrimaryKey":2}]}`,
	}
	ids, err = rows()
	require.ErrorContains(t, err, "leads back to a page already read")
	assert.Equal(t, []int{1, 2}, ids)

	pages = map[string]string{
		"": `{"odata.nextLink":"v1/Contact?$skip=1","value":[{"PrimaryKey":1}]}`,
	}
	ids, err = rows()
	require.ErrorContains(t, err, "odata.nextLink on a page without rows")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, []int{1}, ids)
}
