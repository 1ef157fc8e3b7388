package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

// ErrGone, returned by Config.Handle (wrapped or not), makes the Handler
// answer 410 Gone, which tells SuperOffice to stop the webhook at once:
// for a tenant that has uninstalled the app, say.
var ErrGone = errors.New("webhook: receiver gone")

// ErrUnknownReceiver, returned by Config.Secret, makes the Handler answer
// 404: the request names no tenant this app serves.
var ErrUnknownReceiver = errors.New("webhook: unknown receiver")

// DefaultMaxBody is the body size limit of a Handler whose Config.MaxBody
// is 0: ample for a payload of a row's field values.
const DefaultMaxBody = 1 << 20

// Config configures a Handler. Secret and Handle are required.
type Config struct {
	// Secret returns the webhook secret the request must be signed with,
	// found from the request alone (its URL): see DerivedSecret for a
	// scheme that needs no storage. An error wrapping ErrUnknownReceiver
	// is answered 404, any other error 500; an empty secret is refused
	// (401), never taken as "unsigned is fine". The body has not been
	// read yet when it is called.
	Secret func(r *http.Request) ([]byte, error)
	// Handle is the app: it is called with each verified, parsed event
	// that is not a test and not a duplicate. Return nil only when the
	// event is dealt with (stored, queued): only then does SuperOffice
	// get 200; an error makes it retry, and ErrGone stops the webhook.
	// ctx is the request's.
	Handle func(ctx context.Context, ev *Event) error
	// MaxBody caps the body in bytes; a larger one is answered 413.
	// 0 means DefaultMaxBody.
	MaxBody int64
	// Dedupe drops deliveries whose EventId was handled already. Nil
	// means a NewMemoryDedupe(0) of the Handler's own.
	Dedupe Dedupe
	// Logger receives one line per refused or failed delivery (never a
	// secret, signature or body). Nil means no logging.
	Logger *slog.Logger
}

// Handler receives SuperOffice webhook deliveries: an http.Handler to
// mount at the webhooks' TargetUrl. It checks the method (POST), the
// content type (JSON) and the size before reading, verifies the signature
// over the raw body before parsing it, answers the test event 200 without
// calling the app, drops an EventId it has handled, and answers 200 only
// when the app's Handle succeeded. A request it refuses (method, type,
// size, signature, body) gets a 4xx with a short text body saying why,
// and never reaches the app.
type Handler struct {
	secret  func(r *http.Request) ([]byte, error)
	handle  func(ctx context.Context, ev *Event) error
	maxBody int64
	dedupe  Dedupe
	log     *slog.Logger
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler for cfg. It does no I/O.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Secret == nil:
		return nil, errors.New("webhook: Config.Secret is required")
	case cfg.Handle == nil:
		return nil, errors.New("webhook: Config.Handle is required")
	case cfg.MaxBody < 0:
		return nil, errors.New("webhook: Config.MaxBody must not be negative")
	}
	h := &Handler{secret: cfg.Secret, handle: cfg.Handle, maxBody: cfg.MaxBody, dedupe: cfg.Dedupe, log: cfg.Logger}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.dedupe == nil {
		h.dedupe = NewMemoryDedupe(0)
	}
	return h, nil
}

