package superid

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
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
// or an absolute root URL such as the emulator's, and returns it in one
// spelling: scheme and host in lower case, no default port (:443 for
// https, :80 for http), no trailing slash.
//
// A root URL must be https, except on a loopback host (localhost,
// 127.0.0.0/8, ::1), where the emulator runs over http. It is the root:
// the "authority" the .NET libraries take, which ends in /login, is
// accepted and /login dropped; any other path is refused (it would make
// every derived URL and the issuer wrong), except on a loopback host, where
// an emulator may be mounted under a path prefix. User info, a query or a
// fragment are refused.
func ParseEnvironment(s string) (Environment, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "sod", "dev", "development":
		return SOD, nil
	case "stage", "qaonline", "qastage":
		return Stage, nil
	case "online", "prod", "production":
		return Online, nil
	case "":
		return "", errors.New("superid: empty environment: want sod, stage, online or a root URL")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("superid: environment %q is not sod, stage, online or an http(s) root URL", redactRaw(s))
	}
	shown := u.Redacted()
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("superid: environment URL %q must not carry user info, a query or a fragment", shown)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || strings.HasSuffix(host, ".") {
		return "", fmt.Errorf("superid: environment URL %q has no usable host name", shown)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("superid: environment URL %q has an invalid port", shown)
		}
		if port == defaultPort(u.Scheme) {
			port = ""
		}
	}
	loopback := isLoopback(host)
	if u.Scheme == "http" && !loopback {
		return "", fmt.Errorf("superid: environment URL %q: http is only for an emulator on a loopback host (localhost, 127.0.0.1, ::1); use https", shown)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if len(path) >= len("/login") && strings.EqualFold(path[len(path)-len("/login"):], "/login") {
		path = strings.TrimRight(path[:len(path)-len("/login")], "/")
	}
	if path != "" && !loopback {
		return "", fmt.Errorf("superid: environment URL %q: want the root URL, such as https://sod.superoffice.com, without a path", shown)
	}
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if port != "" {
		hostport += ":" + port
	}
	return Environment(u.Scheme + "://" + hostport + path), nil
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// redactRaw cuts an unparsable URL short of anything that may be a
// secret (user info, query).
func redactRaw(s string) string {
	if i := strings.IndexAny(s, "@?#"); i >= 0 {
		s = s[:i] + "..."
	}
	return capString(s, 200)
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

// OwnsHost reports whether rawURL is on a host of this environment, so
// that a tenant API URL taken from a token or the state API may be trusted
// with a ticket.
//
// For the SuperOffice environments that is the environment's own
// sub-domain, bare or numbered, over https on the default port: sod,
// sod2, sod10 for SOD; qaonline, qaonline2 for Stage; online, online3 for
// Online; never another sub-domain of superoffice.com (production is not
// trusted from development, nor docs.superoffice.com from anything). For
// any other root URL (the emulator's) it is the same scheme, host and
// port, where a loopback root also owns the other loopback names on its
// port (the emulator moves tenants between 127.0.0.1:P and localhost:P).
// URLs with user info are refused.
func (e Environment) OwnsHost(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	root, err := url.Parse(e.root())
	if err != nil || root.Host == "" || u.Scheme != root.Scheme {
		return false
	}
	host, rootHost := strings.ToLower(u.Hostname()), strings.ToLower(root.Hostname())
	if prefix, ok := superOfficePrefix(rootHost); ok {
		if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
			return false
		}
		p, ok := superOfficePrefix(host)
		return ok && p == prefix
	}
	if effectivePort(u) != effectivePort(root) {
		return false
	}
	return host == rootHost || (isLoopback(host) && isLoopback(rootHost))
}

// superOfficeHost is a SuperOffice Online host: an environment's
// sub-domain of superoffice.com, optionally numbered.
var superOfficeHost = regexp.MustCompile(`^([a-z]+)[0-9]*\.superoffice\.com$`)

// superOfficePrefix returns the environment sub-domain of a SuperOffice
// Online host ("sod" for sod2.superoffice.com).
func superOfficePrefix(host string) (string, bool) {
	m := superOfficeHost.FindStringSubmatch(host)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return defaultPort(u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
