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
	"golang.org/x/time/rate"

	"github.com/go-superoffice/superoffice/internal/flight"
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

	fetchTimeout time.Duration

	keys    atomic.Pointer[keySnapshot]
	fetches flight.Group[*keySnapshot]
	renewal sync.WaitGroup // background fetches of an old set

	mu          sync.Mutex
	unknown     *rate.Limiter // refreshes caused by unknown keys
	lastRenewal time.Time     // start of the last background fetch
	lastFailure time.Time     // end of the last failed fetch
	lastErr     error
}

// keySnapshot is one fetch of the key set, held in jwkset's storage and
// looked up through keyfunc.
type keySnapshot struct {
	kf      keyfunc.Keyfunc
	fetched time.Time
	// last is the latest lookup's answer: SuperID signs with one key at
	// a time, and the storage never changes, so the next token's key is
	// found without reading the storage again.
	last atomic.Pointer[keyHit]
}

// keyHit is the key find returned for a kid and an x5t.
type keyHit struct {
	kid, x5t string
	key      any
}

// NewKeySet returns the key set published at jwksURL (see
// Environment.JWKSURL), fetched with httpClient (nil: http.DefaultClient).
// It does no I/O; keys are fetched when first needed.
func NewKeySet(jwksURL string, httpClient *http.Client) *KeySet {
	return newKeySet(jwksURL, httpClient, nil, nil)
}

func newKeySet(jwksURL string, httpClient *http.Client, now func() time.Time, logger *slog.Logger) *KeySet {
	if now == nil {
		now = time.Now
	}
	return &KeySet{url: jwksURL, client: httpClient, now: now, logger: logger, fetchTimeout: defaultFetchTimeout,
		unknown: rate.NewLimiter(rate.Every(defaultRefreshInterval), 1)}
}

// Keyfunc returns a jwt.Keyfunc for golang-jwt that finds the key of an
// RS256 token, fetching the key set if needed. Any wait ends with ctx. The
// result is a *rsa.PublicKey, or a jwt.VerificationKeySet of every RSA key
// when the token's key cannot be identified.
func (k *KeySet) Keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) { return k.key(ctx, t) }
}

var (
	errNoURL       = errors.New("key set has no URL (create it with NewKeySet)")
	errRateLimited = errors.New("superid: key set refreshed too recently")
)

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
	case k.now().Sub(snap.fetched) > maxKeyAge:
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
	if h := s.last.Load(); h != nil && h.kid == kid && h.x5t == x5t {
		return h.key, true
	}
	key, ok := s.lookup(ctx, t, kid, x5t)
	if ok {
		s.last.Store(&keyHit{kid: kid, x5t: x5t, key: key})
	}
	return key, ok
}

func (s *keySnapshot) lookup(ctx context.Context, t *jwt.Token, kid, x5t string) (any, bool) {
	if kid != "" {
		if key, err := s.kf.KeyfuncCtx(ctx)(t); err == nil {
			return key, true
		}
	}
	all, _ := s.kf.Storage().KeyReadAll(ctx) // memory storage: never fails
	var haveKID, haveX5T bool
	for _, j := range all {
		m := j.Marshal()
		if x5t != "" && m.X5T == x5t {
			return j.Key(), true
		}
		haveKID = haveKID || m.KID != ""
		haveX5T = haveX5T || m.X5T != ""
	}
	if (kid != "" && haveKID) || (x5t != "" && haveX5T) {
		return nil, false
	}
	keys, _ := s.kf.VerificationKeySet(ctx)
	return keys, true
}

// fetch returns a fresh snapshot, joining a fetch in flight (see
// internal/flight) or starting one. A refresh (for an unknown key) is
// refused with errRateLimited when the limiter has no token; a load after
// a failure is refused within failureBackoff with that failure.
func (k *KeySet) fetch(ctx context.Context, refresh bool) (*keySnapshot, error) {
	snap, err := k.fetches.Do(ctx, "", func(ctx context.Context) (*keySnapshot, error) {
		if err := k.allow(refresh); err != nil {
			return nil, err
		}
		return k.run(ctx)
	})
	var e *Error
	if err != nil && !errors.Is(err, errRateLimited) && !errors.As(err, &e) {
		return nil, newError(opKeys, ErrKeySet, err) // the caller's ctx ended
	}
	return snap, err
}

