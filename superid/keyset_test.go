package superid_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// clock is a settable time source for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func parseWith(ctx context.Context, ks *superid.KeySet, raw string) error {
	_, err := jwt.Parse(raw, ks.Keyfunc(ctx), jwt.WithValidMethods([]string{"RS256"}))
	return err
}

func signed(t testing.TB, srv *superidtest.Server) string {
	t.Helper()
	raw, err := srv.SignJWT(map[string]any{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestKeySetMatchesX5TOnly(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	raw := signed(t, srv)
	tok, _, _ := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if _, ok := tok.Header["kid"]; ok {
		t.Fatal("emulator token carries a kid; this test needs x5t only")
	}
	if err := parseWith(context.Background(), ks, raw); err != nil {
		t.Fatalf("x5t-only token refused: %v", err)
	}
}

func TestKeySetMatchesKID(t *testing.T) {
	srv := superidtest.NewServer(superidtest.WithKeyID())
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	if err := parseWith(context.Background(), ks, signed(t, srv)); err != nil {
		t.Fatalf("kid token refused: %v", err)
	}
}

func TestKeySetRotationFetchesOnce(t *testing.T) {
	for _, kid := range []bool{false, true} {
		t.Run(fmt.Sprintf("kid=%v", kid), func(t *testing.T) {
			var opts []superidtest.Option
			if kid {
				opts = append(opts, superidtest.WithKeyID())
			}
			srv := superidtest.NewServer(opts...)
			defer srv.Close()
			ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
			ctx := context.Background()
			if err := parseWith(ctx, ks, signed(t, srv)); err != nil {
				t.Fatal(err)
			}
			if err := srv.RotateKey(); err != nil {
				t.Fatal(err)
			}
			raw := signed(t, srv)
			before := srv.Count(superidtest.EndpointJWKS)
			var wg sync.WaitGroup
			var failed atomic.Int32
			for range 100 {
				wg.Go(func() {
					if err := parseWith(ctx, ks, raw); err != nil {
						failed.Add(1)
						t.Log(err)
					}
				})
			}
			wg.Wait()
			if n := failed.Load(); n != 0 {
				t.Errorf("%d of 100 verifications failed after a rotation", n)
			}
			if got := srv.Count(superidtest.EndpointJWKS) - before; got != 1 {
				t.Errorf("rotation caused %d key set fetches, want exactly 1", got)
			}
		})
	}
}

// foreignToken is signed by a key SuperID never published, under the
// given header ids.
func foreignToken(t testing.TB, key *rsa.PrivateKey, kid, x5t string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "x"})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	if x5t != "" {
		tok.Header["x5t"] = x5t
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestKeySetUnknownKeyFloodIsRateLimited(t *testing.T) {
	srv := superidtest.NewServer(superidtest.WithKeyID())
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	ctx := context.Background()
	if err := parseWith(ctx, ks, signed(t, srv)); err != nil {
		t.Fatal(err)
	}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	flood := func() int {
		before := srv.Count(superidtest.EndpointJWKS)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				raw := foreignToken(t, key, fmt.Sprintf("kid-%d-%d", i, time.Now().UnixNano()), fmt.Sprintf("x5t-%d", i))
				if err := parseWith(ctx, ks, raw); !errors.Is(err, superid.ErrUnknownKey) {
					t.Errorf("random key id: got %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
		return srv.Count(superidtest.EndpointJWKS) - before
	}
	if got := flood(); got > 1 {
		t.Errorf("flood of unknown keys caused %d fetches, want at most 1", got)
	}
	if got := flood(); got != 0 {
		t.Errorf("second flood within the interval caused %d fetches, want 0", got)
	}
	clk.Add(31 * time.Second)
	if got := flood(); got != 1 {
		t.Errorf("flood after the interval caused %d fetches, want 1", got)
	}
	// A known key still verifies without a fetch during the flood's aftermath.
	before := srv.Count(superidtest.EndpointJWKS)
	if err := parseWith(ctx, ks, signed(t, srv)); err != nil || srv.Count(superidtest.EndpointJWKS) != before {
		t.Errorf("known key: err %v, fetches %d", err, srv.Count(superidtest.EndpointJWKS)-before)
	}
}

func TestKeySetWaitEndsWithCallerContext(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Delay: 300 * time.Millisecond, Times: 1})
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	raw := signed(t, srv)

	impatient, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	patientErr := make(chan error, 1)
	go func() { patientErr <- parseWith(context.Background(), ks, raw) }()
	start := time.Now()
	err := parseWith(impatient, ks, raw)
	if !errors.Is(err, superid.ErrKeySet) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller: got %v, want ErrKeySet wrapping the deadline", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("impatient caller waited %v, past its context", d)
	}
	if err := <-patientErr; err != nil {
		t.Errorf("patient caller failed because another gave up: %v", err)
	}
	if n := srv.Count(superidtest.EndpointJWKS); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func TestKeySetFetchFailure(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: http.StatusServiceUnavailable})
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	raw := signed(t, srv)
	for range 3 {
		err := parseWith(context.Background(), ks, raw)
		var e *superid.Error
		if !errors.Is(err, superid.ErrKeySet) || !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("got %v, want ErrKeySet with status 503", err)
		}
	}
	if n := srv.Count(superidtest.EndpointJWKS); n != 1 {
		t.Errorf("failing endpoint fetched %d times within the backoff, want 1", n)
	}
	srv.ClearFaults()
	clk.Add(2 * time.Second)
	if err := parseWith(context.Background(), ks, raw); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

// TestKeySetTriesEveryKeyWithoutIDs serves keys without kid, x5t or x5c,
// so a token's x5t cannot be compared and every RSA key is tried.
func TestKeySetTriesEveryKeyWithoutIDs(t *testing.T) {
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},%s,%s,{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`, jwkJSON(k1), jwkJSON(k2))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(jwks))
	}))
	defer hs.Close()
	ks := superid.NewKeySet(hs.URL, hs.Client())
	if err := parseWith(context.Background(), ks, foreignToken(t, k2, "", "some-x5t")); err != nil {
		t.Errorf("token by the second key: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if err := parseWith(context.Background(), ks, foreignToken(t, other, "", "")); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("token by a foreign key: got %v, want a signature error", err)
	}
}

func jwkJSON(k *rsa.PrivateKey) string {
	return fmt.Sprintf(`{"kty":"RSA","n":%q,"e":"AQAB"}`, base64.RawURLEncoding.EncodeToString(k.N.Bytes()))
}

func TestKeySetRefetchesAfterADay(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	ctx := context.Background()
	old := signed(t, srv)
	if err := parseWith(ctx, ks, old); err != nil {
		t.Fatal(err)
	}
	if err := srv.RotateKey(); err != nil {
		t.Fatal(err)
	}
	srv.RetireKeys()
	clk.Add(time.Hour)
	if err := parseWith(ctx, ks, old); err != nil || srv.Count(superidtest.EndpointJWKS) != 1 {
		t.Fatalf("within the day: %v, %d fetches", err, srv.Count(superidtest.EndpointJWKS))
	}
	clk.Add(24 * time.Hour)
	if err := parseWith(ctx, ks, old); !errors.Is(err, superid.ErrUnknownKey) {
		t.Errorf("withdrawn key after a day: got %v, want ErrUnknownKey", err)
	}
	// While SuperID is down, the old set keeps working.
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: http.StatusBadGateway})
	clk.Add(25 * time.Hour)
	if err := parseWith(ctx, ks, signed(t, srv)); err != nil {
		t.Errorf("stale set while the endpoint fails: %v", err)
	}
}
