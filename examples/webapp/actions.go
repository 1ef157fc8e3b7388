package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
	"golang.org/x/oauth2"
)

// The two documented actions, "Create company with login user" and "Create
// company with system user". Each keeps its outcome as a flash and
// redirects home (post/redirect/get), which shows it once.

// actionResult is what the home page shows after an action.
type actionResult struct {
	Action  string // "login user" or "system user"
	Error   string
	Company *companyView
	Steps   []string
	Latest  []companyView
	At      time.Time
}

// companyView is a company as the page shows it.
type companyView struct {
	ID        int
	Name      string
	CreatedBy string
	Created   string
}

// systemTenant is one tenant's system-user machinery, kept across requests:
// the ticket source (one exchange, then the cached ticket) and the client.
type systemTenant struct {
	token   string // the system user token it was built for; never logged
	tickets systemuser.TicketSource
	client  *tenant.Client
}

// latestCompanies is how many of the tenant's newest companies are shown.
const latestCompanies = 5

func (s *Server) createWithLoginUser(w http.ResponseWriter, r *http.Request) {
	sess := s.postSession(w, r)
	if sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.actionTO)
	defer cancel()
	res := &actionResult{Action: "login user", At: s.now()}
	tok := &oauth2.Token{
		AccessToken: sess.Data.AccessToken, RefreshToken: sess.Data.RefreshToken,
		Expiry: sess.Data.TokenExpiry, TokenType: "Bearer",
	}
	// The source refreshes an expired access token with the refresh token.
	ts := &watchedSource{src: s.sid.TokenSource(ctx, tok)}
	tc, err := s.userClient(sess.Data.ContextIdentifier, ts)
	if err == nil {
		res.Steps = append(res.Steps, "Called the tenant's web API with your access token (Authorization: Bearer).")
		err = s.createCompany(ctx, tc, r.PostFormValue("name"), res)
	}
	if err != nil && signInLost(err) {
		s.endLostSignIn(w, r, sess, tok, res, err)
		return
	}
	if err != nil {
		res.Error = s.describe(err)
		s.log.Warn("create company with login user failed", "tenant", sess.Data.ContextIdentifier, "user", sess.Data.UserName, "err", err)
	} else {
		s.log.Info("company created with login user", "tenant", sess.Data.ContextIdentifier, "user", sess.Data.UserName, "contact_id", res.Company.ID)
	}
	// Keep a refreshed token, so the next request need not refresh again.
	if nt := ts.last(); nt != nil && nt.AccessToken != tok.AccessToken {
		s.keepTokens(r.Context(), sess.ID, tok, nt)
	}
	s.finishAction(w, r, sess, res)
}

// signInLost reports whether err means the user's tokens are no good any
// more: the tenant refused the access token, or SuperID refused to refresh
// it (expired or withdrawn sign-in, or an emulator that restarted and
// forgot it). A SuperID that could not be reached is not such a refusal.
func signInLost(err error) bool {
	if errors.Is(err, tenant.ErrUnauthorized) {
		return true
	}
	var se *superid.Error
	return errors.Is(err, superid.ErrTokenRequest) && errors.As(err, &se) &&
		se.StatusCode >= 400 && se.StatusCode < 500
}

// endLostSignIn ends a session whose tokens SuperOffice refused, and sends
// the user to sign in again: the session would otherwise look signed in
// while every action failed. If another tab stored new tokens meanwhile,
// the refusal was only of this request's older ones, and the user just
// tries again.
func (s *Server) endLostSignIn(w http.ResponseWriter, r *http.Request, sess *store.Session, used *oauth2.Token, res *actionResult, err error) {
	ctx := r.Context()
	if cur, cerr := s.store.Session(ctx, sess.ID); cerr == nil &&
		(cur.Data.AccessToken != used.AccessToken || cur.Data.RefreshToken != used.RefreshToken) {
		s.log.Info("tokens refused, but the session holds newer ones", "user", sess.Data.UserName, "err", err)
		res.Error = "Your sign-in was renewed in another tab or window meanwhile. Please try again."
		s.finishAction(w, r, sess, res)
		return
	}
	if derr := s.store.DeleteSession(ctx, sess.ID); derr != nil {
		s.log.Warn("ending the session failed", "err", derr)
	}
	s.clearSessionCookie(w)
	s.log.Info("SuperOffice refused the user's tokens; session ended", "user", sess.Data.UserName,
		"tenant", sess.Data.ContextIdentifier, "err", err)
	http.Redirect(w, r, "/?signin_expired=1", http.StatusSeeOther)
}

// watchedSource remembers the last token its source handed out, so that a
// refreshed token can be kept without asking the source again.
type watchedSource struct {
	src oauth2.TokenSource
	mu  sync.Mutex
	tok *oauth2.Token
}

func (w *watchedSource) Token() (*oauth2.Token, error) {
	t, err := w.src.Token()
	if err == nil {
		w.mu.Lock()
		w.tok = t
		w.mu.Unlock()
	}
	return t, err
}

