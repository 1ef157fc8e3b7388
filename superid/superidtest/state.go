package superidtest

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ---- tenant state API ----

type wireTenantState struct {
	ContextIdentifier string
	Endpoint          string
	State             string
	IsRunning         bool
	ValidUntil        string
	Api               string
}

func (e *Emulator) serveTenantState(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	t := e.tenants[strings.ToLower(r.PathValue("ctx"))]
	if t == nil {
		e.mu.Unlock()
		writeAPIError(w, http.StatusNotFound, "unknown tenant "+r.PathValue("ctx"))
		return
	}
	valid := e.tenant.validFor
	if valid == 0 {
		valid = 10 * time.Minute
	}
	ep := e.tenantEndpointLocked(t.ContextIdentifier)
	st := wireTenantState{
		ContextIdentifier: t.ContextIdentifier,
		Endpoint:          ep,
		State:             t.State,
		IsRunning:         t.State == "Running" || t.State == "OnlineMaintenance",
		ValidUntil:        e.now().Add(valid).UTC().Format("2006-01-02T15:04:05.0000000Z"),
		Api:               ep + "/api",
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

// MoveTenant moves the tenant to the emulator's other loopback host name
// (127.0.0.1 <-> localhost, same port), as SuperOffice moves tenants between
// clusters: the state API then names the new host, and tenant API requests
// that still arrive on the old one are answered 421 Misdirected Request.
// Moving again moves it back. It works only for loopback roots. A move
// notifies the apps' state change URLs (see SetStateChangeURL) before it
// returns.
func (e *Emulator) MoveTenant(contextID string) (err error) {
	defer func() { // after the unlock below
		if err == nil {
			err = e.NotifyStateChange(contextID, StateChangeMove)
		}
	}()
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		return fmt.Errorf("superidtest: unknown tenant %q", contextID)
	}
	if t.host != "" {
		t.host = ""
		return nil
	}
	u, err := url.Parse(e.env.String())
	if err != nil {
		return fmt.Errorf("superidtest: %w", err)
	}
	switch h := u.Hostname(); {
	case h == "localhost":
		t.host = net.JoinHostPort("127.0.0.1", u.Port())
	case net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback():
		t.host = net.JoinHostPort("localhost", u.Port())
	default:
		return fmt.Errorf("superidtest: MoveTenant needs a loopback root, not %q", h)
	}
	if u.Port() == "" {
		t.host = strings.TrimSuffix(t.host, ":")
	}
	return nil
}

// ---- version (no authentication) ----

// wireVersion is what GET {Api} answers, in the shape of DOCS
// status-page.md's example.
type wireVersion struct {
	V1                string `json:"v1"`
	NetServerVersion  string
	NetServerAssembly string
	NetServerDate     string
	NetServerLabel    string
	NetServer         string
	Services          string
	ServicesCurrent   string
	Version           string
}

// serveVersion is GET /{ctx}/api: the tenant's NetServer version, which
// SuperOffice answers without credentials (PROTOCOL.md section 6.3).
func (e *Emulator) serveVersion(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	t, status, msg := e.servedTenantLocked(r)
	if t == nil {
		e.mu.Unlock()
		writeAPIError(w, status, msg)
		return
	}
	v1 := e.tenantEndpointLocked(t.ContextIdentifier) + "/api/v1/"
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, wireVersion{
		V1:                v1,
		NetServerVersion:  "10.3.9107.101",
		NetServerAssembly: "10.3.0.0",
		NetServerDate:     "2024-06-04",
		NetServerLabel:    "Release10-Emulator",
		NetServer:         "SuperOffice 10.3 NetServer 10.3 Release (Build: Release10-Emulator)",
		Services:          "Services87",
		ServicesCurrent:   "Services88",
		Version:           "v1",
	})
}
