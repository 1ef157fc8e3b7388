package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
	"golang.org/x/oauth2"
)

// Session values beyond store.SessionData's own fields.
const (
	valFullName = "full_name"
	valCompany  = "company"
)

// signedIn runs after superid verified the sign-in (scenario steps 4-6):
// an administrator's approval brings the tenant's system user token, which
// is stored; then the browser gets a new session.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, l *superid.Login) {
	ctx := r.Context()
	c := l.Claims
	approved := false
	if c.SystemUserToken != "" && s.newApproval(ctx, c) {
		// Only an administrator approves; anyone else's sign-in that brings
		// a token the app has not seen (the tenant approved it elsewhere,
		// in the App Store say) stores it without naming them.
		by := ""
		if c.IsAdministrator {
			by = c.Subject
		}
		err := s.store.UpsertTenant(ctx, store.Approval{
			ContextIdentifier: c.ContextIdentifier,
			SystemUserToken:   c.SystemUserToken,
			Serial:            c.Serial,
			WebAPIURL:         c.WebAPIURL,
			CompanyName:       c.CompanyName,
			ApprovedBy:        by,
			ApprovedAt:        s.now(),
		})
		if err != nil {
			s.log.Error("storing the tenant's approval failed", "tenant", c.ContextIdentifier, "err", err)
			s.renderError(w, r, http.StatusInternalServerError,
				"You approved the app, but it could not store the approval. Please sign in again.", "")
			return
		}
		s.log.Info("tenant approved the app", "tenant", c.ContextIdentifier, "by", c.Subject)
		approved = true
	}
	// The tenant's webhook: subscribed at an approval, and at a sign-in
	// when this process has not yet (or failed to). A failure does not
	// fail the sign-in; the home page shows it.
	s.ensureWebhookAtSignIn(ctx, l, approved)

	data := store.SessionData{
		UserName:          c.Subject,
		Email:             c.Email,
		ContextIdentifier: c.ContextIdentifier,
		AssociateID:       c.AssociateID,
		IsAdministrator:   c.IsAdministrator,
		AccessToken:       l.Token.AccessToken,
		RefreshToken:      l.Token.RefreshToken,
		TokenExpiry:       l.Token.Expiry,
		CSRFToken:         randomToken(),
		Values:            map[string]string{valCompany: c.CompanyName},
	}
	if name := s.fullName(ctx, l); name != "" {
		data.Values[valFullName] = name
	}

	// A new session id at every sign-in: an id planted or seen before the
	// sign-in is worth nothing after it.
	if old, err := r.Cookie(s.cookieName()); err == nil && old.Value != "" {
		if err := s.store.DeleteSession(ctx, old.Value); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("ending the previous session failed", "err", err)
		}
	}
	id, err := s.store.CreateSession(ctx, data, s.ttl)
	if err != nil {
		s.log.Error("creating a session failed", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "You are signed in at SuperOffice, but the app could not start a session. Please try again.", "")
		return
	}
	s.setSessionCookie(w, id)
	s.log.Info("signed in", "user", c.Subject, "tenant", c.ContextIdentifier, "administrator", c.IsAdministrator)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// newApproval reports whether the id_token's system user token is news:
// SuperID sends it at every sign-in once the tenant approved the app, so
// only a token the store does not hold yet marks an approval.
func (s *Server) newApproval(ctx context.Context, c *superid.Claims) bool {
	t, err := s.store.Tenant(ctx, c.ContextIdentifier)
	switch {
	case err != nil:
		return true // unknown or unreadable: store it
	case t.SystemUserToken != c.SystemUserToken:
		return true // approved again: SuperID issued another token
	}
	// The same token for a deactivated tenant is the one SuperID refused,
	// or the tenant's that was deleted: only an administrator's sign-in,
	// the approval page's, brings it back. Once approved, SuperID sends
	// the token at everyone's sign-in.
	return t.Status != store.StatusActive && c.IsAdministrator
}

// fullName asks the tenant who the user is, to greet them by name. It is a
// nicety: a failure only logs.
func (s *Server) fullName(ctx context.Context, l *superid.Login) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tc, err := s.userClient(l.Claims.ContextIdentifier, s.sid.TokenSource(ctx, l.Token))
	if err != nil {
		return ""
	}
	p, err := webapi.New(tc).UserAgent.CurrentPrincipal(ctx)
	if err != nil {
		s.log.Warn("reading the signed-in user failed", "tenant", l.Claims.ContextIdentifier, "err", err)
		return ""
	}
	return p.FullName
}

// signInMessage is what the page says for one of SuperID's error codes.
type signInMessage struct {
	status int
	text   string
}