func (w *watchedSource) last() *oauth2.Token {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tok
}

// keepTokens stores a refreshed token in the session, unless another
// request (another tab) stored newer tokens since this one read them: the
// first refresh stored wins, and a request that started with older tokens
// never puts them back. Reading and writing are two statements, not one
// compare-and-swap, so two refreshes finishing at the same instant can
// still both write; the store would need a conditional update to close
// that gap.
func (s *Server) keepTokens(ctx context.Context, sessionID string, old, nt *oauth2.Token) {
	cur, err := s.store.Session(ctx, sessionID)
	if err != nil {
		s.log.Warn("keeping the refreshed token failed", "err", err)
		return
	}
	if cur.Data.AccessToken != old.AccessToken || cur.Data.RefreshToken != old.RefreshToken {
		s.log.Debug("the session's tokens changed meanwhile; keeping those", "user", cur.Data.UserName)
		return
	}
	cur.Data.AccessToken, cur.Data.TokenExpiry = nt.AccessToken, nt.Expiry
	if nt.RefreshToken != "" {
		cur.Data.RefreshToken = nt.RefreshToken
	}
	// Zero ttl: a refresh does not extend the sign-in.
	if err := s.store.UpdateSession(ctx, sessionID, cur.Data, 0); err != nil {
		s.log.Warn("keeping the refreshed token failed", "err", err)
		return
	}
	s.log.Debug("access token refreshed", "user", cur.Data.UserName)
}

func (s *Server) createWithSystemUser(w http.ResponseWriter, r *http.Request) {
	sess := s.postSession(w, r)
	if sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.actionTO)
	defer cancel()
	res := &actionResult{Action: "system user", At: s.now()}
	err := s.systemUserAction(ctx, sess.Data.ContextIdentifier, r.PostFormValue("name"), res)
	if err != nil {
		res.Error = s.describe(err)
		s.log.Warn("create company with system user failed", "tenant", sess.Data.ContextIdentifier, "err", err)
	} else {
		s.log.Info("company created with system user", "tenant", sess.Data.ContextIdentifier, "user", sess.Data.UserName, "contact_id", res.Company.ID)
	}
	s.finishAction(w, r, sess, res)
}

// systemUserAction is steps 8-10 of the scenario for one request: sign the
// stored system user token and exchange it at SuperID for a ticket (or
// reuse the cached one), validate the JWT that carries it, and call the
// tenant with it.
func (s *Server) systemUserAction(ctx context.Context, contextID, name string, res *actionResult) error {
	t, err := s.store.Tenant(ctx, contextID)
	if errors.Is(err, store.ErrNotFound) {
		return errNotApproved
	}
	if err != nil {
		return err
	}
	if t.Status != store.StatusActive {
		// The console deactivated it (a revoked token, a deleted tenant):
		// its stored token must not be signed and sent again, and a ticket
		// cached from it is as dead.
		s.forgetSystemTenant(t.ContextIdentifier)
		return &inactiveError{reason: inactiveReason(t.TenantSummary)}
	}
	st, err := s.systemTenant(t)
	if err != nil {
		return err
	}
	start := s.now()
	ticket, err := st.tickets.Ticket(ctx)
	if err != nil {
		return err
	}
	if !ticket.IssuedAt.Before(start) {
		res.Steps = append(res.Steps,
			"Signed the tenant's system user token with the partner's private key and sent it to SuperID.",
			fmt.Sprintf("Validated the system user JWT (issuer SuperOffice AS, audience spn:%s, expiry) and took its ticket.", ticket.Serial))
	} else {
		res.Steps = append(res.Steps, fmt.Sprintf("Reused the cached system user ticket, exchanged at %s.", ticket.IssuedAt.Local().Format(time.TimeOnly)))
	}
	res.Steps = append(res.Steps, "Called the tenant's web API as the system user (Authorization: SOTicket, SO-AppToken).")
	return s.createCompany(ctx, st.client, name, res)
}

var errNotApproved = errors.New("webapp: no administrator of this tenant has approved the app yet; an administrator must sign in once")

// inactiveError is errNotApproved for a tenant that was approved once but
// is no longer active in the store; reason says why.
type inactiveError struct{ reason string }

func (e *inactiveError) Error() string {
	return "webapp: the app's approval for this tenant no longer counts (" + e.reason + "); an administrator must sign in to approve it again"
}

func (e *inactiveError) Is(target error) bool { return target == errNotApproved }

// inactiveReason says why a stored tenant is not active: its status, and
// the reason the console recorded (no secret: the tenants page shows it).
func inactiveReason(t store.TenantSummary) string {
	if t.StatusReason == "" {
		return "the tenant is " + string(t.Status)
	}
	return "the tenant is " + string(t.Status) + ": " + t.StatusReason
}

// forgetSystemTenant drops the tenant's cached system-user client, and
// with it the ticket exchanged from a token that no longer counts.
func (s *Server) forgetSystemTenant(contextID string) {
	s.sysMu.Lock()
	delete(s.sys, strings.ToLower(contextID))
	s.sysMu.Unlock()
}

