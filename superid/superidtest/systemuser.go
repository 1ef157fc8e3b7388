package superidtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-superoffice/superoffice/superid"
)

// The system-user exchange, as SuperID runs it (PROTOCOL.md section 4).
const (
	// claimPrefix starts every SuperOffice claim name.
	claimPrefix = "http://schemes.superoffice.net/identity/"
	// ticketLifetime is how long a ticket lives after its last use:
	// "valid for 6 hours, with a sliding expiration each time it is used".
	ticketLifetime = 6 * time.Hour
	// signedTokenWindow is how far the signed timestamp may be from the
	// emulator's clock. SuperID does not document its window.
	signedTokenWindow = 5 * time.Minute
	// defaultSystemUserJWTLifetime is the exp of system-user JWTs unless
	// WithSystemUserJWTLifetime. SuperID does not document it; id_tokens
	// live five minutes.
	defaultSystemUserJWTLifetime = 5 * time.Minute
)

// systemUserState is the exchange's part of the emulator as a whole,
// guarded by e.mu. What it keeps per tenant is in the tenant's record
// (tenantStore.sys), so that a tenant costs one map entry, not one per
// concern.
type systemUserState struct {
	clients []string // the client ids tickets were issued to; a ticket keeps the index
}

// clientLocked returns the index of clientID in clients, adding it when new.
func (s *systemUserState) clientLocked(clientID string) int32 {
	if i := slices.Index(s.clients, clientID); i >= 0 {
		return int32(i)
	}
	s.clients = append(s.clients, clientID)
	return int32(len(s.clients) - 1)
}

// sysTenant is one tenant's exchanges and live tickets, guarded by e.mu. A
// ticket is kept as its number and random part rather than as its value
// (a few hundred bytes of base64 of UTF-16): the emulator holds a ticket
// for every tenant of a demo, ten thousand of them.
type sysTenant struct {
	exchanges int32 // successful exchanges
	issued    int32 // the <n> of the latest ticket
	tickets   []liveTicket
}

type liveTicket struct {
	id      [16]byte
	n       int32
	client  int32 // in systemUserState.clients
	lastUse int64 // unix nanoseconds, by the emulator's clock
}

// idle reports how long the ticket has not been used at now.
func (tk *liveTicket) idle(now time.Time) time.Duration {
	return time.Duration(now.UnixNano() - tk.lastUse)
}

func (e *Emulator) systemUserRoutes() {
	e.route("POST /login/api/PartnerSystemUser/Authenticate", EndpointSystemUser, e.serveSystemUser)
}

// systemUserRequest is the REST body, field names as SuperOffice's
// SystemUserInfo serializes them.
type systemUserRequest struct {
	SignedSystemToken string
	ApplicationToken  string
	ContextIdentifier string
	ReturnTokenType   string
}

// systemUserResponse is SuperOffice's SystemUserResult.
type systemUserResponse struct {
	IsSuccessful bool
	Token        *string
	ErrorMessage *string
}

// The ErrorMessage strings. SuperID's own are not documented; these say
// what went wrong without echoing any credential.
const (
	msgBadRequest      = "The request body must be JSON with SignedSystemToken, ApplicationToken and ContextIdentifier."
	msgBadAppToken     = "Invalid application token."
	msgNoSystemUser    = "The application is not allowed to use system users."
	msgUnknownTenant   = "Unknown context identifier."
	msgTenantNotActive = "The tenant is not active."
	msgMalformedSigned = "The signed system token is malformed."
	msgUnknownToken    = "Unknown or revoked system user token."
	msgBadSignature    = "The signature of the signed system token is invalid."
	msgTimestamp       = "The timestamp of the signed system token is outside the allowed window. Check the clock."
	msgTokenType       = "Only ReturnTokenType JWT is supported."
)

