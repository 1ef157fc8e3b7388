package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLocalModeCreatesAndReusesItsFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := Load(env(nil), dir)
	require.NoError(t, err)
	assert.True(t, c.Local, "local")
	assert.Equal(t, superid.Environment("http://"+LocalEmulatorAddr), c.Environment)
	assert.Equal(t, LocalClientID, c.ClientID)
	assert.NotEmpty(t, c.ClientSecret, "client secret")
	assert.Equal(t, filepath.Join(dir, "superoffice.db"), c.DatabaseURL)
	assert.Len(t, c.SealKey, 32, "seal key")
	require.NotNil(t, c.PrivateKey, "private key")
	for _, f := range []string{"partner-key.pem", "local-app.json", "seal.key"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s's mode", f)
	}
	again, err := Load(env(nil), dir)
	require.NoError(t, err)
	const reuse = "a second Load made new secrets instead of reusing them"
	assert.True(t, again.PrivateKey.Equal(c.PrivateKey), reuse)
	assert.Equal(t, c.ClientSecret, again.ClientSecret, reuse)
	assert.Equal(t, c.SealKey, again.SealKey, reuse)
	assert.NotContains(t, c.String(), c.ClientSecret, "String shows the client secret")
}

func TestPartialConfigurationNamesWhatIsMissing(t *testing.T) {
	_, err := Load(env(map[string]string{EnvEnvironment: "sod", EnvClientID: "abc"}), t.TempDir())
	require.Error(t, err)
	for _, n := range []string{EnvClientSecret, EnvPrivateKeyFile, EnvRedirectURL} {
		assert.ErrorContains(t, err, n, "the error does not name %s", n)
	}
	assert.NotContains(t, err.Error(), "\n", "the error is not one line")
}

// writeKey writes a new RSA key to dir/key.pem and returns the key and the file.
func writeKey(t *testing.T, dir string) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	return key, keyFile
}

func TestOnlineConfiguration(t *testing.T) {
	dir := t.TempDir()
	key, keyFile := writeKey(t, dir)
	good := map[string]string{
		EnvEnvironment: "online", EnvClientID: "id", EnvClientSecret: "s3cret-value",
		EnvPrivateKeyFile: keyFile, EnvRedirectURL: "https://app.example.com/callback",
		EnvDatabaseURL: "postgres://u:dbpass@127.0.0.1:5432/x",
		EnvSealKey:     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}
	c, err := Load(env(good), dir)
	require.NoError(t, err)
	assert.False(t, c.Local, "local")
	assert.Equal(t, superid.Environment("https://online.superoffice.com"), c.Environment)
	assert.True(t, c.PrivateKey.Equal(key), "the private key is not the file's")
	assert.NotContains(t, c.String(), "dbpass", "String leaks a secret")
	assert.NotContains(t, c.String(), "s3cret-value", "String leaks a secret")

	bad := maps.Clone(good)
	bad[EnvEnvironment] = "mars"
	bad[EnvPrivateKeyFile] = filepath.Join(dir, "missing.xml")
	bad[EnvRedirectURL] = "/callback"
	_, err = Load(env(bad), dir)
	require.Error(t, err)
	for _, n := range []string{EnvEnvironment, EnvPrivateKeyFile, EnvRedirectURL} {
		assert.ErrorContains(t, err, n, "the error does not name %s", n)
	}

	require.NoError(t, os.WriteFile(keyFile, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600))
	_, err = Load(env(maps.Clone(good)), dir)
	require.ErrorContains(t, err, EnvPrivateKeyFile, "broken key file")
}

func TestRedirectURLNeedsACallbackPath(t *testing.T) {
	dir := t.TempDir()
	_, keyFile := writeKey(t, dir)
	for redirect, ok := range map[string]bool{
		"https://app.example.com":                  false,
		"https://app.example.com/":                 false,
		"https://app.example.com/?x=1":             false,
		"http://localhost:8080/":                   false,
		"https://app.example.com/callback":         true,
		"https://app.example.com/crm/signin/":      true,
		"https://app.example.com/crm/callback?x=1": true,
	} {
		_, err := Load(env(map[string]string{
			EnvEnvironment: "sod", EnvClientID: "id", EnvClientSecret: "s", EnvPrivateKeyFile: keyFile,
			EnvRedirectURL: redirect, EnvDatabaseURL: "postgres://db/x",
			EnvSealKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		}), dir)
		if ok {
			assert.NoError(t, err, "%s %q", EnvRedirectURL, redirect)
			continue
		}
		// An error naming the variable and suggesting a path.
		assert.ErrorContains(t, err, EnvRedirectURL, "%s %q", EnvRedirectURL, redirect)
		assert.ErrorContains(t, err, "/callback", "%s %q", EnvRedirectURL, redirect)
	}
}

func TestSealKeyFromEnvironment(t *testing.T) {
	_, err := Load(env(map[string]string{EnvSealKey: "too-short"}), t.TempDir())
	require.ErrorContains(t, err, EnvSealKey, "bad seal key")
}

