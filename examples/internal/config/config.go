// Package config reads what both example programs need from the
// environment, and in local mode (nothing configured) creates it: a partner
// key pair, a sealing key and app credentials under the data directory,
// the SQLite database beside them, and the emulator's address.
package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/systemuser"
)

// The environment variables the examples read.
const (
	EnvEnvironment    = "SUPEROFFICE_ENV"              // sod, stage, online or a root URL
	EnvClientID       = "SUPEROFFICE_CLIENT_ID"        // the app's client id
	EnvClientSecret   = "SUPEROFFICE_CLIENT_SECRET"    // the app's client secret (application token)
	EnvPrivateKeyFile = "SUPEROFFICE_PRIVATE_KEY_FILE" // RSA XML or PEM
	EnvRedirectURL    = "SUPEROFFICE_REDIRECT_URL"     // the registered redirect URL
	EnvDatabaseURL    = "DATABASE_URL"                 // a SQLite path or a postgres:// URL
	EnvSealKey        = "SUPEROFFICE_SEAL_KEY"         // base64 of 32 bytes; empty: a key file in the data dir
)

// Local-mode defaults: the web app serves the emulator here, and the
// console finds it here.
const (
	LocalEmulatorAddr = "127.0.0.1:8081"
	LocalWebAppAddr   = "localhost:8080"
	LocalClientID     = "local-partner-app"
)

// LocalRedirectURL is the local-mode redirect URL for a web app listening
// on addr (host:port): its host, or localhost when the address names none
// or a wildcard, so that the sign-in cookie and the callback share a host.
func LocalRedirectURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "80"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/callback"
}

// Config is what the examples run with. It holds secrets: never log it
// whole (String redacts them).
type Config struct {
	// Local is true when no SuperOffice setting was given: the programs
	// then use the emulator at LocalEmulatorAddr.
	Local        bool
	Environment  superid.Environment
	ClientID     string
	ClientSecret string
	PrivateKey   *rsa.PrivateKey
	RedirectURL  string
	DatabaseURL  string
	SealKey      []byte
	// SealKeyFrom says where SealKey came from (the variable, or the key file's path),
	// for the message that the database was written with another key.
	SealKeyFrom string
	DataDir     string
}

// String describes the configuration without its secrets.
func (c *Config) String() string {
	mode := "SuperOffice Online"
	if c.Local {
		mode = "local (emulator)"
	}
	return fmt.Sprintf("mode=%s env=%s client_id=%s redirect=%s database=%s",
		mode, c.Environment, c.ClientID, c.RedirectURL, RedactDatabaseURL(c.DatabaseURL))
}

