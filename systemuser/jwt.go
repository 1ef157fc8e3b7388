package systemuser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/internal/jsonobj"
	"github.com/go-superoffice/superoffice/internal/jwtclaims"
	"github.com/go-superoffice/superoffice/superid"
)

// maxJWT bounds what is handed to the JWT parser.
const maxJWT = 64 << 10

// claimPrefix starts every SuperOffice claim name.
const claimPrefix = superid.ClaimPrefix

var claimPrefixBytes = []byte(claimPrefix)

// systemUserClaims are the claims of a system-user JWT that matter here.
// SuperID writes iat and custom claims as strings, hence the lax types.
type systemUserClaims struct {
	jwtclaims.Registered
	Ticket            jwtclaims.String `json:"http://schemes.superoffice.net/identity/ticket"`
	ContextIdentifier jwtclaims.String `json:"http://schemes.superoffice.net/identity/ctx"`
	Serial            jwtclaims.String `json:"http://schemes.superoffice.net/identity/serial"`
	WebAPIURL         jwtclaims.String `json:"http://schemes.superoffice.net/identity/webapi_url"`
	NetServerURL      jwtclaims.String `json:"http://schemes.superoffice.net/identity/netserver_url"`
}

// UnmarshalJSON decodes the claims in one pass, as superid decodes an
// id_token's: claim names match exactly, as RFC 7519 has them, not with
// encoding/json's case folding. The json tags above document the wire
// names. This is the exchange's hot path: the reflective decode of a
// JWT's long claim names cost as much as the rest of the validation but
// the signature check.
func (c *systemUserClaims) UnmarshalJSON(b []byte) error {
	*c = systemUserClaims{}
	return jsonobj.Members(b, func(name, v []byte) error {
		if ok, err := c.DecodeField(name, v); ok {
			return err
		}
		var f *jwtclaims.String
		if suffix, ok := bytes.CutPrefix(name, claimPrefixBytes); ok {
			switch string(suffix) {
			case "ticket":
				f = &c.Ticket
			case "ctx":
				f = &c.ContextIdentifier
			case "serial":
				f = &c.Serial
			case "webapi_url":
				f = &c.WebAPIURL
			case "netserver_url":
				f = &c.NetServerURL
			}
		}
		if f == nil {
			return nil
		}
		if err := f.UnmarshalJSON(v); err != nil {
			return fmt.Errorf("claim %.80s: %w", name, err)
		}
		return nil
	})
}

// validate checks a system-user JWT as PROTOCOL.md section 5.1 says, plus
// what SuperOffice's own validator leaves out: the tenant must be the one
// asked for, and the serial the pinned one when there is a pin.
func (c *Client) validate(ctx context.Context, raw, contextID string, o exchangeOptions) (*Ticket, error) {
	if len(raw) > maxJWT {
		return nil, errors.New("JWT is larger than 64 KiB")
	}
	// encoding/base64, under the JWT parser, skips CR and LF, so a line
	// break in the signature segment (outside the signed input) would give
	// one token many spellings; the compact form has none.
	if strings.ContainsAny(raw, "\r\n") {
		return nil, errors.New("JWT holds a line break")
	}
	var cl systemUserClaims
	if _, err := c.parser.ParseWithClaims(raw, &cl, c.keys.Keyfunc(ctx)); err != nil {
		return nil, err
	}
	serial := string(cl.Serial)
	if serial == "" {
		return nil, errors.New("JWT lacks the serial claim")
	}
	if !slices.Contains(cl.Audience, "spn:"+serial) {
		return nil, fmt.Errorf("aud %.80q does not name spn:%.40s", strings.Join(cl.Audience, " "), serial)
	}
	if o.serial != "" && serial != o.serial {
		// The pin is the caller's input: not quoted, in case it is a
		// credential passed by mistake.
		return nil, fmt.Errorf("serial %.40q is not the pinned serial", serial)
	}
	if !strings.EqualFold(string(cl.ContextIdentifier), contextID) {
		return nil, fmt.Errorf("ctx %.40q is not the tenant asked for, %.40q", string(cl.ContextIdentifier), contextID)
	}
	if cl.Ticket == "" {
		return nil, errors.New("JWT lacks the ticket claim")
	}
	t := &Ticket{
		Value:             string(cl.Ticket),
		ContextIdentifier: string(cl.ContextIdentifier),
		Serial:            serial,
		WebAPIURL:         string(cl.WebAPIURL),
		NetServerURL:      string(cl.NetServerURL),
		IssuedAt:          c.now(),
	}
	if cl.ExpiresAt != nil {
		t.Expiry = cl.ExpiresAt.Time
	}
	return t, nil
}

var _ jwt.Claims = systemUserClaims{}
