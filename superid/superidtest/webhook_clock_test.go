package superidtest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// handlerTransport serves requests with an http.Handler in memory, so
// that deliveries stay inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// PROTOCOL 9, "Retries", on the emulator's own timers in a synctest
// bubble: the attempts of one cycle come at +0, +1 s and +1 s +4 s.
func TestWebhookRetryScheduleOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Time
		var ids []string
		target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Hook-Test") == "true" {
				return // 200
			}
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Now())
			ids = append(ids, r.Header.Get("X-SuperOffice-EventId"))
			w.WriteHeader(http.StatusInternalServerError)
		})
		e, err := superidtest.New("http://127.0.0.1:8081", superidtest.WithKeySize(1024),
			superidtest.WithWebhookClient(&http.Client{Transport: handlerTransport{target}}))
		require.NoError(t, err)
		require.NoError(t, e.AddTenant(superidtest.Tenant{ContextIdentifier: hookCtx}))
		require.NoError(t, e.RegisterApp(superidtest.App{ClientID: hookApp, ClientSecret: hookAppSecret}))
		tk, err := e.TicketFor(hookCtx, hookApp)
		require.NoError(t, err)
		call := func(method, path string, in any) int {
			b, _ := json.Marshal(in)
			req := httptest.NewRequest(method, "http://127.0.0.1:8081/"+hookCtx+"/api/"+path, bytes.NewReader(b))
			req.Header.Set("Authorization", "SOTicket "+tk)
			req.Header.Set("SO-AppToken", hookAppSecret)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec.Code
		}
		require.Equal(t, http.StatusOK, call("POST", "v1/Webhook", map[string]any{"Name": "clock", "Events": []string{"contact.created"},
			"TargetUrl": "https://receiver.example/hook", "Secret": hookSecret}))
		start := time.Now()
		ok2xx(t, call("POST", "v1/Contact", map[string]any{"Name": "Clocked AS"}))
		e.WaitWebhooks()

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, at, 3)
		assert.Equal(t, []time.Duration{0, time.Second, 5 * time.Second}, []time.Duration{at[0].Sub(start), at[1].Sub(start), at[2].Sub(start)})
		assert.Equal(t, []string{ids[0], ids[0], ids[0]}, ids)
		var row struct{ ConsecutiveErrors int }
		req := httptest.NewRequest("GET", "http://127.0.0.1:8081/"+hookCtx+"/api/v1/Webhook/1", nil)
		req.Header.Set("Authorization", "SOTicket "+tk)
		req.Header.Set("SO-AppToken", hookAppSecret)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &row), strconv.Itoa(rec.Code))
		assert.Equal(t, 1, row.ConsecutiveErrors)
	})
}
