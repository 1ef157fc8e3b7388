package main

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/local"
)

func TestHumanTime(t *testing.T) {
	assert.Equal(t, "7 Dec 2026 19:46", humanTime(time.Date(2026, 12, 7, 19, 46, 59, 0, time.Local)))
	assert.Equal(t, "17 Jan 2027 08:05", humanTime(time.Date(2027, 1, 17, 8, 5, 0, 0, time.Local)))
	utc := time.Date(2026, 12, 7, 19, 46, 0, 0, time.UTC)
	assert.Equal(t, humanTime(utc), shortTime("2026-12-07T19:46:00Z"), "a list's date column")
	assert.Equal(t, "not a date", shortTime("not a date"))
}

// rawTimestamp is how a time looked on the pages before: ISO date and
// seconds.
var rawTimestamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}`)

// TestPagesShowDatesForPeople: the home and tenants pages show when the app
// was approved as "7 Dec 2026 19:46", never as a raw timestamp.
func TestPagesShowDatesForPeople(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	require.Equal(t, http.StatusOK, home.status, home.body)
	tn, err := h.st.Tenant(context.Background(), local.DemoContextID)
	require.NoError(t, err)
	want := humanTime(tn.ApprovedAt)

	tenants := b.get("/tenants")
	require.Equal(t, http.StatusOK, tenants.status)
	for name, p := range map[string]page{"home": home, "tenants": tenants} {
		assert.Contains(t, p.body, want, name)
		assert.NotRegexp(t, rawTimestamp, p.body, name)
	}
}