// serveSystemUser is POST /Login/api/PartnerSystemUser/Authenticate. A
// request it cannot read at all, and a wrong application token, get a 4xx
// status; every other refusal is a 200 with IsSuccessful=false (or the
// status WithExchangeFailureStatus sets), so that clients meet both shapes
// PROTOCOL.md section 4.1 warns about.
func (e *Emulator) serveSystemUser(w http.ResponseWriter, r *http.Request) {
	now := e.now()
	// SuperID's Date header is what a client compares its clock with, so it
	// must follow the emulator's clock, not the host's.
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))

	var in systemUserRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil ||
		in.SignedSystemToken == "" || in.ApplicationToken == "" || in.ContextIdentifier == "" {
		systemUserFail(w, http.StatusBadRequest, msgBadRequest)
		return
	}
	if in.ReturnTokenType != "" && !strings.EqualFold(in.ReturnTokenType, "JWT") {
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgTokenType)
		return
	}
	token, stamp, sig, signed, ok := splitSignedToken(in.SignedSystemToken)
	if !ok {
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgMalformedSigned)
		return
	}

	e.mu.Lock()
	app := e.appBySecretLocked(in.ApplicationToken)
	if app == nil {
		e.mu.Unlock()
		systemUserFail(w, http.StatusUnauthorized, msgBadAppToken)
		return
	}
	if !app.SystemUser {
		e.mu.Unlock()
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgNoSystemUser)
		return
	}
	t := e.tenants[strings.ToLower(in.ContextIdentifier)]
	if t == nil {
		e.mu.Unlock()
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgUnknownTenant)
		return
	}
	switch t.State {
	case "Deleted", "Deleting", "DeleteFailed", "Suspended", "Provisioning", "ProvisioningFailed":
		e.mu.Unlock()
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgTenantNotActive)
		return
	}
	approved, ok := e.consents[consentKey{t.ContextIdentifier, app.ClientID}]
	if !ok || subtle.ConstantTimeCompare([]byte(approved), []byte(token)) != 1 {
		e.mu.Unlock()
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgUnknownToken)
		return
	}
	pub := app.PublicKey
	e.mu.Unlock()

	sum := sha256.Sum256([]byte(signed))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgBadSignature)
		return
	}
	// The stamp has minute resolution: a token signed at 14:05:59 says
	// 14:05, so the window reaches a minute further into the past.
	if d := now.Sub(stamp); d < -signedTokenWindow || d >= signedTokenWindow+time.Minute {
		systemUserFail(w, e.guess.exchangeRefusalStatus(), msgTimestamp)
		return
	}

	jwt, err := e.issueSystemUserJWT(t.ContextIdentifier, app.ClientID, now)
	if err != nil {
		systemUserFail(w, http.StatusInternalServerError, "Could not issue a token.")
		return
	}
	writeJSON(w, http.StatusOK, systemUserResponse{IsSuccessful: true, Token: &jwt})
}

func systemUserFail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, systemUserResponse{ErrorMessage: &msg})
}

// splitSignedToken takes "<token>.<yyyyMMddHHmm>.<base64 signature>" apart.
// The token may itself hold dots and spaces, so it splits at the last two
// dots.
func splitSignedToken(s string) (token string, stamp time.Time, sig []byte, signed string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return
	}
	signed = s[:i]
	j := strings.LastIndexByte(signed, '.')
	if j <= 0 {
		return
	}
	token, ts := signed[:j], signed[j+1:]
	if len(ts) != 12 {
		return
	}
	stamp, err := time.ParseInLocation("200601021504", ts, time.UTC)
	if err != nil {
		return
	}
	sig, err = base64.StdEncoding.DecodeString(s[i+1:])
	if err != nil {
		return
	}
	return token, stamp, sig, signed, true
}

func (e *Emulator) appBySecretLocked(secret string) *App {
	for _, a := range e.apps {
		if subtle.ConstantTimeCompare([]byte(a.ClientSecret), []byte(secret)) == 1 {
			return a
		}
	}
	return nil
}

// systemUserClaims are the system user JWT's claims (a struct rather than
// a map: the exchange is the emulator's busiest path under load).
type systemUserClaims struct {
	Iss              string `json:"iss"`
	Aud              string `json:"aud"`
	Iat              string `json:"iat"`
	Nbf              int64  `json:"nbf"`
	Exp              int64  `json:"exp"`
	Ticket           string `json:"http://schemes.superoffice.net/identity/ticket"`
	Ctx              string `json:"http://schemes.superoffice.net/identity/ctx"`
	Serial           string `json:"http://schemes.superoffice.net/identity/serial"`
	WebAPIURL        string `json:"http://schemes.superoffice.net/identity/webapi_url"`
	NetServerURL     string `json:"http://schemes.superoffice.net/identity/netserver_url"`
	CompanyName      string `json:"http://schemes.superoffice.net/identity/company_name"`
	IdentityProvider string `json:"http://schemes.superoffice.net/identity/identityprovider"`
}

// issueSystemUserJWT makes a new ticket for the tenant and app and signs
// the JWT that carries it. Claims follow the id_token's conventions: string
// iat and string custom claims, numeric nbf and exp.
func (e *Emulator) issueSystemUserJWT(contextID, clientID string, now time.Time) (string, error) {
	e.mu.Lock()
	lc := strings.ToLower(contextID)
	t := e.tenants[lc]
	if t == nil { // removed since the checks; unlikely, but not a panic
		e.mu.Unlock()
		return "", errors.New("superidtest: tenant removed during the exchange")
	}
	ticket := e.newTicketLocked(t.ContextIdentifier, clientID)
	e.storeLocked(t).sys.exchanges++
	endpoint := e.tenantEndpointLocked(t.ContextIdentifier)
	claims := systemUserClaims{
		Iss:              superid.SystemUserIssuer,
		Aud:              "spn:" + t.Serial,
		Iat:              strconv.FormatInt(now.Unix(), 10),
		Nbf:              now.Add(-time.Minute).Unix(),
		Exp:              now.Add(e.guess.jwtLifetime()).Unix(),
		Ticket:           ticket,
		Ctx:              t.ContextIdentifier,
		Serial:           t.Serial,
		WebAPIURL:        endpoint + "/api/",
		NetServerURL:     endpoint + "/Remote/Services88/",
		CompanyName:      t.CompanyName,
		IdentityProvider: "superoffice-online",
	}
	k := e.keys[len(e.keys)-1]
	e.mu.Unlock()
	return signJWT(k, claims)
}

