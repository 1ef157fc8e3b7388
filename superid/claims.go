package superid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-superoffice/superoffice/internal/jsonobj"
	"github.com/go-superoffice/superoffice/internal/jwtclaims"
)

// ClaimPrefix begins every SuperOffice-specific claim name.
const ClaimPrefix = "http://schemes.superoffice.net/identity/"

// Claims is what a verified SuperID id_token says about the user and the
// tenant. SuperID writes iat and every custom claim as a JSON string; they
// arrive here as proper Go types.
type Claims struct {
	// Subject is the user's SuperID user name (sub), usually an email.
	Subject string
	// ContextIdentifier is the tenant (customer) id, such as "Cust12345".
	ContextIdentifier string
	// SystemUserToken is the tenant's system user token for this app, sent
	// only to apps with system-user rights after an administrator approved
	// them. Store it byte for byte: it may contain spaces. It is a
	// credential: never log it.
	SystemUserToken string
	// WebAPIURL is the tenant's REST base URL, ending in /api/.
	WebAPIURL string
	// NetServerURL is the tenant's SOAP base URL.
	NetServerURL string
	// Serial is the tenant database's serial number.
	Serial string
	// Email, UPN and PrimaryEmail are the user's addresses as SuperID
	// knows them.
	Email, UPN, PrimaryEmail string
	// CompanyName is the user's company.
	CompanyName string
	// Initials are the user's initials.
	Initials string
	// IdentityProvider is informational; SuperOffice's documents and
	// tokens disagree on its values.
	IdentityProvider string
	// AssociateID is the user's associate id in the tenant.
	AssociateID int
	// IsAdministrator reports whether the user administers the tenant.
	IsAdministrator bool
	// Nonce echoes the nonce of the sign-in request.
	Nonce string
	// Issuer and Audience are iss and aud, already checked.
	Issuer   string
	Audience []string
	// IssuedAt, NotBefore and Expiry are iat, nbf and exp; NotBefore and
	// IssuedAt are zero when absent.
	IssuedAt, NotBefore, Expiry time.Time

	// raw is the token's payload: every claim, as sent.
	raw json.RawMessage
}

// Raw returns the token's claims as the JSON object SuperID sent, for
// claims this type does not name. The caller must not modify it.
func (c *Claims) Raw() json.RawMessage { return c.raw }

// Map decodes every claim into a map, numbers as json.Number.
func (c *Claims) Map() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(c.raw, &m); err != nil {
		return nil, fmt.Errorf("superid: decode claims: %w", err)
	}
	return m, nil
}

// Unmarshal decodes the claims into v, a struct with json tags. SuperID's
// custom claims are JSON strings, so give them string fields.
func (c *Claims) Unmarshal(v any) error {
	if err := json.Unmarshal(c.raw, v); err != nil {
		return fmt.Errorf("superid: decode claims: %w", err)
	}
	return nil
}

// idTokenClaims is the wire shape of an id_token payload.
type idTokenClaims struct {
	jwtclaims.Registered
	Nonce             string           `json:"nonce"`
	AuthorizedParty   string           `json:"azp"`
	ContextIdentifier jwtclaims.String `json:"http://schemes.superoffice.net/identity/ctx"`
	SystemUserToken   jwtclaims.String `json:"http://schemes.superoffice.net/identity/system_token"`
	WebAPIURL         jwtclaims.String `json:"http://schemes.superoffice.net/identity/webapi_url"`
	NetServerURL      jwtclaims.String `json:"http://schemes.superoffice.net/identity/netserver_url"`
	Serial            jwtclaims.String `json:"http://schemes.superoffice.net/identity/serial"`
	Email             jwtclaims.String `json:"http://schemes.superoffice.net/identity/email"`
	UPN               jwtclaims.String `json:"http://schemes.superoffice.net/identity/upn"`
	PrimaryEmail      jwtclaims.String `json:"http://schemes.superoffice.net/identity/so_primary_email_address"`
	CompanyName       jwtclaims.String `json:"http://schemes.superoffice.net/identity/company_name"`
	Initials          jwtclaims.String `json:"http://schemes.superoffice.net/identity/initials"`
	IdentityProvider  jwtclaims.String `json:"http://schemes.superoffice.net/identity/identityprovider"`
	AssociateID       jwtclaims.Int    `json:"http://schemes.superoffice.net/identity/associateid"`
	IsAdministrator   jwtclaims.Bool   `json:"http://schemes.superoffice.net/identity/is_administrator"`

	raw json.RawMessage
}

