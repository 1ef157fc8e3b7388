package superid

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// Key set tuning. SuperOffice's own .NET client caches keys for 15 s and
// the aspnet-contrib handler refreshes at most every 30 s; we follow the
// latter for refreshes caused by unknown keys.
const (
	defaultRefreshInterval = 30 * time.Second
	// failureBackoff spaces out fetches while the key set has never been
	// loaded and the endpoint fails, so an outage does not turn every
	// verification into a request.
	defaultFailureBackoff = time.Second
	defaultFetchTimeout   = 30 * time.Second
	// maxKeyAge is how long a fetched key set is trusted before it is
	// fetched again, so that a key SuperID withdrew stops verifying.
	maxKeyAge   = 24 * time.Hour
	maxJWKSSize = 1 << 20
)

// KeySet is SuperID's JSON Web Key Set, fetched on first use and refreshed
// when a token names a key it does not hold. It verifies RS256 signatures
// of id_tokens and of system-user JWTs, which SuperID signs with the same
// keys. A KeySet is safe for concurrent use; share one per environment.
//
// A token's key is matched by kid, else by x5t (SuperID's documented
// tokens carry only x5t; a key without x5t has it derived from its x5c
// certificate), else, when neither can be compared, every RSA key in the
// set is tried. A token that names a key the set lacks causes one refresh:
// concurrent verifications share it, unknown keys cause at most one refresh
// per 30 seconds, and no caller waits past its own context. Keys are
// fetched again after a day, so a withdrawn key stops verifying: in the
// background, while verifications go on with the keys held, so a slow or
// failing key endpoint never holds them up.
//
// Create a KeySet with NewKeySet; the zero KeySet has no URL and answers
// every lookup with ErrKeySet.
type KeySet struct {
	url    string
	client *http.Client
	now    func() time.Time
	logger *slog.Logger

	refreshInterval time.Duration // zero: defaultRefreshInterval
	failureBackoff  time.Duration // zero: defaultFailureBackoff
	fetchTimeout    time.Duration // zero: defaultFetchTimeout

	keys atomic.Pointer[keySnapshot]

	mu            sync.Mutex
	inflight      *keyFetch
	lastRefresh   time.Time // start of the last refresh caused by an unknown key
	lastRenewal   time.Time // start of the last background fetch of an old set
	lastFailure   time.Time // end of the last failed fetch
	lastFailedErr error
}

// keySnapshot is one immutable fetch of the key set.
type keySnapshot struct {
	kf      keyfunc.Keyfunc // kid lookups, over the same keys
	byKID   map[string]*rsa.PublicKey
	byX5T   map[string]*rsa.PublicKey
	all     []jwt.VerificationKey // every usable RSA key
	fetched time.Time
}

// keyFetch is one JWKS request that any number of callers wait for.
type keyFetch struct {
	done chan struct{}
	snap *keySnapshot
	err  error
}

// NewKeySet returns the key set published at jwksURL (see
// Environment.JWKSURL), fetched with httpClient (nil: http.DefaultClient).
// It does no I/O; keys are fetched when first needed.
func NewKeySet(jwksURL string, httpClient *http.Client) *KeySet {
	return newKeySet(jwksURL, httpClient, nil, nil)
}

func newKeySet(jwksURL string, httpClient *http.Client, now func() time.Time, logger *slog.Logger) *KeySet {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	return &KeySet{url: jwksURL, client: httpClient, now: now, logger: logger}
}

// clock, httpClient and the durations below give a KeySet that was not
// made by NewKeySet (or was made before a field existed) safe defaults.
func (k *KeySet) clock() time.Time {
	if k.now == nil {
		return time.Now()
	}
	return k.now()
}

func (k *KeySet) httpClient() *http.Client {
	if k.client == nil {
		return http.DefaultClient
	}
	return k.client
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Keyfunc returns a jwt.Keyfunc for golang-jwt that finds the key of an
// RS256 token, fetching the key set if needed. Any wait ends with ctx. The
// result is a *rsa.PublicKey, or a jwt.VerificationKeySet of every RSA key
// when the token's key cannot be identified.
func (k *KeySet) Keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) { return k.key(ctx, t) }
}

var errNoURL = errors.New("key set has no URL (create it with NewKeySet)")