func (k *KeySet) allow(refresh bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if refresh {
		if !k.unknown.AllowN(now, 1) {
			return errRateLimited
		}
		return nil
	}
	if k.lastErr != nil && now.Sub(k.lastFailure) < defaultFailureBackoff {
		return k.lastErr
	}
	return nil
}

// renew starts a background fetch of a set that is too old, unless one
// was started within refreshInterval. It never waits: the caller goes on
// with the keys it has. A token whose key is missing from them joins this
// fetch through fetch(ctx, true).
func (k *KeySet) renew(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if !k.lastRenewal.IsZero() && now.Sub(k.lastRenewal) < defaultRefreshInterval {
		return
	}
	k.lastRenewal = now
	k.renewal.Go(func() { _, _ = k.fetches.Do(context.WithoutCancel(ctx), "", k.run) })
}

// run makes one fetch, bounded by its own timeout whoever waits for it,
// and records its outcome.
func (k *KeySet) run(ctx context.Context) (*keySnapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, k.fetchTimeout)
	defer cancel()
	snap, err := k.download(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.lastFailure, k.lastErr = k.now(), err
		if k.logger != nil {
			k.logger.WarnContext(ctx, "superid: key set fetch failed", "error", err)
		}
		return nil, err
	}
	k.lastErr = nil
	k.keys.Store(snap)
	return snap, nil
}

func (k *KeySet) download(ctx context.Context) (*keySnapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, newError(opKeys, ErrKeySet, err)
	}
	req.Header.Set("Accept", "application/json")
	client := k.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
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
	store, err := signingKeys(body)
	if err != nil {
		return nil, newError(opKeys, ErrKeySet, err)
	}
	kf, err := keyfunc.New(keyfunc.Options{Storage: store})
	if err != nil {
		return nil, newError(opKeys, ErrKeySet, err)
	}
	return &keySnapshot{kf: kf, fetched: k.now()}, nil
}

// signingKeys keeps the RSA signing keys of a JWKS document in jwkset's
// storage and skips the rest (other key types, encryption keys, keys for
// other algorithms, keys jwkset cannot read), so that one odd key cannot
// make the whole set unusable, as it would through jwkset's own HTTP
// storage.
func signingKeys(body []byte) (jwkset.Storage, error) {
	var doc jwkset.JWKSMarshal
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode key set: %w", err)
	}
	store := jwkset.NewMemoryStorage()
	for _, m := range doc.Keys {
		if m.KTY != jwkset.KtyRSA || (m.USE != "" && m.USE != jwkset.UseSig) ||
			(m.ALG != "" && m.ALG != jwkset.AlgRS256) {
			continue
		}
		m.D, m.P, m.Q, m.DP, m.DQ, m.QI, m.OTH = "", "", "", "", "", "", nil
		if len(m.X5C) > 0 {
			certN, certE, thumb := certKey(m.X5C[0])
			if m.N == "" && m.E == "" {
				// Some of SuperID's key sets give a key by its
				// certificate alone; the key is the certificate's.
				m.N, m.E = certN, certE
			}
			if m.X5T == "" {
				m.X5T = thumb
			}
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			continue
		}
		if _, ok := jwk.Key().(*rsa.PublicKey); !ok {
			continue
		}
		_ = store.KeyWrite(context.Background(), jwk) // memory storage: never fails
	}
	if all, _ := store.KeyReadAll(context.Background()); len(all) == 0 {
		return nil, errors.New("key set holds no RSA signing key")
	}
	return store, nil
}

// certKey returns the JWK n and e of the RSA key in an x5c certificate
// (standard base64 DER) and the certificate's x5t, or "" for what it
// cannot tell.
func certKey(x5c string) (n, e, x5t string) {
	der, err := base64.StdEncoding.DecodeString(x5c)
	if err != nil {
		return "", "", ""
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", ""
	}
	sum := sha1.Sum(cert.Raw)
	x5t = base64.RawURLEncoding.EncodeToString(sum[:])
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", "", x5t
	}
	return base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()), x5t
}
