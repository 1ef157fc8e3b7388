package superid

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Environment is the root URL of a SuperID installation, with no trailing
// slash: https://sod.superoffice.com for development, say, or the emulator's
// http://127.0.0.1:8081. Every SuperID and tenant-state URL is derived from it.
type Environment string

// The SuperOffice Online environments. Their root sub-domains are the only
// ones that may be used for sign-in; numbered hosts (sod2, online3) serve
// tenant APIs only.
const (
	SOD    Environment = "https://sod.superoffice.com"      // development
	Stage  Environment = "https://qaonline.superoffice.com" // stage, also called qaonline
	Online Environment = "https://online.superoffice.com"   // production
)

// ParseEnvironment accepts "sod", "stage", "qaonline", "online" (any case)
// or an absolute http(s) root URL such as the emulator's. A trailing slash
// is dropped; a URL with a query, fragment or user info is refused.
func ParseEnvironment(s string) (Environment, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sod", "dev", "development":
		return SOD, nil
	case "stage", "qaonline", "qastage":
		return Stage, nil
	case "online", "prod", "production":
		return Online, nil
	case "":
		return "", fmt.Errorf("superid: empty environment: want sod, stage, online or a root URL")
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("superid: environment %q is not sod, stage, online or an http(s) root URL", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("superid: environment URL %q must not carry user info, a query or a fragment", u.Redacted())
	}
	return Environment(strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")), nil
}

// String returns the root URL.
func (e Environment) String() string { return string(e) }

func (e Environment) root() string { return strings.TrimRight(string(e), "/") }

// Issuer is the iss of id_tokens: the root URL itself, without /login.
func (e Environment) Issuer() string { return e.root() }

// DiscoveryURL is the OpenID Connect discovery document.
func (e Environment) DiscoveryURL() string {
	return e.root() + "/login/.well-known/openid-configuration"
}

// AuthorizeURL is the OAuth 2.0 authorization endpoint.
func (e Environment) AuthorizeURL() string { return e.root() + "/login/common/oauth/authorize" }

// TokenURL is the OAuth 2.0 token endpoint.
func (e Environment) TokenURL() string { return e.root() + "/login/common/oauth/tokens" }

// JWKSURL is the key set that signs id_tokens and system-user JWTs.
func (e Environment) JWKSURL() string { return e.root() + "/login/.well-known/jwks" }

// SystemUserURL is where a signed system user token is exchanged for a
// system user ticket (REST; note the capital L, as SuperOffice documents it).
func (e Environment) SystemUserURL() string {
	return e.root() + "/Login/api/PartnerSystemUser/Authenticate"
}

// TenantStateURL is the unauthenticated state of one tenant (customer),
// such as https://sod.superoffice.com/api/state/Cust12345.
func (e Environment) TenantStateURL(contextID string) string {
	return e.root() + "/api/state/" + url.PathEscape(contextID)
}

// SystemUserIssuer is the iss of system-user JWTs, the same in every environment.
const SystemUserIssuer = "SuperOffice AS"

// OwnsHost reports whether host (a URL's Host, with or without port) belongs
// to this environment, so that a tenant API URL taken from a token or the
// state API may be trusted with a ticket. For the SuperOffice environments
// that is superoffice.com and its sub-domains over https (tenants live on
// numbered hosts such as sod2.superoffice.com); for any other root URL it is
// the same host name, or any loopback address when the root is loopback.
func (e Environment) OwnsHost(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	root, err := url.Parse(e.root())
	if err != nil {
		return false
	}
	if u.Scheme != root.Scheme {
		return false
	}
	host, rootHost := strings.ToLower(u.Hostname()), strings.ToLower(root.Hostname())
	if strings.HasSuffix(rootHost, ".superoffice.com") {
		return host == "superoffice.com" || strings.HasSuffix(host, ".superoffice.com")
	}
	if host == rootHost {
		return true
	}
	return isLoopback(host) && isLoopback(rootHost)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
