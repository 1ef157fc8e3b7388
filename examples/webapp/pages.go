package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page, each with the shared layout.
type pages struct{ byName map[string]*template.Template }

var pageFuncs = template.FuncMap{
	// when shows a time for people, or "never" for zero.
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return humanTime(t)
	},
}

// humanTime shows a time as people write it, in the server's zone, to the
// minute: "7 Dec 2026 19:46".
func humanTime(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04") }

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{"home", "signin", "tenants", "error"} {
		t, err := template.New("layout.html").Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("webapp: templates: %w", err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// layoutData is what every page has: the nav needs the session and its
// CSRF token for the sign-out form.
type layoutData struct {
	Title    string
	SignedIn bool
	User     string
	CSRF     string
	Local    bool
}

func (s *Server) layout(title string, sess *store.Session) layoutData {
	d := layoutData{Title: title, Local: s.cfg.Local}
	if sess != nil {
		d.SignedIn, d.User, d.CSRF = true, sess.Data.UserName, sess.Data.CSRFToken
	}
	return d
}

// render writes a page whole or, if the template fails, a plain error:
// never half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].Execute(&buf, data); err != nil {
		s.log.Error("rendering a page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type signinData struct {
	layoutData
	SignedOut bool
	Expired   bool // SuperOffice refused the user's tokens: sign in again
	DemoUsers []local.DemoUser
	DemoCtx   string
}

type homeData struct {
	layoutData
	FullName        string
	UserName        string
	Email           string
	AssociateID     int
	IsAdministrator bool
	ContextID       string
	Company         string
	State           string // the tenant state API's answer
	StateError      string
	Endpoint        string
	Tenant          *store.TenantSummary // nil: not approved, or no longer
	Inactive        string               // why a stored approval no longer counts; empty: it counts, or there is none
	Result          *actionResult
	Events          []eventView // the tenant's recent webhook events, newest first
	EventsError     string
	Hook            *hookStatus // the last subscription of the tenant's webhook; nil: none in this process
}

// home is the sign-in page for visitors and, once signed in, the user,
// the tenant and the two actions (with the last one's outcome).
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	sess := s.session(r)
	if sess == nil {
		q := r.URL.Query()
		d := signinData{layoutData: s.layout("Sign in", nil), SignedOut: q.Get("signed_out") != "", Expired: q.Get("signin_expired") != ""}
		if s.cfg.Local {
			d.DemoUsers, d.DemoCtx = local.DemoUsers, local.DemoContextID
		}
		s.render(w, http.StatusOK, "signin", d)
		return
	}
	ctx := r.Context()
	sd := sess.Data
	d := homeData{
		layoutData:      s.layout("Home", sess),
		FullName:        sd.Values[valFullName],
		UserName:        sd.UserName,
		Email:           sd.Email,
		AssociateID:     sd.AssociateID,
		IsAdministrator: sd.IsAdministrator,
		ContextID:       sd.ContextIdentifier,
		Company:         sd.Values[valCompany],
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	state, err := s.resolver.Lookup(lctx, sd.ContextIdentifier)
	cancel()
	if err != nil {
		d.StateError = err.Error()
		s.log.Warn("tenant state lookup failed", "tenant", sd.ContextIdentifier, "err", err)
	} else {
		d.State, d.Endpoint = string(state.State), state.Endpoint
	}
	if t, err := s.store.Tenant(ctx, sd.ContextIdentifier); err == nil && t.Status != store.StatusActive {
		d.Inactive = inactiveReason(t.TenantSummary)
	} else if err == nil {
		sum := t.TenantSummary // the page gets no field that could hold the token
		d.Tenant = &sum
	} else if !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("reading the stored tenant failed", "tenant", sd.ContextIdentifier, "err", err)
	}
	d.Events, d.EventsError = s.recentEventsView(ctx, sd.ContextIdentifier)
	if st, ok := s.hookStatus(sd.ContextIdentifier); ok {
		d.Hook = &st
	}
	// Shown once: take forgets it, so a reload shows the page without it.
	d.Result = s.flashes.take(sess.ID, r.URL.Query().Get("done"))
	s.render(w, http.StatusOK, "home", d)
}

type tenantsData struct {
	layoutData
	Tenants []store.TenantSummary
	All     bool // every tenant, not only the user's
	Error   string
}

// tenants lists the stored tenants: when and by whom they approved, and
// how the console's last run went. Nothing secret is in TenantSummary.
func (s *Server) tenants(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	sess := s.session(r)
	if sess == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d := tenantsData{layoutData: s.layout("Tenants", sess), All: s.all}
	list, err := s.store.ListTenants(r.Context())
	if err != nil {
		s.log.Error("listing tenants failed", "err", err)
		d.Error = "The tenants could not be read."
	}
	for _, t := range list {
		if s.all || strings.EqualFold(t.ContextIdentifier, sess.Data.ContextIdentifier) {
			d.Tenants = append(d.Tenants, t)
		}
	}
	s.render(w, http.StatusOK, "tenants", d)
}

type errorData struct {
	layoutData
	Status  int
	Message string
	Detail  string
	Hint    string // what to do next, beyond the message; the app's own words
}

// renderError shows a failure as a page. detail is an error code the app
// knows (never free text from elsewhere), shown beside the message.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg, detail string) {
	heading := "Something went wrong"
	switch status {
	case http.StatusNotFound:
		heading = "Not found"
	case http.StatusForbidden:
		heading = "Not allowed"
	}
	s.renderErrorPage(w, r, status, heading, msg, detail)
}

func (s *Server) renderErrorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg, detail string) {
	s.renderErrorHint(w, r, status, heading, msg, detail, "")
}

// renderErrorHint is renderErrorPage with a hint of what to do next.
func (s *Server) renderErrorHint(w http.ResponseWriter, r *http.Request, status int, heading, msg, detail, hint string) {
	noStore(w)
	s.render(w, status, "error", errorData{
		layoutData: s.layout(heading, s.session(r)),
		Status:     status, Message: msg, Detail: detail, Hint: hint,
	})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound, "There is no page here.", "")
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
