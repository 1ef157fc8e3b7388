package superid_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// A partner web app mounts LoginHandler and CallbackHandler; the callback
// receives the verified login and stores the tenant. Here SuperID is the
// emulator in headless mode, which signs in the login_hint user.
func ExampleClient_CallbackHandler() {
	srv := superidtest.NewServer(superidtest.WithHeadlessLogin())
	defer srv.Close()

	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()

	key, _ := rsa.GenerateKey(rand.Reader, 2048) // the partner's key pair
	_ = srv.RegisterApp(superidtest.App{
		ClientID: "my-app", ClientSecret: "my-secret", Name: "My App", SystemUser: true,
		PublicKey: &key.PublicKey, RedirectURLs: []string{app.URL + "/callback"},
	})
	_ = srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345"})
	_ = srv.AddUser(superidtest.User{Username: "admin@example.com", Password: "pw",
		ContextIdentifier: "Cust12345", Administrator: true})

	client, err := superid.New(superid.Config{
		Environment:  srv.Environment(),
		ClientID:     "my-app",
		ClientSecret: "my-secret",
		RedirectURL:  app.URL + "/callback",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/login", client.LoginHandler())
	mux.Handle("/callback", client.CallbackHandler(
		func(w http.ResponseWriter, r *http.Request, l *superid.Login) {
			// Store l.Claims.ContextIdentifier and l.Claims.SystemUserToken,
			// start the app's own session, then redirect.
			fmt.Println("tenant:", l.Claims.ContextIdentifier)
			fmt.Println("user:", l.Claims.Subject, "administrator:", l.Claims.IsAdministrator)
			fmt.Println("system user token received:", l.Claims.SystemUserToken != "")
			http.Redirect(w, r, "/", http.StatusSeeOther)
		},
		nil, // superid.RenderError
	))

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == "/" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(app.URL + "/login?tenant=Cust12345&login_hint=admin@example.com")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	// Output:
	// tenant: Cust12345
	// user: admin@example.com administrator: true
	// system user token received: true
}

// Every failure is a *superid.Error whose kind errors.Is recognises.
func ExampleError() {
	srv := superidtest.NewServer()
	defer srv.Close()
	now := time.Now()
	client, _ := superid.New(superid.Config{
		Environment: srv.Environment(), ClientID: "my-app", ClientSecret: "my-secret",
	})
	expired, _ := srv.SignJWT(map[string]any{
		"iss": srv.Environment().Issuer(), "aud": "my-app", "sub": "someone",
		"iat": fmt.Sprint(now.Add(-time.Hour).Unix()), "exp": now.Add(-30 * time.Minute).Unix(),
	})

	_, err := client.VerifyIDToken(context.Background(), expired)
	switch {
	case errors.Is(err, superid.ErrExpired):
		fmt.Println("the id_token has expired: sign in again")
	case errors.Is(err, superid.ErrInvalidToken):
		fmt.Println("the id_token was refused:", err)
	case errors.Is(err, superid.ErrKeySet):
		fmt.Println("SuperID's keys are unreachable: try later")
	case err != nil:
		fmt.Println("unexpected:", err)
	}
	var e *superid.Error
	if errors.As(err, &e) {
		fmt.Println("operation:", e.Op)
	}
	// Output:
	// the id_token has expired: sign in again
	// operation: verify id_token
}

// AuthCodeURL always names the PKCE method, since SuperID would otherwise
// assume plain. Keep the LoginRequest (sealed in a cookie, say) for the
// callback, which checks its State and passes it to Exchange.
func ExampleClient_AuthCodeURL() {
	client, _ := superid.New(superid.Config{
		Environment: superid.SOD, ClientID: "my-app", ClientSecret: "my-secret",
		RedirectURL: "https://app.example.com/callback",
	})
	req := superid.NewLoginRequest()
	u, _ := url.Parse(client.AuthCodeURL(req, superid.Tenant("Cust12345"), superid.LoginHint("admin@example.com")))
	q := u.Query()
	fmt.Println(u.Scheme + "://" + u.Host + u.Path)
	fmt.Println(q.Get("code_challenge_method"), q.Get("acr_values"), q.Get("login_hint"), q.Get("scope"))
	// Output:
	// https://sod.superoffice.com/login/common/oauth/authorize
	// S256 tenant:Cust12345 admin@example.com openid
}

func ExampleParseEnvironment() {
	env, _ := superid.ParseEnvironment("stage")
	fmt.Println(env.Issuer())
	fmt.Println(env.JWKSURL())
	// Output:
	// https://qaonline.superoffice.com
	// https://qaonline.superoffice.com/login/.well-known/jwks
}