func (k *KeySet) key(ctx context.Context, t *jwt.Token) (any, error) {
	if k == nil || k.url == "" {
		return nil, newError(opKeys, ErrKeySet, errNoURL)
	}
	if t == nil {
		return nil, newError(opVerify, ErrMalformedToken, errors.New("no token"))
	}
	if alg, _ := t.Header["alg"].(string); alg != jwt.SigningMethodRS256.Alg() {
		return nil, newError(opVerify, ErrSignature, fmt.Errorf("algorithm %.20q is not RS256", alg))
	}
	kid, x5t, err := keyIDs(t.Header)
	if err != nil {
		return nil, err
	}
	snap := k.keys.Load()
	switch {
	case snap == nil:
		if snap, err = k.fetch(ctx, false); err != nil {
			return nil, err
		}
	case k.clock().Sub(snap.fetched) > maxKeyAge:
		// The old keys serve until the new set arrives, and stay in use
		// while SuperID cannot be reached.
		k.renew(ctx)
	}
	for range 2 {
		if key, ok := snap.find(ctx, t, kid, x5t); ok {
			return key, nil
		}
		// The token names a key we lack: perhaps a rotation.
		next, err := k.fetch(ctx, true)
		if errors.Is(err, errRateLimited) {
			if cur := k.keys.Load(); cur != snap {
				snap = cur // someone else refreshed meanwhile; look there
				continue
			}
			break
		}
		if err != nil {
			return nil, err
		}
		snap = next
	}
	return nil, newError(opVerify, ErrUnknownKey, fmt.Errorf("no key with kid %.64q or x5t %.64q", kid, x5t))
}

func keyIDs(h map[string]any) (kid, x5t string, err error) {
	var ok bool
	if v, present := h["kid"]; present {
		if kid, ok = v.(string); !ok {
			return "", "", newError(opVerify, ErrMalformedToken, errors.New("kid is not a string"))
		}
	}
	if v, present := h["x5t"]; present {
		if x5t, ok = v.(string); !ok {
			return "", "", newError(opVerify, ErrMalformedToken, errors.New("x5t is not a string"))
		}
	}
	return kid, x5t, nil
}

// find returns the token's key, or ok false when the token names a key
// (by an identifier the set uses) that the set lacks.
func (s *keySnapshot) find(ctx context.Context, t *jwt.Token, kid, x5t string) (any, bool) {
	if kid != "" && len(s.byKID) > 0 {
		if key, err := s.kf.KeyfuncCtx(ctx)(t); err == nil {
			return key, true
		}
	}
	if x5t != "" {
		if key := s.byX5T[x5t]; key != nil {
			return key, true
		}
	}
	named := (kid != "" && len(s.byKID) > 0) || (x5t != "" && len(s.byX5T) > 0)
	if named {
		return nil, false
	}
	return jwt.VerificationKeySet{Keys: s.all}, true
}

var errRateLimited = errors.New("superid: key set refreshed too recently")

// renew starts a background fetch of a set that is too old, unless a
// fetch is in flight or one was started within refreshInterval. It never
// waits: the caller goes on with the keys it has. A token whose key is
// missing from them joins this fetch through fetch(ctx, true).
func (k *KeySet) renew(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock()
	if k.inflight != nil || (!k.lastRenewal.IsZero() && now.Sub(k.lastRenewal) < orDefault(k.refreshInterval, defaultRefreshInterval)) {
		return
	}
	k.lastRenewal = now
	f := &keyFetch{done: make(chan struct{})}
	k.inflight = f
	go k.run(context.WithoutCancel(ctx), f)
}

// fetch returns a fresh snapshot, joining a fetch in flight or starting
// one. A refresh (for an unknown key) is refused with errRateLimited within
// refreshInterval of the previous one; a load after a failure is refused
// within failureBackoff with that failure. The request runs on its own
// context so that one caller giving up does not fail the others; each
// caller waits only as long as its own ctx allows.
func (k *KeySet) fetch(ctx context.Context, refresh bool) (*keySnapshot, error) {
	k.mu.Lock()
	f := k.inflight
	if f == nil {
		now := k.clock()
		if refresh && !k.lastRefresh.IsZero() && now.Sub(k.lastRefresh) < orDefault(k.refreshInterval, defaultRefreshInterval) {
			k.mu.Unlock()
			return nil, errRateLimited
		}
		if !refresh && k.lastFailedErr != nil && now.Sub(k.lastFailure) < orDefault(k.failureBackoff, defaultFailureBackoff) {
			err := k.lastFailedErr
			k.mu.Unlock()
			return nil, err
		}
		if refresh {
			k.lastRefresh = now
		}
		f = &keyFetch{done: make(chan struct{})}
		k.inflight = f
		go k.run(context.WithoutCancel(ctx), f)
	}
	k.mu.Unlock()
	select {
	case <-f.done:
		return f.snap, f.err
	case <-ctx.Done():
		return nil, newError(opKeys, ErrKeySet, ctx.Err())
	}
}

