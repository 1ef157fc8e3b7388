package systemuser

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinels for errors.Is. An *Error from Exchange (or from a TicketSource)
// matches exactly one of ErrRejected, ErrRateLimited, ErrUnavailable and
// ErrInvalidToken, unless it only wraps the caller's ctx error;
// ErrClockSkew comes on top of ErrRejected.
var (
	// ErrInvalidArgument: Exchange or a TicketSource refused its input
	// before anything was signed or sent (a Client not made by New, a nil
	// ctx, an empty token, a context identifier that is not CustNNNNN).
	ErrInvalidArgument = errors.New("systemuser: invalid argument")

	// ErrInvalidKey: the private key could not be read or is unusable
	// (ParsePrivateKey, New).
	ErrInvalidKey = errors.New("systemuser: invalid private key")

	// ErrRejected: SuperID refused the exchange, with IsSuccessful=false or
	// a 4xx status (but 408, 425 and 429), or answered with a redirect,
	// which is not followed. The usual causes: a wrong application token (client
	// secret), a context identifier that is not the tenant's, a system user
	// token the tenant has revoked (the app was uninstalled or re-approved:
	// SuperID does not say which, so there is no separate sentinel), a key
	// that is not the one registered for the app, or a clock that is off.
	// Trying again with the same input will not help; ErrorMessage says
	// more, and Error.Refused tells SuperID's own refusal from a bare 4xx
	// of something in between.
	ErrRejected = errors.New("systemuser: exchange rejected")

	// ErrClockSkew: a rejection whose response Date header shows that the
	// local clock differs from SuperID's by more than a minute, so the
	// signed timestamp was probably outside SuperID's window. Error.ClockSkew
	// says by how much. It also matches ErrRejected.
	ErrClockSkew = errors.New("systemuser: local clock is off")

	// ErrRateLimited: SuperID answered 429 Too Many Requests and still did
	// after the retries allowed by the retry policy.
	ErrRateLimited = errors.New("systemuser: rate limited")

	// ErrUnavailable: SuperID could not be reached, answered 5xx, 408 or
	// 425 (after the retries allowed by the retry policy), or something
	// answered in its place with a 2xx that is not a SystemUserResult (a
	// proxy's page); an exchange that a TicketSource ran past
	// Config.ExchangeTimeout, or a key set that could not be fetched, too.
	// Trying later may help.
	ErrUnavailable = errors.New("systemuser: SuperID unavailable")

	// ErrInvalidToken: SuperID answered, but the system-user JWT it returned
	// failed validation (signature, key, iss, aud, exp, ctx, serial or a
	// missing ticket claim). Error.Err holds the detail.
	ErrInvalidToken = errors.New("systemuser: invalid system-user JWT")
)

// skewThreshold is how far the clocks must differ before an error blames
// them. SuperID's Date header has one-second resolution and the signed
// timestamp one-minute resolution.
const skewThreshold = time.Minute

// Error is what Exchange (and a TicketSource) return when an exchange
// fails: it keeps what SuperID answered. Match it with errors.As, or its
// kind with errors.Is and the sentinels above. Its message never holds the
// system user token, the application token, the signature or a ticket.
type Error struct {
	// ContextIdentifier is the tenant the exchange was for.
	ContextIdentifier string
	// URL is the exchange endpoint, redacted.
	URL string
	// StatusCode is the HTTP status of the last response; 0 when there was
	// none (a connection error, or a cancelled ctx).
	StatusCode int
	// ErrorMessage is SuperID's own ErrorMessage, when it sent one.
	ErrorMessage string
	// Body is the start (at most 64 KiB) of the last response body, when it
	// was an error response, with the application token and the system
	// user token replaced by REDACTED should it echo them. It is left
	// empty when the body carried a system-user JWT, because that holds a
	// ticket.
	Body []byte
	// ClockSkew is SuperID's time (the response's Date header) minus the
	// local time, when a rejection came with a Date header; 0 otherwise.
	ClockSkew time.Duration
	// RetryAfter is how long SuperID asked to wait before another try (its
	// Retry-After header, on a 429 or a 503 say); 0 when it did not say.
	// The client's own retries wait for it up to RetryPolicy.MaxWait; this
	// is the last answer's, for a caller that schedules the next try.
	RetryAfter time.Duration
	// Err is the underlying cause: a transport error, a ctx error or the
	// JWT validation failure. May be nil.
	Err error

	kind    error // one of the sentinels, or nil
	refused bool  // see Refused
}

// Refused reports whether SuperID itself refused the exchange: its answer
// was a SystemUserResult with IsSuccessful false, with a 2xx or a 4xx
// status (a 5xx is a failure, whatever its body).
// A bare 4xx from something in between (a proxy, a wrong Environment) is
// an ErrRejected too, but says nothing about the tenant or its approval;
// only a refusal can mean that the tenant withdrew it.
func (e *Error) Refused() bool { return e != nil && e.refused }

// Error describes the failure without any credential: the tenant, the
// kind, the status and SuperID's ErrorMessage (or the cause), and a clock
// hint when the clocks disagree.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("systemuser: exchange")
	if e.ContextIdentifier != "" {
		b.WriteString(" for " + e.ContextIdentifier)
	}
	switch e.kind {
	case ErrRejected:
		b.WriteString(" rejected")
	case ErrRateLimited:
		b.WriteString(" rate limited")
	case ErrUnavailable:
		b.WriteString(" failed: SuperID unavailable")
	case ErrInvalidToken:
		b.WriteString(": invalid system-user JWT")
	default:
		b.WriteString(" failed")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	switch {
	case e.ErrorMessage != "":
		b.WriteString(": " + oneLine(e.ErrorMessage, 300))
	case e.Err != nil:
		b.WriteString(": " + e.Err.Error())
	case len(e.Body) > 0:
		b.WriteString(": " + oneLine(string(e.Body), 200))
	}
	if e.skewed() {
		dir := "ahead of"
		if e.ClockSkew > 0 {
			dir = "behind"
		}
		fmt.Fprintf(&b, "; the local clock looks %s SuperID's by %s (sync it with NTP)", dir, e.ClockSkew.Abs().Round(time.Second))
	}
	return b.String()
}

func (e *Error) skewed() bool { return e.kind == ErrRejected && e.ClockSkew.Abs() > skewThreshold }

// Is reports whether the error is of the kind target names (ErrRejected,
// ErrClockSkew, ErrRateLimited, ErrUnavailable, ErrInvalidToken).
func (e *Error) Is(target error) bool {
	if target == ErrClockSkew {
		return e.skewed()
	}
	return e.kind != nil && target == e.kind
}

// Unwrap returns the underlying cause, so that errors.Is finds
// context.Canceled, a *url.Error and the like.
func (e *Error) Unwrap() error { return e.Err }

// oneLine keeps an error message short and on one line, because it comes
// from the server and ends up in logs.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