// Load builds the configuration from getenv (os.Getenv in the programs).
// With none of the SuperOffice variables set it is local mode, and the
// files it needs are created under dataDir on first use. A partial or
// malformed configuration is an error naming every problem in one line.
func Load(getenv func(string) string, dataDir string) (*Config, error) {
	if dataDir == "" {
		dataDir = "data"
	}
	c := &Config{DataDir: dataDir, DatabaseURL: strings.TrimSpace(getenv(EnvDatabaseURL))}
	names := []string{EnvEnvironment, EnvClientID, EnvClientSecret, EnvPrivateKeyFile, EnvRedirectURL}
	var set, missing []string
	for _, n := range names {
		if strings.TrimSpace(getenv(n)) != "" {
			set = append(set, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(set) == 0 {
		c.Local = true
		if err := c.loadLocal(); err != nil {
			return nil, err
		}
	} else {
		if len(missing) > 0 {
			return nil, fmt.Errorf("config: %s set but %s missing (set all five to use SuperOffice Online, or none for local mode)",
				strings.Join(set, ", "), strings.Join(missing, ", "))
		}
		if err := c.loadOnline(getenv); err != nil {
			return nil, err
		}
	}
	if c.DatabaseURL == "" {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("config: data directory: %w", err)
		}
		c.DatabaseURL = filepath.Join(c.DataDir, "superoffice.db")
	}
	if !c.Local && strings.TrimSpace(getenv(EnvSealKey)) == "" {
		// A key made on each machine would leave every instance unable to
		// open what the others sealed, and a lost ./data would strand every
		// stored tenant: with real tenants the key must be given.
		return nil, fmt.Errorf("config: %s is required with SuperOffice Online: base64 of 32 random bytes (openssl rand -base64 32), the same for every web app and console instance", EnvSealKey)
	}
	key, from, err := sealKey(getenv(EnvSealKey), c.DataDir, c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	c.SealKey, c.SealKeyFrom = key, from
	return c, nil
}

// OpenError is the start-up error for err, an error of store.Open on c.DatabaseURL:
// one line naming the database (password redacted) and, when the database was written
// with another seal key, where this one came from, so that the setting can be put right.
func (c *Config) OpenError(err error) error {
	db := EnvDatabaseURL + " (" + RedactDatabaseURL(c.DatabaseURL) + ")"
	if errors.Is(err, store.ErrSealKeyMismatch) {
		return fmt.Errorf("%s: %w; this key came from %s (see %s and -data)", db, err, c.SealKeyFrom, EnvSealKey)
	}
	return fmt.Errorf("%s: %w", db, oneLineError{err})
}

// oneLineError is err with its message on one line; errors.Is still finds
// the store's sentinels (ErrReadOnly...) through it.
type oneLineError struct{ err error }

func (e oneLineError) Error() string { return oneLine(e.err.Error()) }
func (e oneLineError) Unwrap() error { return e.err }

// oneLine folds a multi-line message (pgx lists every address it tried,
// one per line) into one line, so that a start-up error stays one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == '\t' }), " ")
}

func (c *Config) loadOnline(getenv func(string) string) error {
	var problems []string
	env, err := superid.ParseEnvironment(getenv(EnvEnvironment))
	if err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", EnvEnvironment, err))
	}
	c.Environment = env
	c.ClientID = strings.TrimSpace(getenv(EnvClientID))
	c.ClientSecret = strings.TrimSpace(getenv(EnvClientSecret))
	c.RedirectURL = strings.TrimSpace(getenv(EnvRedirectURL))
	if u, err := url.Parse(c.RedirectURL); err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
		problems = append(problems, fmt.Sprintf("%s: %q is not an absolute http(s) URL", EnvRedirectURL, c.RedirectURL))
	} else if u.Path == "" || u.Path == "/" {
		// The web app serves its callback at this path, and "/" is its
		// home page: SuperID would send the browser, code and all, to a
		// page that ignores it, and no sign-in would ever finish.
		problems = append(problems, fmt.Sprintf("%s: %q has no path; give the callback its own, such as %s (and register that URL with SuperOffice)",
			EnvRedirectURL, c.RedirectURL, u.Scheme+"://"+u.Host+"/callback"))
	}
	path := strings.TrimSpace(getenv(EnvPrivateKeyFile))
	if data, err := os.ReadFile(path); err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", EnvPrivateKeyFile, unwrapPathError(err)))
	} else if key, err := systemuser.ParsePrivateKey(data); err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", EnvPrivateKeyFile, err))
	} else {
		c.PrivateKey = key
	}
	if len(problems) > 0 {
		return fmt.Errorf("config: %s", strings.Join(problems, "; "))
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// localApp is the local-mode app registration, kept so that the web app
// and the console (and a restart) agree on it.
type localApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (c *Config) loadLocal() error { return c.loadLocalOnce(true) }

// loadLocalOnce is loadLocal; create says whether a missing file may be
// created. After another program created a file first, the files are read
// once more, never created again: a name that exists yet reads as missing
// (a symbolic link to nothing) would otherwise be tried for ever.
func (c *Config) loadLocalOnce(create bool) error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("config: data directory: %w", err)
	}
	c.Environment = superid.Environment("http://" + LocalEmulatorAddr)
	c.RedirectURL = LocalRedirectURL(LocalWebAppAddr)

	key, err := loadOrCreateKey(filepath.Join(c.DataDir, "partner-key.pem"), create)
	if err != nil {
		return err
	}
	c.PrivateKey = key

	appFile := filepath.Join(c.DataDir, "local-app.json")
	var app localApp
	data, err := os.ReadFile(appFile)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &app); err != nil || app.ClientID == "" || app.ClientSecret == "" {
			return fmt.Errorf("config: %s is damaged; delete it to create a new local app", appFile)
		}
	case errors.Is(err, fs.ErrNotExist) && create:
		app = localApp{ClientID: LocalClientID, ClientSecret: randomToken()}
		data, _ := json.MarshalIndent(app, "", "  ")
		if err := writeNew(appFile, data); errors.Is(err, fs.ErrExist) {
			return c.loadLocalOnce(false) // another program created it first: use theirs
		} else if err != nil {
			return err
		}
	default:
		return fmt.Errorf("config: %w", unwrapPathError(err))
	}
	c.ClientID, c.ClientSecret = app.ClientID, app.ClientSecret
	return nil
}

