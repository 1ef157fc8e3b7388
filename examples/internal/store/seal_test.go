package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSealRoundTripAndBinding(t *testing.T) {
	s, err := newSealer(GenerateSealKey())
	if err != nil {
		t.Fatal(err)
	}
	a := s.seal([]byte("secret"), "tenants", "token", "cust1")
	b := s.seal([]byte("secret"), "tenants", "token", "cust1")
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same value are equal: nonce reused")
	}
	if pt, err := s.open(a, "tenants", "token", "cust1"); err != nil || string(pt) != "secret" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	for _, where := range [][3]string{{"tenants", "token", "cust2"}, {"tenants", "other", "cust1"}, {"sessions", "token", "cust1"}} {
		if _, err := s.open(a, where[0], where[1], where[2]); !errors.Is(err, ErrSealBroken) {
			t.Errorf("opened at %v: %v", where, err)
		}
	}
	for i := range a {
		c := bytes.Clone(a)
		c[i] ^= 0x80
		if _, err := s.open(c, "tenants", "token", "cust1"); !errors.Is(err, ErrSealBroken) {
			t.Fatalf("flipped byte %d opened", i)
		}
	}
	for _, bad := range [][]byte{nil, {}, {1}, a[:len(a)-1]} {
		if _, err := s.open(bad, "tenants", "token", "cust1"); !errors.Is(err, ErrSealBroken) {
			t.Fatalf("short value %x opened", bad)
		}
	}
	if _, err := newSealer(make([]byte, 16)); !errors.Is(err, ErrBadKey) {
		t.Fatalf("16-byte key: %v", err)
	}
}

func TestParseSealKey(t *testing.T) {
	k := GenerateSealKey()
	for _, s := range []string{
		EncodeSealKey(k),
		" " + EncodeSealKey(k) + "\n",
		base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k),
		base64.RawURLEncoding.EncodeToString(k),
		hex.EncodeToString(k),
	} {
		got, err := ParseSealKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseSealKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "   ", "not a key at all!", base64.StdEncoding.EncodeToString(k[:16]), hex.EncodeToString(k)[:62]} {
		_, err := ParseSealKey(s)
		if !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseSealKey(%q): %v", s, err)
		}
		if err != nil && strings.TrimSpace(s) != "" && strings.Contains(err.Error(), strings.TrimSpace(s)) {
			t.Errorf("error repeats the input: %v", err)
		}
	}
}

func TestLoadOrCreateSealKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "seal.key")
	// Several processes starting at once agree on one key.
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	errs := make([]error, 8)
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateSealKey(path) })
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) || len(keys[i]) != SealKeySize {
			t.Fatalf("key %d differs", i)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %o", dst.Mode().Perm())
	}
	again, err := LoadOrCreateSealKey(path)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("reload: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".sealkey-*"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
	// A file that is not a key: a clear error that does not print the content.
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("hunter2-hunter2"), 0o600)
	_, err = LoadOrCreateSealKey(bad)
	if !errors.Is(err, ErrBadKey) || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad key file: %v", err)
	}
}

// TestLoadOrCreateSealKeyDanglingLink: a key file that is a symbolic link
// to nothing (a secrets mount that is not there) reads as missing, yet its
// name exists, so the new key cannot be linked into place. That is an
// error naming the file, not a retry for ever.
func TestLoadOrCreateSealKeyDanglingLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seal.key")
	if err := os.Symlink(filepath.Join(dir, "missing", "seal.key"), path); err != nil {
		t.Fatal("making a symbolic link:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := LoadOrCreateSealKey(path)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("dangling link: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LoadOrCreateSealKey did not return for a dangling link")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Open(ctx, filepath.Join(dir, "x.db"), []byte("short")); !errors.Is(err, ErrBadKey) {
		t.Errorf("short key: %v", err)
	}
	if _, err := Open(ctx, "", GenerateSealKey()); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty dsn: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(dir, "x.db?mode=ro"), GenerateSealKey()); !errors.Is(err, ErrInvalid) {
		t.Errorf("dsn with '?': %v", err)
	}
	if _, err := Open(ctx, "mysql://u@127.0.0.1/db", GenerateSealKey()); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"mysql"`) {
		t.Errorf("unknown scheme: %v", err)
	}
	// libpq's keyword form goes to PostgreSQL, never to a file named after it.
	if _, err := Open(ctx, "host=127.0.0.1 port=1 user=u password=kwpass99 dbname=x connect_timeout=2", GenerateSealKey()); err == nil || strings.Contains(err.Error(), "kwpass99") {
		t.Errorf("keyword DSN: %v", err)
	}
	// Whatever keyword comes first: libpq has some forty (options,
	// target_session_attrs...), and pgx takes run-time parameters too.
	for _, dsn := range []string{
		"options='-c statement_timeout=5s' host=127.0.0.1 port=1 password=kwpass99 dbname=x connect_timeout=2",
		"target_session_attrs=any host=127.0.0.1 port=1 password=kwpass99 connect_timeout=2",
	} {
		if _, err := Open(ctx, dsn, GenerateSealKey()); err == nil || strings.Contains(err.Error(), "kwpass99") {
			t.Errorf("keyword DSN %.30q...: %v", dsn, err)
		}
	}
	for _, pattern := range []string{"host=*", "options=*", "target_session_attrs=*"} {
		m, _ := filepath.Glob(pattern)
		for _, f := range m {
			os.Remove(f)
		}
		if len(m) > 0 {
			t.Errorf("keyword DSN created files: %v", m)
		}
	}
	if _, err := os.Stat("mysql:"); err == nil {
		t.Errorf("unknown scheme created a directory named mysql:")
	}
	// A PostgreSQL URL with a password that cannot connect: the error must not show it.
	_, err := Open(ctx, "postgres://u:hunter2pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", GenerateSealKey())
	if err == nil || strings.Contains(err.Error(), "hunter2pw") {
		t.Errorf("unreachable postgres: %v", err)
	}
	var se *Error
	if !errors.As(err, &se) || se.Op != "open" {
		t.Errorf("error type: %#v", err)
	}
}

func TestSQLiteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := filepath.Join(dir, "app.db")
	key := GenerateSealKey()
	s, err := Open(context.Background(), "sqlite:"+p, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Dialect() != SQLite {
		t.Fatalf("dialect %s", s.Dialect())
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Fatalf("database file mode %o", st.Mode().Perm())
	}
	var mode string
	var fk, busy int
	db := s.DB()
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	db.QueryRow(`PRAGMA busy_timeout`).Scan(&busy)
	if mode != "wal" || fk != 1 || busy != 10000 {
		t.Fatalf("pragmas: journal_mode %s foreign_keys %d busy_timeout %d", mode, fk, busy)
	}
	var cache int
	db.QueryRow(`PRAGMA cache_size`).Scan(&cache)
	if cache != -2000 {
		t.Fatalf("cache_size %d, want SQLite's default -2000", cache)
	}

	// A bounded page cache, on every connection of the pool.
	s2, err := OpenConfig(context.Background(), Config{DSN: p, SealKey: key, SQLiteCacheKiB: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		if conns[i], err = s2.DB().Conn(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
		conns[i].QueryRowContext(context.Background(), `PRAGMA cache_size`).Scan(&cache)
		if cache != -512 {
			t.Fatalf("connection %d: cache_size %d, want -512", i, cache)
		}
	}
}
