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

func TestSealKeyFromEnvironment(t *testing.T) {
	_, err := Load(env(map[string]string{EnvSealKey: "too-short"}), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), EnvSealKey) {
		t.Fatalf("bad seal key: %v", err)
	}
}