// signInMessages are fixed sentences for SuperID's error codes. The page
// never shows error_description: anyone can craft a link to the callback
// with a description that reads like advice ("call this number"), and
// even escaped it would appear to come from the app.
var signInMessages = map[string]signInMessage{
	"access_denied":           {http.StatusForbidden, "Access was denied: the app was not approved, or you declined to sign in."},
	"consent_required":        {http.StatusForbidden, "SuperOffice needs your consent before the app can sign you in. Sign in again and accept."},
	"login_required":          {http.StatusUnauthorized, "SuperOffice needs you to sign in again."},
	"invalid_request":         {http.StatusBadRequest, "SuperOffice could not accept the app's sign-in request. Please start again; if it keeps happening, tell the app's provider."},
	"server_error":            {http.StatusBadGateway, "SuperOffice had a problem signing you in. Please try again."},
	"temporarily_unavailable": {http.StatusServiceUnavailable, "SuperOffice is temporarily unavailable. Please try again in a few minutes."},
}

// notApprovedYet is the message for access_denied while no tenant has
// approved the app.
const notApprovedYet = "Access was denied: an administrator must approve the app first."

// anyApproval reports whether some tenant approved the app (and still
// counts); when the store cannot tell, it says yes, and the page keeps to
// the plain message.
func (s *Server) anyApproval(ctx context.Context) bool {
	c, err := s.store.Counts(ctx, time.Time{})
	if err != nil {
		s.log.Warn("counting the approvals failed", "err", err)
		return true
	}
	return c.Active > 0
}

// signInGeneric is the message for any other code.
var signInGeneric = signInMessage{http.StatusBadRequest, "SuperOffice could not sign you in. Please try again."}

// signInFailed shows a failed sign-in as a page with a fixed message. What
// SuperID said in words goes to the log, quoted, never to the page; the
// page names only a code it knows.
func (s *Server) signInFailed(w http.ResponseWriter, r *http.Request, err error) {
	var se *superid.Error
	if errors.Is(err, superid.ErrAuthorization) && errors.As(err, &se) && se.Code != "" {
		m, known := signInMessages[se.Code]
		code := se.Code
		if !known {
			m, code = signInGeneric, ""
		}
		s.log.Info("SuperID refused the sign-in",
			slog.String("error", strconv.QuoteToASCII(se.Code)),
			slog.String("error_description", strconv.QuoteToASCII(se.Description)))
		hint := ""
		if code == "access_denied" && !s.anyApproval(r.Context()) {
			// SuperID refuses everyone but an administrator until the app
			// is approved: say so, rather than leave the user guessing.
			m.text = notApprovedYet
			hint = "Ask an administrator of your company's SuperOffice to sign in here once and approve the app; then sign in again."
			if s.cfg.Local {
				for _, u := range local.DemoUsers {
					if u.Administrator {
						hint = "Sign in once as the demo administrator, " + u.Username + " (password " + u.Password + "), and approve the app; then sign in again as anyone."
						break
					}
				}
			}
		}
		s.renderErrorHint(w, r, m.status, "Sign-in failed", m.text, code, hint)
		return
	}
	status, msg := http.StatusBadGateway, "SuperOffice's answer could not be used. Please try again."
	if errors.Is(err, superid.ErrLoginState) {
		status, msg = http.StatusBadRequest, "This sign-in is unknown, expired or already finished. Please start again."
	}
	s.log.Warn("sign-in failed", "err", err)
	s.renderErrorPage(w, r, status, "Sign-in failed", msg, "")
}

// logout ends the session here. The SuperID sign-in stays, as in the
// documented sample: the next sign-in may not ask for a password.
//
// Without a live session (expired, deleted, or never there) there is
// nothing a forged form could end: the stale cookie is cleared and the
// browser goes home, rather than being told its form expired.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	sess := s.session(r)
	if sess == nil {
		s.clearSessionCookie(w)
		http.Redirect(w, r, "/?signed_out=1", http.StatusSeeOther)
		return
	}
	if s.csrfSession(w, r, sess) == nil {
		return
	}
	if err := s.store.DeleteSession(r.Context(), sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("deleting the session failed", "err", err)
	}
	s.clearSessionCookie(w)
	s.log.Info("signed out", "user", sess.Data.UserName, "tenant", sess.Data.ContextIdentifier)
	http.Redirect(w, r, "/?signed_out=1", http.StatusSeeOther)
}

// userClient is a tenant client acting as the signed-in user.
func (s *Server) userClient(contextID string, ts oauth2.TokenSource) (*tenant.Client, error) {
	return tenant.New(tenant.Config{
		Resolver:          s.resolver,
		ContextIdentifier: contextID,
		Credentials:       tenant.AccessToken(ts),
		HTTPClient:        s.http,
		Logger:            s.log,
	})
}
