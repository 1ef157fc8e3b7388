package systemuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/superid"
)

// maxJWT bounds what is handed to the JWT parser.
const maxJWT = 64 << 10

// claimPrefix starts every SuperOffice claim name.
const claimPrefix = superid.ClaimPrefix

// systemUserClaims are the claims of a system-user JWT that matter here.
// golang-jwt checks the registered ones (iss, exp, nbf, iat; SuperID's
// string iat decodes into its NumericDate) and then calls Validate for
// the rules that are SuperOffice's.
type systemUserClaims struct {
	jwt.RegisteredClaims
	Ticket            string `json:"http://schemes.superoffice.net/identity/ticket"`
	ContextIdentifier string `json:"http://schemes.superoffice.net/identity/ctx"`
	Serial            string `json:"http://schemes.superoffice.net/identity/serial"`
	WebAPIURL         string `json:"http://schemes.superoffice.net/identity/webapi_url"`
	NetServerURL      string `json:"http://schemes.superoffice.net/identity/netserver_url"`

	// What this exchange asked for, set before parsing.
	wantCtx, pin string
}

// UnmarshalJSON matches claim names exactly, as RFC 7519 has them, where
// encoding/json alone would fold case and take "ISS" for iss or an
// upper-case ticket claim for the ticket. Each value is still decoded by
// encoding/json into the field the json tags above name.
func (c *systemUserClaims) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for name, dst := range map[string]any{
		"iss": &c.Issuer, "sub": &c.Subject, "aud": &c.Audience, "jti": &c.ID,
		"exp": &c.ExpiresAt, "nbf": &c.NotBefore, "iat": &c.IssuedAt,
		claimPrefix + "ticket": &c.Ticket, claimPrefix + "ctx": &c.ContextIdentifier,
		claimPrefix + "serial": &c.Serial, claimPrefix + "webapi_url": &c.WebAPIURL,
		claimPrefix + "netserver_url": &c.NetServerURL,
	} {
		if v, ok := m[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("claim %s: %w", name, err)
			}
		}
	}
	return nil
}

// Validate holds the rules of PROTOCOL.md section 5.1 that golang-jwt's
// options cannot say, plus what SuperOffice's own validator leaves out:
// aud must be spn:<the JWT's own serial> (WithAudience needs the value
// before the claims are read), the tenant must be the one asked for, and
// the serial the pinned one when there is a pin. golang-jwt calls it after
// the signature and the registered claims are checked.
func (c *systemUserClaims) Validate() error {
	switch {
	case c.Serial == "":
		return errors.New("JWT lacks the serial claim")
	case !slices.Contains(c.Audience, "spn:"+c.Serial):
		return fmt.Errorf("aud %.80q does not name spn:%.40s", strings.Join(c.Audience, " "), c.Serial)
	case c.pin != "" && c.Serial != c.pin:
		// The pin is the caller's input: not quoted, in case it is a
		// credential passed by mistake.
		return fmt.Errorf("serial %.40q is not the pinned serial", c.Serial)
	case !strings.EqualFold(c.ContextIdentifier, c.wantCtx):
		return fmt.Errorf("ctx %.40q is not the tenant asked for, %.40q", c.ContextIdentifier, c.wantCtx)
	case c.Ticket == "":
		return errors.New("JWT lacks the ticket claim")
	}
	return nil
}

// validate checks a system-user JWT (see systemUserClaims.Validate) and
// returns its ticket.
func (c *Client) validate(ctx context.Context, raw, contextID string, o exchangeOptions) (*Ticket, error) {
	if len(raw) > maxJWT {
		return nil, errors.New("JWT is larger than 64 KiB")
	}
	// encoding/base64, under the JWT parser, skips CR and LF, so a line
	// break in the signature segment (outside the signed input) would give
	// one token many spellings; the compact form has none.
	if strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0 { // not ContainsAny: a byte at a time
		return nil, errors.New("JWT holds a line break")
	}
	opts := c.parserOpts
	if o.serial != "" {
		opts = append(slices.Clip(opts), jwt.WithAudience("spn:"+o.serial))
	}
	cl := &systemUserClaims{wantCtx: contextID, pin: o.serial}
	if _, err := jwt.NewParser(opts...).ParseWithClaims(raw, cl, c.keys.Keyfunc(ctx)); err != nil {
		return nil, err
	}
	t := &Ticket{
		Value:             cl.Ticket,
		ContextIdentifier: cl.ContextIdentifier,
		Serial:            cl.Serial,
		WebAPIURL:         cl.WebAPIURL,
		NetServerURL:      cl.NetServerURL,
		IssuedAt:          c.now(),
	}
	if cl.ExpiresAt != nil {
		t.Expiry = cl.ExpiresAt.Time
	}
	return t, nil
}