// UnmarshalJSON decodes the claims in one pass (see jsonobj.Members) and
// keeps the payload for Claims.Raw. Claim names match exactly, unlike
// encoding/json's case-insensitive matching. The json tags above document
// the wire names and serve Claims.Unmarshal-style decoding elsewhere.
func (c *idTokenClaims) UnmarshalJSON(b []byte) error {
	return c.decode(append(json.RawMessage(nil), b...))
}

// decode is UnmarshalJSON for a buffer the claims may keep.
func (c *idTokenClaims) decode(b []byte) error {
	*c = idTokenClaims{}
	err := jsonobj.Members(b, func(name, v []byte) error {
		if ok, err := c.DecodeField(name, v); ok {
			return err
		}
		var err error
		switch {
		case string(name) == "nonce":
			var s jwtclaims.String
			err = s.UnmarshalJSON(v)
			c.Nonce = string(s)
		case string(name) == "azp":
			var s jwtclaims.String
			err = s.UnmarshalJSON(v)
			c.AuthorizedParty = string(s)
		case bytes.HasPrefix(name, claimPrefix):
			suffix := name[len(claimPrefix):]
			if f := c.stringField(suffix); f != nil {
				err = f.UnmarshalJSON(v)
			} else if string(suffix) == "associateid" {
				err = c.AssociateID.UnmarshalJSON(v)
			} else if string(suffix) == "is_administrator" {
				err = c.IsAdministrator.UnmarshalJSON(v)
			}
		}
		if err != nil {
			return fmt.Errorf("claim %.80s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.raw = b
	return nil
}

var claimPrefix = []byte(ClaimPrefix)

func (c *idTokenClaims) stringField(suffix []byte) *jwtclaims.String {
	switch string(suffix) {
	case "ctx":
		return &c.ContextIdentifier
	case "system_token":
		return &c.SystemUserToken
	case "webapi_url":
		return &c.WebAPIURL
	case "netserver_url":
		return &c.NetServerURL
	case "serial":
		return &c.Serial
	case "email":
		return &c.Email
	case "upn":
		return &c.UPN
	case "so_primary_email_address":
		return &c.PrimaryEmail
	case "company_name":
		return &c.CompanyName
	case "initials":
		return &c.Initials
	case "identityprovider":
		return &c.IdentityProvider
	}
	return nil
}

func (c *idTokenClaims) claims() *Claims {
	out := &Claims{
		Subject:           c.Subject,
		ContextIdentifier: string(c.ContextIdentifier),
		SystemUserToken:   string(c.SystemUserToken),
		WebAPIURL:         string(c.WebAPIURL),
		NetServerURL:      string(c.NetServerURL),
		Serial:            string(c.Serial),
		Email:             string(c.Email),
		UPN:               string(c.UPN),
		PrimaryEmail:      string(c.PrimaryEmail),
		CompanyName:       string(c.CompanyName),
		Initials:          string(c.Initials),
		IdentityProvider:  string(c.IdentityProvider),
		AssociateID:       int(c.AssociateID),
		IsAdministrator:   bool(c.IsAdministrator),
		Nonce:             c.Nonce,
		Issuer:            c.Issuer,
		Audience:          c.Audience,
		raw:               c.raw,
	}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Time
	}
	if c.NotBefore != nil {
		out.NotBefore = c.NotBefore.Time
	}
	if c.ExpiresAt != nil {
		out.Expiry = c.ExpiresAt.Time
	}
	return out
}
