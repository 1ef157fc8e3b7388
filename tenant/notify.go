package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/internal/httpx"
	"github.com/go-superoffice/superoffice/superid"
)

// ChangeType is what happened to a tenant, as SuperOffice's status
// notification names it (PROTOCOL 10).
type ChangeType int

// The documented changes. Unknown values are refused.
const (
	ChangeUpgrade        ChangeType = 0
	ChangeBackupRestored ChangeType = 1
	ChangeSuspend        ChangeType = 2
	ChangeResume         ChangeType = 3
	ChangeDelete         ChangeType = 4
	ChangeMove           ChangeType = 5
)

var changeNames = [...]string{"Upgrade", "BackupRestored", "Suspend", "Resume", "Delete", "Move"}

// String returns the change's documented name, such as "Move", or
// "ChangeType(n)" for a value SuperOffice does not document.
func (c ChangeType) String() string {
	if c >= 0 && int(c) < len(changeNames) {
		return changeNames[c]
	}
	return "ChangeType(" + strconv.Itoa(int(c)) + ")"
}

// UnmarshalJSON reads the change as a number, as SuperOffice sends it, or
// by its name.
func (c *ChangeType) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*c = ChangeType(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("ChangeType is neither a number nor a name")
	}
	for i, name := range changeNames {
		if strings.EqualFold(s, name) {
			*c = ChangeType(i)
			return nil
		}
	}
	return fmt.Errorf("unknown ChangeType %.40q", s)
}

// StateChange is one verified tenant status notification.
type StateChange struct {
	Type              ChangeType `json:"ChangeType"`
	ContextIdentifier string
	// VersionName and FileVersion name the tenant's version, after an
	// upgrade say.
	VersionName string
	FileVersion string
	// PublicEndpoint is the tenant's new host after a Move, such as
	// "sod3.superoffice.com". It is informational: the Resolver asks the
	// state API where the tenant is, and calls nothing it names.
	PublicEndpoint string
	// Expiry is when the notification's token expires.
	Expiry time.Time `json:"-"`
}

// notification is the JSON body SuperOffice posts.
type notification struct {
	ChangeType        *ChangeType // nil: missing
	ContextIdentifier string
	VersionName       string
	FileVersion       string
	PublicEndpoint    string
	Token             string
}

// StateChangeConfig configures a StateChangeHandler.
type StateChangeConfig struct {
	// Environment is the SuperOffice environment whose notifications are
	// accepted: their token must be signed by its SuperID and name its
	// issuer. Required.
	Environment superid.Environment
	// KeySet verifies the tokens; nil means the environment's key set,
	// fetched with HTTPClient. Share superid.Client.KeySet to fetch it
	// once per process.
	KeySet *superid.KeySet
	// HTTPClient fetches the key set when KeySet is nil; nil means a
	// client with a 30s timeout.
	HTTPClient *http.Client
	// Resolver is updated by each change (see StateChangeHandler); nil
	// updates nothing. Its environment must be Environment.
	Resolver *Resolver
	// OnChange is called with each verified change, after the Resolver is
	// updated; an error answers 500 (and is logged, not sent). Nil: the
	// Resolver's update is all.
	OnChange func(ctx context.Context, c *StateChange) error
	// Logger receives one line per refused notification (never its
	// token); nil is silent.
	Logger *slog.Logger
	// Now is the clock for the token's expiry; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed on exp and nbf; 0 means
	// superid.DefaultLeeway.
	Leeway time.Duration
}

// StateChangeHandler is the http.Handler for SuperOffice's tenant status
// notifications, mounted at the state change URL registered for the app
// in the developer portal. SuperOffice POSTs JSON with ChangeType,
// ContextIdentifier, VersionName, FileVersion, PublicEndpoint and Token.
//
// The handler reads at most 64 KiB and verifies Token with golang-jwt:
// RS256 signed by a key of the environment's SuperID key set, iss the
// environment's issuer, exp present and not past, nbf not in the future,
// and, when the token has a context claim
// (http://schemes.superoffice.net/identity/ctx, or ctx), that it equals
// ContextIdentifier. SuperOffice documents no audience, so none is
// checked. Anything else (not a POST, not JSON, an unknown ChangeType, no
// or a bad context identifier, an unsigned, expired or foreign token) is
// answered 4xx and changes nothing.
//
// A verified change updates the Resolver:
//
//   - Move, BackupRestored, Upgrade and Resume drop the tenant's cached
//     state, so that the next call asks the state API where the tenant is
//     and whether it runs (after a Move, no call goes to the old host and
//     meets a 421);
//   - Suspend and Delete cache the tenant as Suspended or Deleted for the
//     Resolver's NotRunningMaxTTL, so that calls fail at once with
//     ErrTenantNotRunning, without a request; after that the state API is
//     asked again.
//
// Then OnChange gets the change, and the answer is 200.
//
// The documented notification is not bound to one ChangeType by its
// token, and a token can be replayed until it expires: that is why
// Suspend and Delete last no longer than NotRunningMaxTTL, and the state
// API, not the notification, has the last word.
type StateChangeHandler struct {
	env      superid.Environment
	keys     *superid.KeySet
	resolver *Resolver
	onChange func(context.Context, *StateChange) error
	logger   *slog.Logger
	parser   *jwt.Parser
}

// maxNotification caps the body of a notification.
const maxNotification = 64 << 10

// notificationClaims are the claims of a notification's token that are
// checked. golang-jwt's NumericDate reads SuperID's string dates too.
type notificationClaims struct {
	jwt.RegisteredClaims
	// Context is SuperID's context claim; ShortContext the short name
	// some tokens use. Either, when present, must name the tenant.
	Context      *string `json:"http://schemes.superoffice.net/identity/ctx"`
	ShortContext *string `json:"ctx"`
}

