package superidtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-superoffice/superoffice/superid"
)

// App is a partner application registered with SuperID, as the developer
// portal would hold it.
type App struct {
	ClientID     string
	ClientSecret string // the application token
	// Name prefixes the system user tokens issued to tenants that approve
	// the app ("Name-<random>"); empty means ClientID.
	Name string
	// RedirectURLs are the registered redirect URLs; a sign-in request must
	// name one of them exactly.
	RedirectURLs []string
	// SystemUser gives the app system-user rights: an administrator's
	// approval then yields a system_token claim and the exchange accepts it.
	SystemUser bool
	// PublicKey verifies the app's signed system user tokens (the portal's
	// "New Certificate" keeps only this half).
	PublicKey *rsa.PublicKey
}

// Tenant is a SuperOffice Online customer installation.
type Tenant struct {
	ContextIdentifier string // CustNNNNN
	CompanyName       string // the tenant's own company name; empty: "<ctx> AS"
	Serial            string // database serial; empty: random digits
	State             string // tenant state name (Running, Suspended...); empty: Running

	host string // the host the tenant lives on now; empty: the emulator's own
}

// User is a SuperID user of one tenant.
type User struct {
	Username          string // the SuperID user name, an email address
	Password          string // what the sign-in page checks
	ContextIdentifier string // the tenant the user belongs to
	AssociateID       int    // empty: assigned
	Administrator     bool   // may approve apps for the tenant
	FullName          string // empty: derived from Username
	Initials          string // empty: derived from FullName
}

// RegisterApp registers (or replaces) a partner application.
func (e *Emulator) RegisterApp(a App) error {
	if a.ClientID == "" || a.ClientSecret == "" {
		return fmt.Errorf("superidtest: app needs a client id and a client secret")
	}
	if a.SystemUser && a.PublicKey == nil {
		return fmt.Errorf("superidtest: app %q has system-user rights but no public key", a.ClientID)
	}
	for _, u := range a.RedirectURLs {
		if p, err := url.Parse(u); err != nil || !p.IsAbs() {
			return fmt.Errorf("superidtest: app %q: redirect URL %q is not absolute", a.ClientID, u)
		}
	}
	if a.Name == "" {
		a.Name = a.ClientID
	}
	a.RedirectURLs = append([]string(nil), a.RedirectURLs...)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.apps[a.ClientID] = &a
	return nil
}