// loadOrCreateKey reads the partner key at path or, if create and there is
// none, makes one and writes it there.
func loadOrCreateKey(path string, create bool) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := systemuser.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		return nil, fmt.Errorf("config: %w", unwrapPathError(err))
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("config: generate partner key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("config: encode partner key: %w", err)
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); errors.Is(err, fs.ErrExist) {
		return loadOrCreateKey(path, false) // another program created it first: use theirs
	} else if err != nil {
		return nil, err
	}
	return key, nil
}

// ErrSealKeyMissing: the data directory holds a database but not the seal key
// file that sealed its secrets. A new key would open none of them.
var ErrSealKeyMissing = errors.New("the seal key file is missing")

func sealKey(fromEnv, dataDir, databaseURL string) ([]byte, string, error) {
	if strings.TrimSpace(fromEnv) != "" {
		key, err := store.ParseSealKey(strings.TrimSpace(fromEnv))
		if err != nil {
			return nil, "", fmt.Errorf("config: %s: %w", EnvSealKey, err)
		}
		return key, EnvSealKey, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("config: data directory: %w", err)
	}
	path := filepath.Join(dataDir, "seal.key")
	if db, ok := databaseNextTo(databaseURL, dataDir); ok {
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			// Checked before a key is made: a new key file would be left
			// behind, and the next start would take it for the right one.
			return nil, "", fmt.Errorf("config: %w: %s is gone, but the database %s beside it was sealed with it; restore the file from a backup (or set %s to the key), or move the database away to start afresh",
				ErrSealKeyMissing, path, db, EnvSealKey)
		}
	}
	key, err := store.LoadOrCreateSealKey(path)
	if err != nil {
		return nil, "", fmt.Errorf("config: %w", err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		// Another working directory is one way to end up with another key file.
		path = abs
	}
	return key, "the file " + path, nil
}

// databaseNextTo returns the SQLite database file of databaseURL if it is in
// dataDir, where the seal key file lives, and holds data.
func databaseNextTo(databaseURL, dataDir string) (string, bool) {
	if databaseURL == "" || store.IsPostgres(databaseURL) {
		return "", false
	}
	p := strings.TrimPrefix(strings.TrimSpace(databaseURL), "sqlite:")
	if p == ":memory:" {
		return "", false
	}
	dir, err1 := filepath.Abs(filepath.Dir(p))
	data, err2 := filepath.Abs(dataDir)
	if err1 != nil || err2 != nil || dir != data {
		return "", false
	}
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return "", false
	}
	return p, true
}

// writeNew creates a file readable by its owner only, whole or not at all:
// the data goes to a temporary file that is then linked into place, so a
// crash never leaves a half-written key, and of two programs starting at
// once one wins and the other reads what it wrote (ErrExist).
func writeNew(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("config: %w", unwrapPathError(err))
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("config: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("config: %w", unwrapPathError(err))
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("config: %w", unwrapPathError(err))
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RedactDatabaseURL hides the password in a database URL (user info and
// password query parameters) or in a PostgreSQL keyword string
// ("host=db password=..."); a file path is returned as it is.
func RedactDatabaseURL(s string) string {
	u, err := url.Parse(s)
	if err != nil && urlScheme.MatchString(s) {
		// Unparseable (a password with a stray '%', say) yet plainly a URL:
		// everything up to the last '@' may be the password.
		scheme, rest, _ := strings.Cut(s, "://")
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			rest = "xxxxx@" + rest[i+1:]
		}
		return scheme + "://" + keywordPassword.ReplaceAllString(rest, "${1}xxxxx")
	}
	// A Unix-socket URL (postgres://app:pw@/crm?host=/run/postgresql) has
	// no host, yet its password is as secret as any.
	if err == nil && u.Scheme != "" && (u.Host != "" || u.User != nil || u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		return u.Redacted()
	}
	if keywordPassword.MatchString(s) {
		return keywordPassword.ReplaceAllString(s, "${1}xxxxx")
	}
	return s
}

// urlScheme finds a URL's "scheme://" prefix.
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// keywordPassword finds password values in a libpq keyword string, quoted
// ('with spaces') or not.
var keywordPassword = regexp.MustCompile(`(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
