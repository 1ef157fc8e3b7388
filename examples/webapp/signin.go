package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
)

// loginTimeout is how long a started sign-in may take to come back; the
// store keeps a used sign-in as long, after which its login cookie has
// expired and superid refuses it anyway.
const loginTimeout = 10 * time.Minute

// Sign-ins around superid's handlers, for an app of many instances and a
// user of many tabs:
//
//   - Every sign-in has a login cookie of its own, named after its state,
//     so that a second tab signing in does not overwrite the first one's
//     (superid names its cookie once per Client). The callback hands
//     superid the cookie of the state that came back, under superid's name.
//   - A sign-in that came back is recorded in the store before superid
//     sees it, so that its callback, replayed with its cookie, is refused
//     before any token request: after a restart and on another instance
//     too, which superid's own memory of used states cannot see.

// errSignInReplayed is a callback of a sign-in that came back before.
var errSignInReplayed = fmt.Errorf("webapp: %w: the sign-in came back before", superid.ErrLoginState)

// signInCookieName is the login cookie of the sign-in with this state:
// superid's name and a digest of the state (the state itself needs not
// be in two places).
func (s *Server) signInCookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return s.loginCookie + "-" + base64.RawURLEncoding.EncodeToString(sum[:12])
}

// startSignIn runs superid's LoginHandler and renames the login cookie it
// sets after the state of the redirect it answers with.
func (s *Server) startSignIn(login http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		login.ServeHTTP(&cookieRenamer{ResponseWriter: w, s: s}, r)
	})
}

// finishSignIn runs superid's CallbackHandler with the login cookie of the
// state that came back, once: a state the store has seen is refused here.
func (s *Server) finishSignIn(callback http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var state string
		switch r.Method {
		case http.MethodGet:
			state = r.URL.Query().Get("state")
		case http.MethodPost:
			// Read here with superid's own limit; superid then finds the
			// form parsed.
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				s.signInFailed(w, r, fmt.Errorf("webapp: %w: unreadable form", superid.ErrLoginState))
				return
			}
			state = r.PostForm.Get("state")
		}
		// superid sees no login cookie but the one of this state: a cookie
		// under superid's own name (another sign-in's, renamed by hand)
		// never reaches it.
		r = r.Clone(r.Context())
		cookies := r.Cookies()
		r.Header.Del("Cookie")
		var mine *http.Cookie
		for _, c := range cookies {
			switch {
			case state != "" && c.Name == s.signInCookieName(state):
				mine = c
			case c.Name == s.loginCookie:
			default:
				r.AddCookie(c)
			}
		}
		if mine == nil {
			// No sign-in of this state in this browser: superid refuses it
			// without a cookie, and nothing is recorded.
			callback.ServeHTTP(w, r)
			return
		}
		if err := s.store.UseSignIn(r.Context(), state, loginTimeout); err != nil {
			if errors.Is(err, store.ErrSignInUsed) {
				s.signInFailed(w, r, errSignInReplayed)
				return
			}
			s.log.Error("recording the sign-in failed", "err", err)
			s.renderErrorPage(w, r, http.StatusServiceUnavailable, "Sign-in failed",
				"The app could not record your sign-in. Please try again in a moment.", "")
			return
		}
		r.AddCookie(&http.Cookie{Name: s.loginCookie, Value: mine.Value})
		callback.ServeHTTP(&cookieRenamer{ResponseWriter: w, s: s, state: state}, r)
	})
}

// cookieRenamer renames the login cookie superid sets (or deletes) after
// the sign-in's state: the state given, or the one in the redirect to
// SuperID.
type cookieRenamer struct {
	http.ResponseWriter
	s     *Server
	state string
	done  bool
}

func (c *cookieRenamer) rename() {
	if c.done {
		return
	}
	c.done = true
	h := c.Header()
	state := c.state
	if state == "" {
		if u, err := url.Parse(h.Get("Location")); err == nil {
			state = u.Query().Get("state")
		}
	}
	lines := h.Values("Set-Cookie")
	h.Del("Set-Cookie")
	for _, line := range lines {
		ck, err := http.ParseSetCookie(line)
		if err != nil || ck.Name != c.s.loginCookie {
			h.Add("Set-Cookie", line)
			continue
		}
		if state == "" {
			// No state to name it after: not a sign-in the callback
			// would accept, so no cookie either.
			continue
		}
		ck.Name = c.s.signInCookieName(state)
		h.Add("Set-Cookie", ck.String())
	}
}

func (c *cookieRenamer) WriteHeader(code int) {
	c.rename()
	c.ResponseWriter.WriteHeader(code)
}

func (c *cookieRenamer) Write(b []byte) (int, error) {
	c.rename()
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *cookieRenamer) Unwrap() http.ResponseWriter { return c.ResponseWriter }
