package superidtest

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Companies round-trip through the compact store exactly, with every
// field or with only those a new company has, and what Contacts returns
// is the caller's own.
func TestStoredContactsRoundTrip(t *testing.T) {
	f := newAPIFixture(t)
	created := time.Date(2025, 3, 14, 9, 26, 53, 123456700, time.UTC)
	full := Contact{Name: "Full AS", Department: "Sales", OrgNr: "123", Number1: "n1", Number2: "n2",
		Description: "d", CategoryID: 2, BusinessID: 3, CountryID: 752, Emails: []string{"a@example.com"},
		Phones: []string{"+47 1"}, URLs: []string{"https://example.com"}, AssociateID: 7, CreatedBy: 7,
		UpdatedBy: 8, Created: created, Updated: created.Add(time.Hour)}
	bare := Contact{Name: "SuperId-1741944413", CountryID: 578, AssociateID: 1, CreatedBy: 1, Created: created}
	// Values the compact row cannot hold exactly are kept whole.
	oslo := Contact{Name: "Oslo AS", Created: created.In(time.FixedZone("CET", 3600))}
	wide := Contact{Name: "Wide AS", AssociateID: 1 << 40, Created: created}
	var want []Contact
	for _, c := range []Contact{full, bare, oslo, wide} {
		got, err := f.e.AddContact(apiCtx, c)
		require.NoError(t, err)
		want = append(want, got)
	}
	got := f.e.Contacts(apiCtx)
	require.Equal(t, want, got)
	assert.Equal(t, "CET", got[2].Created.Location().String(), "the time zone")
	got[0].Emails[0] = "changed"
	assert.Equal(t, "a@example.com", f.e.Contacts(apiCtx)[0].Emails[0], "Contacts must not share its slices with the store")

	// A bare company updated with more fields keeps them; deleted, it is gone.
	status, _ := f.call("PUT", "/Cust777/api/v1/Contact/2", `{"Name":"Bare AS","Department":"HQ","Emails":[{"Value":"x@example.com"}]}`)
	require.Equal(t, 200, status, "PUT")
	c := f.e.Contacts(apiCtx)[1]
	assert.Equal(t, "Bare AS", c.Name)
	assert.Equal(t, "HQ", c.Department)
	assert.Len(t, c.Emails, 1)
	assert.Equal(t, SystemUserAssociateID, c.UpdatedBy)
	assert.True(t, c.Created.Equal(created), "Created %v, want %v", c.Created, created)
	status, _ = f.call("DELETE", "/Cust777/api/v1/Contact/1", "")
	require.Equal(t, 204, status, "DELETE")
	cs := f.e.Contacts(apiCtx)
	require.Len(t, cs, 3, "after DELETE")
	assert.Equal(t, 2, cs[0].ContactID)
}

// A company created through the API, as the console's job does, costs
// the emulator little: the scale demo creates ten thousand of them.
func TestCreatedCompanyIsSmall(t *testing.T) {
	f := newAPIFixture(t, WithRequestLogLimit(0))
	const n = 2000
	body := `{"ContactId":0,"Name":"SuperId-1741944413","Country":{"CountryId":578},"Associate":{"AssociateId":1}}`
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		status, _ := f.call("POST", "/Cust777/api/v1/Contact", body)
		require.Equal(t, 200, status, "POST")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes per stored company", per)
	// A Contact alone is some 280 bytes; the packed row with its name about 80.
	assert.LessOrEqual(t, per, int64(120), "bytes per stored company")
	runtime.KeepAlive(f)
}

// Tickets parse back into what made them, and nothing else parses.
func FuzzParseTicket(f *testing.F) {
	f.Add("7T:" + strings.Repeat("A", 40))
	f.Add(newTicket("Cust100", 3, [16]byte{1, 2, 3}))
	f.Add("7T:bogus")
	f.Fuzz(func(t *testing.T, s string) {
		ctx, n, id, ok := parseTicket(s)
		if ok && newTicket(ctx, n, id) != s && strings.Count(ctx, ";") == 0 {
			// Another encoding of the same parts (base64 padding bits,
			// upper-case hex) may parse; it must name a real ticket's parts.
			_, n2, id2, ok2 := parseTicket(newTicket(ctx, n, id))
			require.True(t, ok2, "%q parses to parts that do not round-trip", s)
			require.Equal(t, n, n2, "%q parses to parts that do not round-trip", s)
			require.Equal(t, id, id2, "%q parses to parts that do not round-trip", s)
		}
	})
}

func TestTicketParts(t *testing.T) {
	id := [16]byte{0xde, 0xad, 0xbe, 0xef}
	ctx, n, got, ok := parseTicket(newTicket("Cust100", 42, id))
	require.True(t, ok)
	assert.Equal(t, "Cust100", ctx)
	assert.Equal(t, 42, n)
	assert.Equal(t, id, got)
	for _, bad := range []string{"", "7T:", "7T:!!", "SOTicket x", "7T:" + strings.Repeat("QQ", 600)} {
		_, _, _, ok := parseTicket(bad)
		assert.False(t, ok, "%q parsed", bad)
	}
}

// Dead tickets are dropped when a tenant gets a new one, so a tenant
// exchanged every few hours does not pile them up.
func TestDeadTicketsPruned(t *testing.T) {
	clk := &testClock{t: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
	f := newAPIFixture(t, WithClock(clk.Now))
	for range 3 {
		clk.Add(7 * time.Hour)
		_, err := f.e.TicketFor(apiCtx, apiApp)
		require.NoError(t, err)
	}
	f.e.mu.Lock()
	kept := len(f.e.storeOfLocked(apiCtx).sys.tickets)
	f.e.mu.Unlock()
	assert.Equal(t, 1, kept, "tickets kept")
	assert.Equal(t, 1, f.e.LiveTickets(apiCtx), "tickets live")
}