// run makes one fetch, bounded by its own timeout whoever waits for it,
// so that no fetch goroutine outlives a hung key endpoint by more than
// fetchTimeout.
func (k *KeySet) run(ctx context.Context, f *keyFetch) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(k.fetchTimeout, defaultFetchTimeout))
	defer cancel()
	snap, err := k.download(ctx)
	k.mu.Lock()
	if err == nil {
		k.keys.Store(snap)
		k.lastFailedErr = nil
	} else {
		k.lastFailure, k.lastFailedErr = k.clock(), err
		if k.logger != nil {
			k.logger.WarnContext(ctx, "superid: key set fetch failed", "error", err)
		}
	}
	k.inflight = nil
	f.snap, f.err = snap, err
	k.mu.Unlock()
	close(f.done)
}

func (k *KeySet) download(ctx context.Context) (*keySnapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, newError(opKeys, ErrKeySet, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.httpClient().Do(req)
	if err != nil {
		return nil, newError(opKeys, ErrKeySet, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, newError(opKeys, ErrKeySet, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := newError(opKeys, ErrKeySet, fmt.Errorf("status %s", resp.Status))
		e.StatusCode = resp.StatusCode
		return nil, e
	}
	if len(body) > maxJWKSSize {
		return nil, newError(opKeys, ErrKeySet, errors.New("key set larger than 1 MiB"))
	}
	snap, err := parseKeySet(body)
	if err != nil {
		return nil, newError(opKeys, ErrKeySet, err)
	}
	snap.fetched = k.clock()
	return snap, nil
}

// certKey returns the JWK n and e of the RSA key in an x5c certificate
// (standard base64 DER), or "" and "" when it holds none.
func certKey(x5c string) (n, e string) {
	der, err := base64.StdEncoding.DecodeString(x5c)
	if err != nil {
		return "", ""
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", ""
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", ""
	}
	return base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
}

// parseKeySet keeps the RSA signing keys of a JWKS document and skips the
// rest (other key types, encryption keys, keys for other algorithms), so
// that one odd key cannot make the whole set unusable.
func parseKeySet(body []byte) (*keySnapshot, error) {
	var doc jwkset.JWKSMarshal
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode key set: %w", err)
	}
	store := jwkset.NewMemoryStorage()
	s := &keySnapshot{byKID: map[string]*rsa.PublicKey{}, byX5T: map[string]*rsa.PublicKey{}}
	for _, m := range doc.Keys {
		if m.KTY != jwkset.KtyRSA || (m.USE != "" && m.USE != jwkset.UseSig) ||
			(m.ALG != "" && m.ALG != jwkset.AlgRS256) {
			continue
		}
		m.D, m.P, m.Q, m.DP, m.DQ, m.QI, m.OTH = "", "", "", "", "", "", nil
		if m.N == "" && m.E == "" && len(m.X5C) > 0 {
			// Some of SuperID's key sets give a key by its certificate
			// alone; the key is the certificate's.
			m.N, m.E = certKey(m.X5C[0])
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			continue
		}
		pub, ok := jwk.Key().(*rsa.PublicKey)
		if !ok {
			continue
		}
		if err := store.KeyWrite(context.Background(), jwk); err != nil {
			continue
		}
		s.all = append(s.all, pub)
		if m.KID != "" {
			s.byKID[m.KID] = pub
		}
		x5t := m.X5T
		if x5t == "" {
			if certs := jwk.X509().X5C; len(certs) > 0 {
				sum := sha1.Sum(certs[0].Raw)
				x5t = base64.RawURLEncoding.EncodeToString(sum[:])
			}
		}
		if x5t != "" {
			s.byX5T[x5t] = pub
		}
	}
	if len(s.all) == 0 {
		return nil, errors.New("key set holds no RSA signing key")
	}
	kf, err := keyfunc.New(keyfunc.Options{Storage: store})
	if err != nil {
		return nil, err
	}
	s.kf = kf
	return s, nil
}