// newTicketLocked issues a live ticket for the tenant's system user in
// the app. e.mu must be held, and the tenant must exist.
func (e *Emulator) newTicketLocked(contextID, clientID string) string {
	t := e.tenants[strings.ToLower(contextID)]
	st := &e.storeLocked(t).sys
	// Dead tickets go when a new one comes, so that a tenant exchanged
	// every few hours does not pile them up.
	now := e.now()
	live := st.tickets[:0]
	for _, tk := range st.tickets {
		if tk.idle(now) < ticketLifetime {
			live = append(live, tk)
		}
	}
	st.issued++
	tk := liveTicket{n: st.issued, client: e.sys.clientLocked(clientID), lastUse: now.UnixNano()}
	_, _ = rand.Read(tk.id[:])
	st.tickets = append(live, tk)
	return newTicket(t.ContextIdentifier, int(tk.n), tk.id)
}

// newTicket makes a ticket shaped like SuperOffice's: "7T:" and the base64
// of the UTF-16LE string "<32 hex>;<n>;<ctx>". Clients must treat it as
// opaque; the shape only makes logs and tests look familiar.
func newTicket(contextID string, n int, id [16]byte) string {
	s := hex.EncodeToString(id[:]) + ";" + strconv.Itoa(n) + ";" + contextID
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return "7T:" + base64.StdEncoding.EncodeToString(b)
}

// parseTicket takes a ticket made by newTicket apart; ok is false for
// anything else.
func parseTicket(ticket string) (contextID string, n int, id [16]byte, ok bool) {
	v, found := strings.CutPrefix(ticket, "7T:")
	if !found || len(v) > 1024 {
		return
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b)%2 != 0 {
		return
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	parts := strings.Split(string(utf16.Decode(u)), ";")
	if len(parts) != 3 || len(parts[0]) != 2*len(id) {
		return
	}
	if _, err := hex.Decode(id[:], []byte(parts[0])); err != nil {
		return
	}
	if n, err = strconv.Atoi(parts[1]); err != nil {
		return
	}
	return parts[2], n, id, true
}

// ticketLocked reports the tenant and app a live system user ticket was
// issued for, renewing its sliding expiry. e.mu must be held. A ticket is
// dead once it has been idle for six hours, after ExpireTickets, or when
// the tenant has withdrawn its approval of the app.
func (e *Emulator) ticketLocked(ticket string) (contextID, clientID string, ok bool) {
	contextID, clientID, tk, ok := e.lookupTicketLocked(ticket)
	if ok {
		tk.renew(e.now())
	}
	return contextID, clientID, ok
}

// lookupTicketLocked is ticketLocked without the renewal, for a caller
// that has more to check before the request counts as a use of the
// ticket: a refused request must not extend its life. tk points into the
// tenant's tickets and is valid while e.mu stays held.
func (e *Emulator) lookupTicketLocked(ticket string) (contextID, clientID string, tk *liveTicket, ok bool) {
	ctx, n, id, ok := parseTicket(ticket)
	if !ok {
		return "", "", nil, false
	}
	t, rec := e.tenants[strings.ToLower(ctx)], e.storeOfLocked(ctx)
	if t == nil || rec == nil {
		return "", "", nil, false
	}
	st := &rec.sys
	i := slices.IndexFunc(st.tickets, func(tk liveTicket) bool {
		return int(tk.n) == n && subtle.ConstantTimeCompare(tk.id[:], id[:]) == 1
	})
	if i < 0 {
		return "", "", nil, false
	}
	tk = &st.tickets[i]
	clientID = e.sys.clients[tk.client]
	if _, approved := e.consents[consentKey{t.ContextIdentifier, clientID}]; !approved || tk.idle(e.now()) >= ticketLifetime {
		st.tickets = slices.Delete(st.tickets, i, i+1)
		return "", "", nil, false
	}
	return t.ContextIdentifier, clientID, tk, true
}

// renew restarts the ticket's sliding expiry at now (never moving it back).
func (tk *liveTicket) renew(now time.Time) {
	if tk.idle(now) > 0 {
		tk.lastUse = now.UnixNano()
	}
}

// Exchanges returns how many system user tickets have been issued for a
// tenant (successful exchanges only; Count(EndpointSystemUser) counts every
// request).
func (e *Emulator) Exchanges(contextID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rec := e.storeOfLocked(contextID); rec != nil {
		return int(rec.sys.exchanges)
	}
	return 0
}

// ExpireTickets ends every system user ticket issued for a tenant, as six
// idle hours would: the tenant API refuses them with 401 from now on, and
// a client must exchange again.
func (e *Emulator) ExpireTickets(contextID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rec := e.storeOfLocked(contextID); rec != nil {
		rec.sys.tickets = nil
	}
}

// LiveTickets returns how many unexpired system user tickets a tenant has.
func (e *Emulator) LiveTickets(contextID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.storeOfLocked(contextID)
	if rec == nil {
		return 0
	}
	now := e.now()
	n := 0
	for _, tk := range rec.sys.tickets {
		if tk.idle(now) < ticketLifetime {
			n++
		}
	}
	return n
}
