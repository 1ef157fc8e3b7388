package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// localData is a local-mode data directory as a first run leaves it: key
// files and a migrated database. It returns the directory and the
// database's path.
func localData(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(string) string { return "" }, dir)
	require.NoError(t, err)
	st, err := store.Open(context.Background(), cfg.DatabaseURL, cfg.SealKey)
	require.NoError(t, err)
	require.NoError(t, st.UpsertTenant(context.Background(), store.Approval{ContextIdentifier: "Cust10000", SystemUserToken: "token"}))
	_, err = st.DB().ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	return dir, cfg.DatabaseURL
}

// TestRunFindsReadOnlyDatabase: a database the app cannot write stops it
// at start-up with a message that says so, rather than failing at the
// first approval. The file's header makes it read-only to SQLite, which
// binds root too (file modes would not).
func TestRunFindsReadOnlyDatabase(t *testing.T) {
	dir, db := localData(t)
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{3}, 18) // the write version SQLite may only read
	require.NoError(t, err)
	require.NoError(t, f.Close())

	err = run(context.Background(), []string{"-data", dir, "-addr", freeAddr(t)}, func(string) string { return "" }, io.Discard, io.Discard)
	require.ErrorIs(t, err, store.ErrReadOnly)
	assert.Contains(t, err.Error(), "cannot be written")
	assert.Contains(t, err.Error(), db)
}

// TestRunRefusesMissingSealKey: a data directory whose database outlived
// its seal.key stops the app with a message naming the missing file, and
// no new key file is left behind to be taken for the right one next time.
func TestRunRefusesMissingSealKey(t *testing.T) {
	dir, db := localData(t)
	keyFile := filepath.Join(dir, "seal.key")
	require.NoError(t, os.Remove(keyFile))
	before, err := os.ReadDir(dir)
	require.NoError(t, err)

	err = run(context.Background(), []string{"-data", dir, "-addr", freeAddr(t)}, func(string) string { return "" }, io.Discard, io.Discard)
	require.ErrorIs(t, err, config.ErrSealKeyMissing)
	assert.Contains(t, err.Error(), keyFile)
	assert.Contains(t, err.Error(), db)
	assert.NoFileExists(t, keyFile)
	after, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, names(before), names(after), "files in the data directory")
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
