// Package systemuser turns a tenant's system user token into a validated
// system user ticket: the credential a partner service uses to call a
// SuperOffice CRM Online tenant's web services without a signed-in user.
//
// # Quick start
//
//	key, err := systemuser.ParsePrivateKey(xmlOrPEM) // the developer portal's key
//	client, err := systemuser.New(systemuser.Config{
//		Environment:  superid.SOD,
//		ClientSecret: clientSecret, // the "application token"
//		PrivateKey:   key,
//		KeySet:       keySet, // optional: share superid's
//	})
//	tickets := client.TicketSource("Cust12345", systemUserToken)
//	t, err := tickets.Ticket(ctx) // "Authorization: SOTicket " + t.Value
//
// The system user token comes from the id_token of the administrator who
// approved the app (superid.Claims.SystemUserToken); store it with the
// tenant's context identifier.
//
// # Keys and signing
//
// ParsePrivateKey reads the .NET <RSAKeyValue> XML that SuperOffice's
// developer portal hands out, and PKCS#1 or PKCS#8 PEM (or DER), detected
// by content. The so-keyconv command (cmd/so-keyconv) turns the XML into
// PEM and back. Sign produces token + "." + UTC yyyyMMddHHmm + "." + base64 of an
// RSASSA-PKCS1-v1_5 SHA-256 signature; Exchange signs afresh for every
// attempt.
//
// # Exchange and validation
//
// Exchange posts the signed token to SuperID's
// /Login/api/PartnerSystemUser/Authenticate and validates the system-user
// JWT that comes back: RS256 with SuperID's published keys, iss
// "SuperOffice AS", aud "spn:<serial>", exp (with Config.Leeway), its ctx
// equal to the tenant asked for and, with WithSerial, the serial recorded
// at sign-up.
//
// # Tickets
//
// SuperOffice creates a new ticket record on every exchange and keeps a
// ticket alive for six hours after its last use, so tickets must be
// reused. A TicketSource does that for one tenant: one exchange however
// many goroutines ask at once (each may give up on its own ctx, and the
// exchange goes on for the others, bounded by Config.ExchangeTimeout), reuse
// until the ticket has idled for nearly six hours (Config.TicketLifetime
// less Config.RenewBefore), and Invalidate after the tenant API answers
// 401. A cached hit takes no lock and allocates nothing.
//
// The cache lives in the process. A service that runs on several
// processes, any of which may serve a tenant next, keeps the ticket where
// they all see it (the example console keeps it, sealed, in its database)
// and implements TicketSource over that: reuse the stored ticket while it
// has been idle for less than Client.ReuseWindow, else Exchange and store
// the new one.
//
// # Errors
//
// Exchange failures are *Error values, which keep the HTTP status,
// SuperID's ErrorMessage and the start of the response body. Match their
// kind with errors.Is: ErrRejected (SuperID said no: wrong application
// token, context identifier, key, or a revoked token; or a redirect),
// ErrClockSkew (on top of ErrRejected, when the response's Date header
// shows the local clock is off), ErrRateLimited and ErrUnavailable (after
// retries; try later), ErrInvalidToken (SuperID's JWT failed validation).
// An *Error of none of these kinds wraps the caller's ctx error. Input
// refused before anything is sent matches ErrInvalidArgument; key problems
// match ErrInvalidKey. No error message holds a token, ticket, secret or
// key.
//
// # Retries
//
// Connection errors, 429 and 5xx are retried (Config.Retry: by default 3
// times, 250ms to 30s apart), honouring Retry-After up to the cap; every
// wait ends with the ctx. Redirects are never followed, so the application
// token cannot travel to another host.
//
// # Testing your code
//
// superid/superidtest emulates the exchange: register an app with the
// public key, add a tenant, Approve it for the token, and point
// Config.Environment at the emulator. Exchanges, ExpireTickets and Fail
// let tests count exchanges, end tickets and inject failures.
package systemuser
