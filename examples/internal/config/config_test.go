package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLocalModeCreatesAndReusesItsFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := Load(env(nil), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Local || c.Environment != "http://"+LocalEmulatorAddr || c.ClientID != LocalClientID || c.ClientSecret == "" {
		t.Fatalf("local config: %+v", c)
	}
	if c.DatabaseURL != filepath.Join(dir, "superoffice.db") || len(c.SealKey) != 32 || c.PrivateKey == nil {
		t.Fatalf("local config files: db=%s seal=%d key=%v", c.DatabaseURL, len(c.SealKey), c.PrivateKey != nil)
	}
	for _, f := range []string{"partner-key.pem", "local-app.json", "seal.key"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	again, err := Load(env(nil), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.PrivateKey.Equal(c.PrivateKey) || again.ClientSecret != c.ClientSecret || string(again.SealKey) != string(c.SealKey) {
		t.Fatal("a second Load made new secrets instead of reusing them")
	}
	if strings.Contains(c.String(), c.ClientSecret) {
		t.Fatal("String shows the client secret")
	}
}

func TestPartialConfigurationNamesWhatIsMissing(t *testing.T) {
	_, err := Load(env(map[string]string{EnvEnvironment: "sod", EnvClientID: "abc"}), t.TempDir())
	if err == nil {
		t.Fatal("want an error")
	}
	for _, n := range []string{EnvClientSecret, EnvPrivateKeyFile, EnvRedirectURL} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error does not name %s: %v", n, err)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

func TestOnlineConfiguration(t *testing.T) {
	dir := t.TempDir()
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	good := map[string]string{
		EnvEnvironment: "online", EnvClientID: "id", EnvClientSecret: "s3cret-value",
		EnvPrivateKeyFile: keyFile, EnvRedirectURL: "https://app.example.com/callback",
		EnvDatabaseURL: "postgres://u:dbpass@127.0.0.1:5432/x",
		EnvSealKey:     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}
	c, err := Load(env(good), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Local || c.Environment != "https://online.superoffice.com" || !c.PrivateKey.Equal(key) {
		t.Fatalf("online config: %+v", c)
	}
	if s := c.String(); strings.Contains(s, "dbpass") || strings.Contains(s, "s3cret-value") {
		t.Fatalf("String leaks a secret: %s", s)
	}

	bad := map[string]string{}
	for k, v := range good {
		bad[k] = v
	}
	bad[EnvEnvironment] = "mars"
	bad[EnvPrivateKeyFile] = filepath.Join(dir, "missing.xml")
	bad[EnvRedirectURL] = "/callback"
	_, err = Load(env(bad), dir)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, n := range []string{EnvEnvironment, EnvPrivateKeyFile, EnvRedirectURL} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error does not name %s: %v", n, err)
		}
	}

	os.WriteFile(keyFile, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600)
	bad = map[string]string{}
	for k, v := range good {
		bad[k] = v
	}
	if _, err := Load(env(bad), dir); err == nil || !strings.Contains(err.Error(), EnvPrivateKeyFile) {
		t.Fatalf("broken key file: %v", err)
	}
}

func TestRedirectURLNeedsACallbackPath(t *testing.T) {
	dir := t.TempDir()
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
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
		switch {
		case ok && err != nil:
			t.Errorf("%s %q: %v", EnvRedirectURL, redirect, err)
		case !ok && (err == nil || !strings.Contains(err.Error(), EnvRedirectURL) || !strings.Contains(err.Error(), "/callback")):
			t.Errorf("%s %q: want an error naming the variable and suggesting a path, got %v", EnvRedirectURL, redirect, err)
		}
	}
}

func TestSealKeyFromEnvironment(t *testing.T) {
	_, err := Load(env(map[string]string{EnvSealKey: "too-short"}), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), EnvSealKey) {
		t.Fatalf("bad seal key: %v", err)
	}
}

func TestOnlineModeRequiresASharedSealKey(t *testing.T) {
	dir := t.TempDir()
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	_, err := Load(env(map[string]string{
		EnvEnvironment: "sod", EnvClientID: "id", EnvClientSecret: "s", EnvPrivateKeyFile: keyFile,
		EnvRedirectURL: "https://app.example.com/callback", EnvDatabaseURL: "postgres://db/x",
	}), dir)
	if err == nil || !strings.Contains(err.Error(), EnvSealKey) {
		t.Fatalf("online mode without %s: %v", EnvSealKey, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "seal.key")); err == nil {
		t.Fatal("online mode made a machine-local seal key")
	}
}

// TestLocalFilesThatAreDanglingLinks: a local-mode file that is a symbolic
// link to nothing reads as missing, yet its name exists, so a new one
// cannot be linked into place. Load says so, naming the file, instead of
// trying again for ever.
func TestLocalFilesThatAreDanglingLinks(t *testing.T) {
	for _, f := range []string{"partner-key.pem", "local-app.json"} {
		t.Run(f, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, f)
			if err := os.Symlink(filepath.Join(dir, "missing", f), path); err != nil {
				t.Fatal("making a symbolic link:", err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := Load(env(nil), dir)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Fatalf("dangling link: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Load did not return for a dangling link")
			}
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
			if errs[i] != nil {
				t.Fatalf("round %d: concurrent Load %d: %v", round, i, errs[i])
			}
			if !cfgs[i].PrivateKey.Equal(cfgs[0].PrivateKey) || cfgs[i].ClientSecret != cfgs[0].ClientSecret {
				t.Fatalf("round %d: concurrent Loads disagree on the local key or app", round)
			}
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".*"))
		if len(left) > 0 {
			t.Fatalf("temporary files left behind: %v", left)
		}
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
		if got := LocalRedirectURL(addr); got != want {
			t.Errorf("LocalRedirectURL(%q) = %q, want %q", addr, got, want)
		}
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
		if tc.secret != "" && strings.Contains(got, tc.secret) {
			t.Errorf("RedactDatabaseURL(%q) = %q keeps the password", tc.in, got)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("RedactDatabaseURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
