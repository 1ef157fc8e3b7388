package superidtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAccessTokenUser checks the hook the tenant API authenticates Bearer
// tokens with.
func TestAccessTokenUser(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := NewServer(WithHeadlessLogin(), WithClock(clock))
	defer srv.Close()
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	must(srv.RegisterApp(App{ClientID: "web", ClientSecret: "s", RedirectURLs: []string{"https://app.example/cb"}}))
	must(srv.AddTenant(Tenant{ContextIdentifier: "Cust1"}))
	must(srv.AddUser(User{Username: "u@x.example", Password: "p", ContextIdentifier: "Cust1"}))

	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(srv.URL + "/login/common/oauth/authorize?" + url.Values{"client_id": {"web"},
		"redirect_uri": {"https://app.example/cb"}, "response_type": {"code"}, "scope": {"openid"},
		"login_hint": {"u@x.example"}}.Encode())
	must(err)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	resp, err = c.PostForm(srv.URL+"/login/common/oauth/tokens", url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {"https://app.example/cb"}, "client_id": {"web"}, "client_secret": {"s"}})
	must(err)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	must(json.NewDecoder(resp.Body).Decode(&tr))
	resp.Body.Close()

	user := func(tok string) *User {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.accessTokenUserLocked(tok)
	}
	assert.True(t, strings.HasPrefix(tr.AccessToken, "8A:Cust1."), "issued token %q", tr.AccessToken)
	u := user(tr.AccessToken)
	require.NotNil(t, u, "the issued token's user")
	assert.Equal(t, "u@x.example", u.Username)
	assert.Nil(t, user(tr.AccessToken+"x"), "an unknown token")
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	assert.Nil(t, user(tr.AccessToken), "a token past its hour")
}