// NewStateChangeHandler validates cfg; it does no I/O.
func NewStateChangeHandler(cfg StateChangeConfig) (*StateChangeHandler, error) {
	if cfg.Environment == "" {
		return nil, errors.New("tenant: StateChangeConfig.Environment is required")
	}
	env, err := superid.ParseEnvironment(string(cfg.Environment))
	if err != nil {
		return nil, fmt.Errorf("tenant: StateChangeConfig.Environment: %w", err)
	}
	if cfg.Resolver != nil {
		if cfg.Resolver.hc == nil {
			return nil, errors.New("tenant: StateChangeConfig.Resolver was not created with NewResolver")
		}
		if cfg.Resolver.Environment() != env {
			return nil, errors.New("tenant: StateChangeConfig.Resolver's environment differs from Environment")
		}
	}
	keys := cfg.KeySet
	if keys == nil {
		hc := cfg.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: 30 * time.Second}
		}
		keys = superid.NewKeySet(env.JWKSURL(), hc)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	leeway := cfg.Leeway
	if leeway <= 0 {
		leeway = superid.DefaultLeeway
	}
	return &StateChangeHandler{
		env:      env,
		keys:     keys,
		resolver: cfg.Resolver,
		onChange: cfg.OnChange,
		logger:   cfg.Logger,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithIssuer(env.Issuer()),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// ServeHTTP handles one notification, as StateChangeHandler describes.
func (h *StateChangeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h == nil || h.parser == nil {
		http.Error(w, "tenant: StateChangeHandler not created with NewStateChangeHandler", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	c, status, err := h.verify(r)
	if err != nil {
		if h.logger != nil {
			h.logger.LogAttrs(r.Context(), slog.LevelWarn, "tenant: state change refused", slog.Int("status", status), slog.String("err", err.Error()))
		}
		http.Error(w, err.Error(), status)
		return
	}
	h.resolver.Apply(c)
	if h.onChange != nil {
		if err := h.onChange(r.Context(), c); err != nil {
			if h.logger != nil {
				h.logger.LogAttrs(r.Context(), slog.LevelError, "tenant: state change handler failed",
					slog.String("context_id", c.ContextIdentifier), slog.String("change", c.Type.String()), slog.String("err", err.Error()))
			}
			http.Error(w, "the app could not handle the change", http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// verify reads and checks the notification; on failure it returns the
// status to answer and an error that quotes no token.
func (h *StateChangeHandler) verify(r *http.Request) (*StateChange, int, error) {
	body, err := httpx.ReadBody(&http.Response{Body: http.MaxBytesReader(nil, r.Body, maxNotification)}, maxNotification+1)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("tenant: state change: body too large")
		}
		return nil, http.StatusBadRequest, errors.New("tenant: state change: reading the body failed")
	}
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, http.StatusBadRequest, errors.New("tenant: state change: the body is not a notification: " + err.Error())
	}
	switch {
	case n.ChangeType == nil:
		return nil, http.StatusBadRequest, errors.New("tenant: state change: no ChangeType")
	case *n.ChangeType < ChangeUpgrade || *n.ChangeType > ChangeMove:
		return nil, http.StatusBadRequest, fmt.Errorf("tenant: state change: unknown %v", *n.ChangeType)
	case !superid.ValidContextIdentifier(n.ContextIdentifier):
		return nil, http.StatusBadRequest, fmt.Errorf("tenant: state change: ContextIdentifier %.40q is not Cust followed by digits", n.ContextIdentifier)
	case n.Token == "":
		return nil, http.StatusUnauthorized, errors.New("tenant: state change: no Token")
	}
	var claims notificationClaims
	if _, err := h.parser.ParseWithClaims(n.Token, &claims, h.keys.Keyfunc(r.Context())); err != nil {
		return nil, http.StatusUnauthorized, errors.New("tenant: state change: token: " + err.Error())
	}
	for _, ctx := range []*string{claims.Context, claims.ShortContext} {
		if ctx != nil && !strings.EqualFold(*ctx, n.ContextIdentifier) {
			return nil, http.StatusUnauthorized, fmt.Errorf("tenant: state change: the token is for another tenant than %s", n.ContextIdentifier)
		}
	}
	return &StateChange{
		Type:              *n.ChangeType,
		ContextIdentifier: n.ContextIdentifier,
		VersionName:       n.VersionName,
		FileVersion:       n.FileVersion,
		PublicEndpoint:    n.PublicEndpoint,
		Expiry:            claims.ExpiresAt.Time, // required by the parser
	}, http.StatusOK, nil
}

// Apply updates the resolver's cache for a tenant status change, as
// StateChangeHandler describes. It is for a service that receives the
// notification on one instance and passes the verified change on to the
// others; a nil Resolver or change does nothing.
func (r *Resolver) Apply(c *StateChange) {
	if r == nil || r.cache == nil || c == nil {
		return
	}
	var name StateName
	switch c.Type {
	case ChangeSuspend:
		name = StateSuspended
	case ChangeDelete:
		name = StateDeleted
	default:
		r.Forget(c.ContextIdentifier)
		return
	}
	key := strings.ToLower(c.ContextIdentifier)
	now := r.now()
	st := &State{ContextIdentifier: c.ContextIdentifier, State: name, ValidUntil: now.Add(r.offTTL)}
	// One section: a lookup either started before (its token is
	// withdrawn, so it caches nothing) or finds this state.
	r.mu.Lock()
	if old := r.cache[key]; old != nil {
		st.Endpoint, st.API = old.state.Endpoint, old.state.API
	}
	r.cache[key] = r.entry(st, st.ValidUntil, now)
	delete(r.current, key)
	r.mu.Unlock()
	r.flights.Forget(key)
}