// systemTenant returns the tenant's cached system-user client, building a
// new one after a re-approval changed the token.
func (s *Server) systemTenant(t *store.Tenant) (*systemTenant, error) {
	key := strings.ToLower(t.ContextIdentifier)
	s.sysMu.Lock()
	defer s.sysMu.Unlock()
	if st := s.sys[key]; st != nil && st.token == t.SystemUserToken {
		return st, nil
	}
	var opts []systemuser.ExchangeOption
	if t.Serial != "" {
		opts = append(opts, systemuser.WithSerial(t.Serial))
	}
	tickets := s.su.TicketSource(t.ContextIdentifier, t.SystemUserToken, opts...)
	tc, err := tenant.New(tenant.Config{
		Resolver:          s.resolver,
		ContextIdentifier: t.ContextIdentifier,
		Credentials:       tenant.SystemUser(tickets, s.cfg.ClientSecret),
		HTTPClient:        s.http,
		Logger:            s.log,
	})
	if err != nil {
		return nil, err
	}
	st := &systemTenant{token: t.SystemUserToken, tickets: tickets, client: tc}
	s.sys[key] = st
	return st, nil
}

// createCompany creates the company and lists the tenant's newest ones.
func (s *Server) createCompany(ctx context.Context, tc *tenant.Client, name string, res *actionResult) error {
	name = companyName(name, res.Action, s.now())
	c, err := webapi.New(tc).Contact.CreateCompany(ctx, name)
	if err != nil {
		return err
	}
	res.Company = &companyView{ID: int(c.ContactID), Name: c.Name, CreatedBy: associateName(c.CreatedBy, c.Associate)}
	page, err := tenant.List[companyRow](ctx, tc, "v1/Contact", &tenant.ListOptions{
		Select:  []string{"contactId", "name", "createdDate"},
		OrderBy: "contactId desc",
		Top:     latestCompanies,
	})
	if err != nil {
		// The company exists; only the list failed.
		res.Steps = append(res.Steps, "Listing the latest companies failed: "+s.describe(err))
		return nil
	}
	for _, row := range page.Value {
		res.Latest = append(res.Latest, companyView{ID: row.ContactID, Name: row.Name, Created: shortTime(row.CreatedDate)})
	}
	return nil
}

// companyRow is a row of the Contact list with the columns createCompany
// asks for.
type companyRow struct {
	ContactID   int    `json:"contactId"`
	Name        string `json:"name"`
	CreatedDate string `json:"createdDate"`
}

// shortTime shows a list's date column like the rest of the page, or as
// sent if it is not a time. A time without an offset is the tenant's wall
// clock, shown as it is.
func shortTime(s string) string {
	t, err := webapi.ParseTime(s)
	switch {
	case err != nil:
		return s
	case t.IsZero():
		return ""
	case t.Location() == webapi.Unspecified:
		return t.Time.Format("2 Jan 2006 15:04")
	}
	return humanTime(t.Time)
}

// companyName is the name typed in, or one that says which path made it.
func companyName(typed, action string, now time.Time) string {
	typed = strings.TrimSpace(typed)
	if typed == "" {
		return fmt.Sprintf("Created by %s %s", action, now.Format("2006-01-02 15:04:05"))
	}
	if utf8.RuneCountInString(typed) > 100 {
		typed = string([]rune(typed)[:100])
	}
	return typed
}

func associateName(as ...*webapi.Associate) string {
	for _, a := range as {
		if a == nil {
			continue
		}
		name := a.FullName
		if name == "" {
			name = a.Name
		}
		return fmt.Sprintf("%s (associate %d)", name, a.AssociateID)
	}
	return "unknown"
}

// describe turns an error into a sentence for the page. The packages'
// errors never hold a credential, so their text can be shown.
func (s *Server) describe(err error) string {
	var ie *inactiveError
	switch {
	case errors.As(err, &ie):
		return "The app's approval for this tenant no longer counts (" + ie.reason + "). An administrator must sign in to approve it again."
	case errors.Is(err, errNotApproved):
		return "No administrator of this tenant has approved the app yet. An administrator must sign in once to approve it."
	case errors.Is(err, tenant.ErrUnauthorized):
		return "The tenant refused the credentials (" + err.Error() + "). Sign out and sign in again."
	case errors.Is(err, tenant.ErrTenantNotRunning):
		return "The tenant is not running right now (" + err.Error() + "). Try again later."
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("SuperOffice did not answer within %s. Try again later.", s.actionTO)
	case errors.Is(err, superid.ErrTokenRequest):
		return "Your SuperOffice sign-in has expired (" + err.Error() + "). Sign out and sign in again."
	}
	return err.Error()
}

// finishAction keeps the result for the home page, outside the session,
// and redirects there (post/redirect/get).
func (s *Server) finishAction(w http.ResponseWriter, r *http.Request, sess *store.Session, res *actionResult) {
	nonce := s.flashes.put(sess.ID, res)
	http.Redirect(w, r, flashPath+nonce, http.StatusSeeOther)
}
