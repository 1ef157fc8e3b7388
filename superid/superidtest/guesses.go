package superidtest

import (
	"net/http"
	"strings"
	"time"
)

// guesses holds the emulator's choice for each behaviour PROTOCOL.md marks
// UNCERTAIN, so that one place says what is guessed; the package doc lists
// them with the Option that picks the other answer. Zero values are the
// defaults.
type guesses struct {
	// exchangeRefusal is the status of an exchange refused for a reason
	// other than an unreadable body or a wrong application token; 0: 200
	// with IsSuccessful=false (PROTOCOL.md section 4.1).
	exchangeRefusal int
	// systemUserJWTLifetime is the exp of system-user JWTs; 0:
	// defaultSystemUserJWTLifetime (section 5.2).
	systemUserJWTLifetime time.Duration
	// systemTokenAdminsOnly puts system_token only into administrators'
	// id_tokens; false: into every user's once the tenant approved the app
	// (section 2).
	systemTokenAdminsOnly bool
	// caseSensitivePaths serves SuperID's paths only in their documented
	// casing; false: /login and /Login alike (section 1.2).
	caseSensitivePaths bool
}

// WithExchangeFailureStatus makes the system-user exchange answer its
// refusals (an unknown or revoked system user token, a bad signature, a
// stale timestamp, an unknown or inactive tenant, an app without
// system-user rights) with status and IsSuccessful=false, instead of 200
// with IsSuccessful=false. SuperOffice does not document which it uses
// (PROTOCOL.md section 4.1), so clients must handle both. A status other
// than 200 or 400-599 leaves the default.
func WithExchangeFailureStatus(status int) Option {
	return func(e *Emulator) {
		if status == http.StatusOK || status >= 400 && status <= 599 {
			e.guess.exchangeRefusal = status
		}
	}
}

// WithSystemUserJWTLifetime sets how long the system-user JWTs the exchange
// issues are valid (default 5 minutes, like an id_token). SuperOffice does
// not document it (PROTOCOL.md section 5.2). A d of 0 or less leaves the
// default.
func WithSystemUserJWTLifetime(d time.Duration) Option {
	return func(e *Emulator) {
		if d > 0 {
			e.guess.systemUserJWTLifetime = d
		}
	}
}

// WithSystemTokenForAdministratorsOnly puts the system_token claim only
// into administrators' id_tokens. By default every user of a tenant that
// approved a system-user app gets it: SuperOffice documents the claim as
// present "after admin consent" but not whether it depends on who signs
// in (PROTOCOL.md section 2).
func WithSystemTokenForAdministratorsOnly() Option {
	return func(e *Emulator) { e.guess.systemTokenAdminsOnly = true }
}

// WithCaseSensitivePaths serves SuperID's endpoints only in the casing
// SuperOffice documents: /login/... for discovery, keys and sign-in, and
// /Login/api/PartnerSystemUser/Authenticate for the exchange; any other
// casing is 404. By default /login and /Login are the same, as SuperOffice's
// samples suggest but do not promise (PROTOCOL.md section 1.2).
func WithCaseSensitivePaths() Option {
	return func(e *Emulator) { e.guess.caseSensitivePaths = true }
}

// exchangeRefusalStatus is the status of an exchange refusal.
func (g guesses) exchangeRefusalStatus() int {
	if g.exchangeRefusal == 0 {
		return http.StatusOK
	}
	return g.exchangeRefusal
}

// jwtLifetime is the lifetime of a system-user JWT.
func (g guesses) jwtLifetime() time.Duration {
	if g.systemUserJWTLifetime == 0 {
		return defaultSystemUserJWTLifetime
	}
	return g.systemUserJWTLifetime
}

// servesPath reports whether ServeHTTP serves path, which starts with
// /login/ in some casing: always, unless WithCaseSensitivePaths, which
// serves the exchange under /Login/api/ and everything else under /login/
// only, as documented.
func (g guesses) servesPath(path string) bool {
	if !g.caseSensitivePaths {
		return true
	}
	if len(path) >= 11 && strings.EqualFold(path[7:11], "api/") {
		return strings.HasPrefix(path, "/Login/api/")
	}
	return strings.HasPrefix(path, "/login/")
}
