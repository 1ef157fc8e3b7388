package main

import (
	"context"
	"html"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// The tenants page shows what the console's last run did, as the store
// keeps it, not only its outcome; a failure after it keeps the result of
// the last success beside the error.
func TestTenantsPageShowsTheLastResult(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	require.Equal(t, http.StatusOK, home.status, home.body)
	assert.Contains(t, b.get("/tenants").body, "none yet")

	ctx := context.Background()
	run := func(r store.Result) {
		t.Helper()
		cs, err := h.st.ClaimDue(ctx, "console", time.Now(), time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, cs, 1)
		require.Equal(t, local.DemoContextID, cs[0].ContextIdentifier)
		r.NextRun = time.Now()
		require.NoError(t, h.st.Complete(ctx, cs[0], r))
	}
	const summary = `created company SuperId-<Cust10000> "run 1" (id 9)`
	run(store.Result{Summary: summary})
	p := b.get("/tenants")
	require.Equal(t, http.StatusOK, p.status)
	assert.Contains(t, p.body, "<th>Last result</th>")
	assert.Contains(t, p.body, `<td class="result">`+html.EscapeString(summary)+`</td>`, "the result, escaped")
	assert.Contains(t, p.body, "<td>ok</td>")

	run(store.Result{Err: "tenant API answered 503"})
	p = b.get("/tenants")
	assert.Contains(t, p.body, "<td>failed</td>")
	assert.Contains(t, p.body, html.EscapeString(summary), "the last success's result")
	assert.Contains(t, p.body, "tenant API answered 503")
}
