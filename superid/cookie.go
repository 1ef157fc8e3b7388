package superid

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// sealer encrypts and authenticates the login cookie (AES-256-GCM), so the
// browser carries state, nonce and PKCE verifier without being able to
// read or change them.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	if len(key) != 32 {
		return nil, errors.New("CookieKey must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// loginCookie is what the login cookie carries.
type loginCookie struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"` // Unix seconds
	// FormPost records that the cookie was set for form_post (SameSite=None),
	// so the callback deletes it with the same attributes.
	FormPost bool `json:"f,omitempty"`
}

// seal encrypts v, binding it to name so a value cannot be replayed under
// another cookie.
func (s *sealer) seal(name string, v *loginCookie) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

func (s *sealer) open(name, value string) (*loginCookie, error) {
	if len(value) > 4096 {
		return nil, errors.New("login cookie too large")
	}
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < s.aead.NonceSize() {
		return nil, errors.New("login cookie malformed")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(name))
	if err != nil {
		return nil, errors.New("login cookie not sealed by this app")
	}
	var v loginCookie
	if err := json.Unmarshal(plain, &v); err != nil {
		return nil, errors.New("login cookie malformed")
	}
	return &v, nil
}

// usedStates remembers the states that came back, until their login would
// have expired anyway, so a replayed callback is refused even with the
// cookie it came with. It is bounded: past maxUsedStates the oldest are
// forgotten (their codes are single use at SuperID regardless).
type usedStates struct {
	mu    sync.Mutex
	seen  map[[16]byte]struct{}
	queue []usedState
}

type usedState struct {
	key     [16]byte
	expires time.Time
}

const maxUsedStates = 100000

// use marks state used and reports whether it was fresh.
func (u *usedStates) use(state string, expires, now time.Time) bool {
	sum := sha256.Sum256([]byte(state))
	var key [16]byte
	copy(key[:], sum[:])
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[[16]byte]struct{}{}
	}
	for len(u.queue) > 0 && (u.queue[0].expires.Before(now) || len(u.queue) >= maxUsedStates) {
		delete(u.seen, u.queue[0].key)
		u.queue = u.queue[1:]
	}
	if _, ok := u.seen[key]; ok {
		return false
	}
	u.seen[key] = struct{}{}
	u.queue = append(u.queue, usedState{key, expires})
	return true
}
