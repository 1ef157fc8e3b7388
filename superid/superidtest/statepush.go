package superidtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// StateChange is a tenant status change, as SuperOffice numbers it in its
// notifications (PROTOCOL 10).
type StateChange int

// The documented changes.
const (
	StateChangeUpgrade        StateChange = 0
	StateChangeBackupRestored StateChange = 1
	StateChangeSuspend        StateChange = 2
	StateChangeResume         StateChange = 3
	StateChangeDelete         StateChange = 4
	StateChangeMove           StateChange = 5
)

// stateChangeTokenLifetime is how long a notification's token is valid.
const stateChangeTokenLifetime = 5 * time.Minute

// wireNotification is the JSON SuperOffice posts to an app's state change
// URL (NotificationMessage.cs).
type wireNotification struct {
	ChangeType        StateChange
	ContextIdentifier string
	VersionName       string
	FileVersion       string
	Token             string
	PublicEndpoint    string
}

// Notification is one tenant status notification the emulator sent.
type Notification struct {
	URL               string // the app's StateChangeURL
	ClientID          string // the app's
	ContextIdentifier string
	Change            StateChange
	PublicEndpoint    string // the tenant's host, after a Move
	Status            int    // the app's answer; 0 when there was none
	Err               string // why there was no answer
}

// SetStateChangeURL registers (or, with "", removes) the app's state
// change URL, where the emulator POSTs a tenant status notification when
// a test moves (MoveTenant), suspends, resumes or deletes
// (SetTenantState to Suspended, from Suspended to Running, to Deleted) a
// tenant, or calls NotifyStateChange. Every app with a URL is notified;
// client is the HTTP client the emulator posts with (nil: one with a 10s
// timeout).
func (e *Emulator) SetStateChangeURL(clientID, stateChangeURL string, client *http.Client) error {
	if stateChangeURL != "" {
		if u, err := url.Parse(stateChangeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("superidtest: state change URL %q is not an absolute http(s) URL", stateChangeURL)
		}
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.apps[clientID] == nil {
		return fmt.Errorf("superidtest: unknown app %q", clientID)
	}
	if e.push == nil {
		e.push = map[string]pushTarget{}
	}
	if stateChangeURL == "" {
		delete(e.push, clientID)
	} else {
		e.push[clientID] = pushTarget{url: stateChangeURL, client: client}
	}
	return nil
}

// pushTarget is an app's state change URL.
type pushTarget struct {
	url    string
	client *http.Client
}

// Notifications returns the notifications sent so far, oldest first.
func (e *Emulator) Notifications() []Notification {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Notification(nil), e.pushed...)
}

// NotifyStateChange sends the tenant's apps a notification of change,
// as SuperOffice does after an upgrade or a restore (and as MoveTenant and
// SetTenantState do by themselves), signed like every SuperID token. It
// returns once every app has answered (or failed to), so that a test can
// go on to what the app did; each answer is in Notifications. It fails
// only for an unknown tenant.
func (e *Emulator) NotifyStateChange(contextID string, change StateChange) error {
	e.mu.Lock()
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		e.mu.Unlock()
		return fmt.Errorf("superidtest: unknown tenant %q", contextID)
	}
	ctxID := t.ContextIdentifier
	var endpoint string
	if change == StateChangeMove {
		if u, err := url.Parse(e.tenantEndpointLocked(ctxID)); err == nil {
			endpoint = u.Host
		}
	}
	targets := make(map[string]pushTarget, len(e.push))
	for id, p := range e.push {
		targets[id] = p
	}
	e.mu.Unlock()

	for clientID, p := range targets {
		n := Notification{URL: p.url, ClientID: clientID, ContextIdentifier: ctxID, Change: change, PublicEndpoint: endpoint}
		n.Status, n.Err = e.sendNotification(p, clientID, ctxID, change, endpoint)
		e.mu.Lock()
		e.pushed = append(e.pushed, n)
		e.mu.Unlock()
	}
	return nil
}

// sendNotification posts one notification, outside e.mu: the app may
// fetch the JWKS from this emulator to verify it.
func (e *Emulator) sendNotification(p pushTarget, clientID, ctxID string, change StateChange, endpoint string) (int, string) {
	now := e.now()
	tok, err := e.SignJWT(map[string]any{
		"iss":           e.env.Issuer(),
		"aud":           clientID,
		"iat":           strconv.FormatInt(now.Unix(), 10), // a string, as SuperID writes it
		"nbf":           now.Unix() - 60,
		"exp":           now.Add(stateChangeTokenLifetime).Unix(),
		idClaim + "ctx": ctxID,
	})
	if err != nil {
		return 0, err.Error()
	}
	body, err := json.Marshal(wireNotification{
		ChangeType: change, ContextIdentifier: ctxID, VersionName: "11.0", FileVersion: "11.0.0.0",
		Token: tok, PublicEndpoint: endpoint,
	})
	if err != nil {
		return 0, err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	_ = resp.Body.Close()
	return resp.StatusCode, ""
}

// stateChangeFor is the notification a tenant state change from old to
// state sends, and false for one that sends none.
func stateChangeFor(old, state string) (StateChange, bool) {
	switch {
	case old == state:
		return 0, false
	case state == "Suspended":
		return StateChangeSuspend, true
	case state == "Deleted":
		return StateChangeDelete, true
	case old == "Suspended" && (state == "Running" || state == "OnlineMaintenance"):
		return StateChangeResume, true
	}
	return 0, false
}