// ServeHTTP implements http.Handler. A Handler not made by New answers
// every request 500.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h == nil || h.secret == nil {
		http.Error(w, "webhook: Handler not created with New", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "webhook: method must be POST", nil)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || !isJSON(mt) {
		h.refuse(w, r, http.StatusUnsupportedMediaType, "webhook: Content-Type must be application/json", nil)
		return
	}
	if r.ContentLength > h.maxBody {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, "webhook: body too large", nil)
		return
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		h.refuse(w, r, http.StatusUnauthorized, "webhook: unsigned request", ErrNoSignature)
		return
	}
	secret, err := h.secret(r)
	if err != nil {
		if errors.Is(err, ErrUnknownReceiver) {
			h.refuse(w, r, http.StatusNotFound, "webhook: unknown receiver", err)
			return
		}
		h.refuse(w, r, http.StatusInternalServerError, "webhook: no secret for this receiver", err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, "webhook: body too large", nil)
			return
		}
		h.refuse(w, r, http.StatusBadRequest, "webhook: cannot read body", err)
		return
	}
	status, msg, err := h.deliver(r.Context(), secret, body, sig, r.Header.Get("X-SuperOffice-EventId"))
	if status != http.StatusOK {
		h.refuse(w, r, status, msg, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// deliver is the work per delivery once the body is read: verify, parse,
// dedupe, call the app. It returns the status to answer and, for a
// refusal, the text and cause.
func (h *Handler) deliver(ctx context.Context, secret, body []byte, sig, headerID string) (int, string, error) {
	if err := Verify(secret, body, sig); err != nil {
		return http.StatusUnauthorized, "webhook: signature check failed", err
	}
	ev, err := Parse(body)
	if err != nil {
		return http.StatusBadRequest, "webhook: body is not a webhook event", err
	}
	if ev.IsTest() {
		return http.StatusOK, "", nil
	}
	// The body's EventId is signed; the header's is not, and the test
	// event of the documentation shows the two differ.
	id := ev.EventID
	if id == "" {
		id = headerID
	}
	if id != "" {
		fresh, err := h.dedupe.Begin(ctx, id)
		if errors.Is(err, ErrInProgress) {
			return http.StatusConflict, "webhook: event is being handled; try again later", err
		}
		if err != nil {
			return http.StatusServiceUnavailable, "webhook: cannot check for duplicates", err
		}
		if !fresh {
			return http.StatusOK, "", nil
		}
	}
	err = h.run(ctx, id, ev)
	if id != "" {
		// The app's answer is settled; record it even if the request's
		// ctx has ended meanwhile.
		if derr := h.dedupe.Done(context.WithoutCancel(ctx), id, err == nil); derr != nil && err == nil {
			h.logf(ctx, "webhook: recording a handled event failed", derr)
		}
	}
	switch {
	case err == nil:
		return http.StatusOK, "", nil
	case errors.Is(err, ErrGone):
		return http.StatusGone, "webhook: receiver gone", err
	}
	return http.StatusInternalServerError, "webhook: the app failed to handle the event", err
}

// run calls the app. Should it panic, the claim on id is given up before
// the panic goes on (to net/http, which ends the request), so that
// SuperOffice's retry reaches the app rather than a 409 for good.
func (h *Handler) run(ctx context.Context, id string, ev *Event) error {
	if id != "" {
		defer func() {
			if p := recover(); p != nil {
				_ = h.dedupe.Done(context.WithoutCancel(ctx), id, false)
				panic(p)
			}
		}()
	}
	return h.handle(ctx, ev)
}

func isJSON(mt string) bool {
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string, cause error) {
	h.logf(r.Context(), msg, cause, slog.Int("status", status), slog.String("path", r.URL.Path))
	http.Error(w, msg, status)
}

func (h *Handler) logf(ctx context.Context, msg string, cause error, attrs ...slog.Attr) {
	if h.log == nil {
		return
	}
	if cause != nil {
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	h.log.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// DerivedSecret returns the webhook secret of tenant contextID derived
// from one master key: the unpadded base64url of HMAC-SHA256(master,
// "superoffice-webhook:" + lower-case contextID). It is what an app saves
// as the webhook's Secret and what its Secret func returns, so the app
// stores no secret per tenant: put the tenant in the TargetUrl
// (".../webhooks/Cust12345") and derive the secret from the URL on each
// delivery. A delivery for one tenant signed with another tenant's secret
// fails to verify. Rotating the master key changes every tenant's secret;
// save the webhooks again (tenant/webapi Ensure does) after rotating.
// master should be at least 32 random bytes.
func DerivedSecret(master []byte, contextID string) string {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("superoffice-webhook:"))
	mac.Write([]byte(strings.ToLower(contextID)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// DerivedSecrets returns a Config.Secret that derives each request's
// secret with DerivedSecret from master and the tenant that tenantOf reads
// from the request (r.PathValue("tenant"), say). A request naming no
// tenant, or one that known (when not nil) rejects, is answered 404; with
// a nil tenantOf every request is answered 500.
func DerivedSecrets(master []byte, tenantOf func(r *http.Request) string, known func(contextID string) bool) func(r *http.Request) ([]byte, error) {
	return func(r *http.Request) ([]byte, error) {
		if len(master) == 0 {
			return nil, ErrNoSecret
		}
		if tenantOf == nil {
			return nil, errors.New("webhook: DerivedSecrets has no tenantOf to find the request's tenant")
		}
		ctxID := tenantOf(r)
		if ctxID == "" || (known != nil && !known(ctxID)) {
			return nil, fmt.Errorf("%w: no tenant in the URL or not one of ours", ErrUnknownReceiver)
		}
		return []byte(DerivedSecret(master, ctxID)), nil
	}
}