func TestOnlineModeRequiresASharedSealKey(t *testing.T) {
	dir := t.TempDir()
	_, keyFile := writeKey(t, dir)
	_, err := Load(env(map[string]string{
		EnvEnvironment: "sod", EnvClientID: "id", EnvClientSecret: "s", EnvPrivateKeyFile: keyFile,
		EnvRedirectURL: "https://app.example.com/callback", EnvDatabaseURL: "postgres://db/x",
	}), dir)
	require.ErrorContains(t, err, EnvSealKey, "online mode without %s", EnvSealKey)
	require.NoFileExists(t, filepath.Join(dir, "seal.key"), "online mode made a machine-local seal key")
}

// TestLocalFilesThatAreDanglingLinks: a local-mode file that is a symbolic
// link to nothing reads as missing, yet its name exists, so a new one
// cannot be linked into place. Load says so, naming the file, instead of
// trying again for ever (which would show as the test binary's timeout).
func TestLocalFilesThatAreDanglingLinks(t *testing.T) {
	for _, f := range []string{"partner-key.pem", "local-app.json"} {
		t.Run(f, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			require.NoError(t, os.MkdirAll(dir, 0o700))
			path := filepath.Join(dir, f)
			require.NoError(t, os.Symlink(filepath.Join(dir, "missing", f), path), "making a symbolic link")
			_, err := Load(env(nil), dir)
			require.ErrorContains(t, err, path, "dangling link")
		})
	}
}

func TestConcurrentLocalLoadsAgree(t *testing.T) {
	for round := 0; round < 5; round++ {
		dir := filepath.Join(t.TempDir(), "data")
		const n = 4
		cfgs := make([]*Config, n)
		errs := make([]error, n)
		done := make(chan int)
		for i := 0; i < n; i++ {
			go func(i int) { cfgs[i], errs[i] = Load(env(nil), dir); done <- i }(i)
		}
		for i := 0; i < n; i++ {
			<-done
		}
		for i := 0; i < n; i++ {
			require.NoError(t, errs[i], "round %d: concurrent Load %d", round, i)
			require.True(t, cfgs[i].PrivateKey.Equal(cfgs[0].PrivateKey), "round %d: concurrent Loads disagree on the local key", round)
			require.Equal(t, cfgs[0].ClientSecret, cfgs[i].ClientSecret, "round %d: concurrent Loads disagree on the local app", round)
		}
		left, err := filepath.Glob(filepath.Join(dir, ".*"))
		require.NoError(t, err)
		require.Empty(t, left, "temporary files left behind")
	}
}

func TestLocalRedirectURL(t *testing.T) {
	for addr, want := range map[string]string{
		"localhost:8080": "http://localhost:8080/callback",
		":9090":          "http://localhost:9090/callback",
		"0.0.0.0:8080":   "http://localhost:8080/callback",
		"127.0.0.1:8000": "http://127.0.0.1:8000/callback",
		"[::1]:8080":     "http://[::1]:8080/callback",
	} {
		assert.Equal(t, want, LocalRedirectURL(addr), "LocalRedirectURL(%q)", addr)
	}
}

func TestRedactDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		in, secret string
		want       string // empty: only check that secret is gone
	}{
		{in: "postgres://app:S3cretPw@db/crm", secret: "S3cretPw", want: "postgres://app:xxxxx@db/crm"},
		{in: "postgres://app@db/crm?password=S3cretPw&sslmode=off", secret: "S3cretPw"},
		// Unix sockets: no host in the URL.
		{in: "postgres://app:S3cretPw@/crm?host=/var/run/postgresql", secret: "S3cretPw", want: "postgres://app:xxxxx@/crm?host=%2Fvar%2Frun%2Fpostgresql"},
		{in: "postgresql://app:S3cretPw@/crm", secret: "S3cretPw", want: "postgresql://app:xxxxx@/crm"},
		{in: "postgres:///crm?host=/var/run/postgresql&password=S3cretPw", secret: "S3cretPw"},
		{in: "postgresql://app:S3cretPw@%2Fvar%2Frun%2Fpostgresql/crm", secret: "S3cretPw"},
		// Not parseable as a URL: a '%' in the password.
		{in: "postgres://app:50%off!@db/crm", secret: "off!", want: "postgres://xxxxx@db/crm"},
		{in: "postgres://app:S3cret%zz@/crm?password=S3cretPw", secret: "S3cret"},
		{in: "host=db user=app password=S3cretPw dbname=crm", secret: "S3cretPw"},
		{in: "host=db password='S3cret Pw' dbname=crm", secret: "S3cret"},
		{in: "host=db sslpassword=S3cretPw", secret: "S3cretPw"},
		{in: "data/superoffice.db", want: "data/superoffice.db"},
		{in: "file:data/superoffice.db", want: "file:data/superoffice.db"},
		{in: "postgres://app@db/crm", want: "postgres://app@db/crm"},
	} {
		got := RedactDatabaseURL(tc.in)
		if tc.secret != "" {
			assert.NotContains(t, got, tc.secret, "RedactDatabaseURL(%q) keeps the password", tc.in)
		}
		if tc.want != "" {
			assert.Equal(t, tc.want, got, "RedactDatabaseURL(%q)", tc.in)
		}
	}
}