// AddTenant adds (or replaces the settings of) a tenant.
func (e *Emulator) AddTenant(t Tenant) error {
	if !superid.ValidContextIdentifier(t.ContextIdentifier) {
		return fmt.Errorf("superidtest: context identifier %q is not Cust followed by digits", t.ContextIdentifier)
	}
	if t.CompanyName == "" {
		t.CompanyName = t.ContextIdentifier + " AS"
	}
	if t.Serial == "" {
		n, err := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
		if err != nil {
			return fmt.Errorf("superidtest: serial: %w", err)
		}
		t.Serial = fmt.Sprint(1_000_000_000 + n.Int64())
	}
	if t.State == "" {
		t.State = "Running"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tenants[strings.ToLower(t.ContextIdentifier)] = &t
	return nil
}

// AddUser adds (or replaces) a user of an existing tenant.
func (e *Emulator) AddUser(u User) error {
	if u.Username == "" || u.Password == "" {
		return fmt.Errorf("superidtest: user needs a user name and a password")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tenants[strings.ToLower(u.ContextIdentifier)] == nil {
		return fmt.Errorf("superidtest: user %q: unknown tenant %q", u.Username, u.ContextIdentifier)
	}
	if u.AssociateID == 0 {
		// len+5 alone repeats an id once a user is replaced or was given
		// one explicitly; skip ids the tenant's other users hold.
		u.AssociateID = len(e.users) + 5
		for e.associateTakenLocked(u.ContextIdentifier, u.AssociateID, u.Username) {
			u.AssociateID++
		}
	}
	if u.FullName == "" {
		u.FullName = u.Username
		if i := strings.IndexByte(u.FullName, '@'); i > 0 {
			u.FullName = u.FullName[:i]
		}
	}
	if u.Initials == "" {
		for _, f := range strings.Fields(strings.NewReplacer(".", " ", "_", " ", "-", " ").Replace(u.FullName)) {
			// The first letter, not byte: f[:1] of "Øyvind" is half a rune.
			r, _ := utf8.DecodeRuneInString(f)
			u.Initials += string(unicode.ToUpper(r))
		}
	}
	e.users[strings.ToLower(u.Username)] = &u
	return nil
}

// associateTakenLocked reports whether a user of tenant contextID other
// than username has associate id id.
func (e *Emulator) associateTakenLocked(contextID string, id int, username string) bool {
	for _, o := range e.users {
		if o.AssociateID == id && strings.EqualFold(o.ContextIdentifier, contextID) && !strings.EqualFold(o.Username, username) {
			return true
		}
	}
	return false
}

// Approve records that an administrator of the tenant approved the app
// and returns the tenant's system user token for it: the same token each
// time, until RevokeApproval. Tests that need no sign-in use it directly.
func (e *Emulator) Approve(contextID, clientID string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.approveLocked(contextID, clientID)
}

func (e *Emulator) approveLocked(contextID, clientID string) (string, error) {
	t := e.tenants[strings.ToLower(contextID)]
	a := e.apps[clientID]
	switch {
	case t == nil:
		return "", fmt.Errorf("superidtest: unknown tenant %q", contextID)
	case a == nil:
		return "", fmt.Errorf("superidtest: unknown app %q", clientID)
	case !a.SystemUser:
		return "", fmt.Errorf("superidtest: app %q has no system-user rights", clientID)
	}
	return e.consentLocked(t, a), nil
}

// consentLocked returns the tenant's system user token for the app,
// issuing one ("Name-<random>") when the tenant has not approved it yet.
// e.mu must be held.
func (e *Emulator) consentLocked(t *Tenant, a *App) string {
	k := consentKey{t.ContextIdentifier, a.ClientID}
	if tok, ok := e.consents[k]; ok {
		return tok
	}
	tok := a.Name + "-" + randomString(10)
	e.consents[k] = tok
	return tok
}

// RevokeApproval withdraws the tenant's approval of the app: its system
// user token and the tickets issued to it stop working, and a new
// approval issues a new token.
func (e *Emulator) RevokeApproval(contextID, clientID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		return
	}
	delete(e.consents, consentKey{t.ContextIdentifier, clientID})
	// The tickets go now, not when next used: a ticket checked only
	// against the approval would come back to life with a new approval.
	if rec, c := e.storeOfLocked(t.ContextIdentifier), slices.Index(e.sys.clients, clientID); rec != nil && c >= 0 {
		rec.sys.tickets = slices.DeleteFunc(rec.sys.tickets, func(tk liveTicket) bool { return tk.client == int32(c) })
	}
}

// SetTenantState changes a tenant's state (Running, OnlineMaintenance,
// OfflineMaintenance, Suspended, Deleted, MigrationPending...). Suspended,
// Deleted, and Running after Suspended notify the apps' state change URLs
// (see SetStateChangeURL) before it returns.
func (e *Emulator) SetTenantState(contextID, state string) error {
	e.mu.Lock()
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		e.mu.Unlock()
		return fmt.Errorf("superidtest: unknown tenant %q", contextID)
	}
	old := t.State
	t.State = state
	e.mu.Unlock()
	if change, ok := stateChangeFor(old, state); ok {
		return e.NotifyStateChange(contextID, change)
	}
	return nil
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func rsaSign(k *rsa.PrivateKey, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
}

// TenantEndpoint is the root URL of the tenant's installation, such as
// http://127.0.0.1:8081/Cust12345 (the state API's Endpoint).
func (e *Emulator) TenantEndpoint(contextID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tenantEndpointLocked(contextID)
}

func (e *Emulator) tenantEndpointLocked(contextID string) string {
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		return ""
	}
	root := e.env.String()
	if t.host != "" {
		u, _ := url.Parse(root)
		u.Host = t.host
		root = u.String()
	}
	return root + "/" + t.ContextIdentifier
}

// WebAPIURL is the tenant's REST base URL, ending in /api/, as the
// webapi_url claim gives it.
func (e *Emulator) WebAPIURL(contextID string) string {
	if ep := e.TenantEndpoint(contextID); ep != "" {
		return ep + "/api/"
	}
	return ""
}

// NetServerURL is the tenant's SOAP base URL, as the netserver_url claim
// gives it.
func (e *Emulator) NetServerURL(contextID string) string {
	if ep := e.TenantEndpoint(contextID); ep != "" {
		return ep + "/Remote/Services88/"
	}
	return ""
}

// RestoreApproval records an approval with a known system user token, so
// that an emulator started afresh (the examples' local mode) honours the
// tokens a partner database already holds. It fails if the tenant or app
// is unknown or the app has no system-user rights.
func (e *Emulator) RestoreApproval(contextID, clientID, systemUserToken string) error {
	if systemUserToken == "" {
		return fmt.Errorf("superidtest: empty system user token")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.approveLocked(contextID, clientID); err != nil {
		return err
	}
	t := e.tenants[strings.ToLower(contextID)]
	e.consents[consentKey{t.ContextIdentifier, clientID}] = systemUserToken
	return nil
}
