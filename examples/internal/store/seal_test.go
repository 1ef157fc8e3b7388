package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSealRoundTripAndBinding(t *testing.T) {
	s, err := newSealer(GenerateSealKey())
	require.NoError(t, err)
	a := s.seal([]byte("secret"), "tenants", "token", "cust1")
	b := s.seal([]byte("secret"), "tenants", "token", "cust1")
	require.NotEqual(t, a, b, "two seals of the same value are equal: nonce reused")
	pt, err := s.open(a, "tenants", "token", "cust1")
	require.NoError(t, err)
	require.Equal(t, "secret", string(pt))
	for _, where := range [][3]string{{"tenants", "token", "cust2"}, {"tenants", "other", "cust1"}, {"sessions", "token", "cust1"}} {
		_, err := s.open(a, where[0], where[1], where[2])
		assert.ErrorIs(t, err, ErrSealBroken, "opened at %v", where)
	}
	for i := range a {
		c := bytes.Clone(a)
		c[i] ^= 0x80
		_, err := s.open(c, "tenants", "token", "cust1")
		require.ErrorIs(t, err, ErrSealBroken, "flipped byte %d opened", i)
	}
	for _, bad := range [][]byte{nil, {}, {1}, a[:len(a)-1]} {
		_, err := s.open(bad, "tenants", "token", "cust1")
		require.ErrorIs(t, err, ErrSealBroken, "short value %x opened", bad)
	}
	_, err = newSealer(make([]byte, 16))
	require.ErrorIs(t, err, ErrBadKey, "16-byte key")
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
		if assert.NoError(t, err, "ParseSealKey(%q)", s) {
			assert.Equal(t, k, got, "ParseSealKey(%q)", s)
		}
	}
	for _, s := range []string{"", "   ", "not a key at all!", base64.StdEncoding.EncodeToString(k[:16]), hex.EncodeToString(k)[:62]} {
		_, err := ParseSealKey(s)
		if assert.ErrorIs(t, err, ErrBadKey, "ParseSealKey(%q)", s) && strings.TrimSpace(s) != "" {
			assert.NotContains(t, err.Error(), strings.TrimSpace(s), "the error repeats the input")
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
		require.NoError(t, errs[i])
		require.Len(t, keys[i], SealKeySize, "key %d", i)
		require.Equal(t, keys[0], keys[i], "key %d differs", i)
	}
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "key file mode")
	dst, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dst.Mode().Perm(), "key dir mode")
	again, err := LoadOrCreateSealKey(path)
	require.NoError(t, err, "reload")
	require.Equal(t, keys[0], again, "reload")
	left, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".sealkey-*"))
	require.NoError(t, err)
	require.Empty(t, left, "temp files left")
	// A file that is not a key: a clear error that does not print the content.
	bad := filepath.Join(t.TempDir(), "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte("hunter2-hunter2"), 0o600))
	_, err = LoadOrCreateSealKey(bad)
	require.ErrorIs(t, err, ErrBadKey, "bad key file")
	assert.NotContains(t, err.Error(), "hunter2", "bad key file: the error shows the content")
	assert.Contains(t, err.Error(), bad, "bad key file: the error does not name the file")
}

// TestLoadOrCreateSealKeyDanglingLink: a key file that is a symbolic link
// to nothing (a secrets mount that is not there) reads as missing, yet its
// name exists, so the new key cannot be linked into place. That is an
// error naming the file, not a retry for ever (which would show as the
// test binary's timeout).
func TestLoadOrCreateSealKeyDanglingLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seal.key")
	require.NoError(t, os.Symlink(filepath.Join(dir, "missing", "seal.key"), path), "making a symbolic link")
	_, err := LoadOrCreateSealKey(path)
	require.ErrorContains(t, err, path, "dangling link")
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := Open(ctx, filepath.Join(dir, "x.db"), []byte("short"))
	assert.ErrorIs(t, err, ErrBadKey, "short key")
	_, err = Open(ctx, "", GenerateSealKey())
	assert.ErrorIs(t, err, ErrInvalid, "empty dsn")
	_, err = Open(ctx, filepath.Join(dir, "x.db?mode=ro"), GenerateSealKey())
	assert.ErrorIs(t, err, ErrInvalid, "dsn with '?'")
	_, err = Open(ctx, "mysql://u@127.0.0.1/db", GenerateSealKey())
	if assert.ErrorIs(t, err, ErrInvalid, "unknown scheme") {
		assert.Contains(t, err.Error(), `"mysql"`, "unknown scheme")
	}
	// libpq's keyword form goes to PostgreSQL, never to a file named after it.
	_, err = Open(ctx, "host=127.0.0.1 port=1 user=u password=kwpass99 dbname=x connect_timeout=2", GenerateSealKey())
	if assert.Error(t, err, "keyword DSN") {
		assert.NotContains(t, err.Error(), "kwpass99", "keyword DSN")
	}
	// Whatever keyword comes first: libpq has some forty (options,
	// target_session_attrs...), and pgx takes run-time parameters too.
	for _, dsn := range []string{
		"options='-c statement_timeout=5s' host=127.0.0.1 port=1 password=kwpass99 dbname=x connect_timeout=2",
		"target_session_attrs=any host=127.0.0.1 port=1 password=kwpass99 connect_timeout=2",
	} {
		_, err := Open(ctx, dsn, GenerateSealKey())
		if assert.Error(t, err, "keyword DSN %.30q...", dsn) {
			assert.NotContains(t, err.Error(), "kwpass99", "keyword DSN %.30q...", dsn)
		}
	}
	for _, pattern := range []string{"host=*", "options=*", "target_session_attrs=*"} {
		m, _ := filepath.Glob(pattern)
		for _, f := range m {
			os.Remove(f)
		}
		assert.Empty(t, m, "keyword DSN created files")
	}
	assert.NoFileExists(t, "mysql:", "unknown scheme created a file named mysql:")
	assert.NoDirExists(t, "mysql:", "unknown scheme created a directory named mysql:")
	// A PostgreSQL URL with a password that cannot connect: the error must not show it.
	_, err = Open(ctx, "postgres://u:hunter2pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", GenerateSealKey())
	if assert.Error(t, err, "unreachable postgres") {
		assert.NotContains(t, err.Error(), "hunter2pw", "unreachable postgres")
	}
	var se *Error
	if assert.ErrorAs(t, err, &se) {
		assert.Equal(t, "open", se.Op, "error op")
	}
}

func TestSQLiteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := filepath.Join(dir, "app.db")
	key := GenerateSealKey()
	s, err := Open(context.Background(), "sqlite:"+p, key)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, SQLite, s.Dialect())
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.Zero(t, st.Mode().Perm()&0o077, "database file mode %o", st.Mode().Perm())
	var mode string
	var fk, busy int
	db := s.DB()
	require.NoError(t, db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	require.NoError(t, db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk))
	require.NoError(t, db.QueryRow(`PRAGMA busy_timeout`).Scan(&busy))
	assert.Equal(t, "wal", mode, "journal_mode")
	assert.Equal(t, 1, fk, "foreign_keys")
	assert.Equal(t, 10000, busy, "busy_timeout")
	var cache int
	require.NoError(t, db.QueryRow(`PRAGMA cache_size`).Scan(&cache))
	require.Equal(t, -2000, cache, "cache_size, want SQLite's default")

	// One connection, whatever MaxOpenConns says, with a bounded page cache.
	s2, err := OpenConfig(context.Background(), Config{DSN: p, SealKey: key, SQLiteCacheKiB: 512, MaxOpenConns: 10})
	require.NoError(t, err)
	defer s2.Close()
	assert.Equal(t, 1, s2.DB().Stats().MaxOpenConnections, "SQLite connections")
	require.NoError(t, s2.DB().QueryRow(`PRAGMA cache_size`).Scan(&cache))
	require.Equal(t, -512, cache, "cache_size")
}
