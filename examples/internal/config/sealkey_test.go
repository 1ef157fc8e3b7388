package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMissingSealKeyBesideDatabase: with a database in the data directory
// and no seal.key, Load refuses and makes no key; without a database there,
// or with one elsewhere, it makes the key as before.
func TestMissingSealKeyBesideDatabase(t *testing.T) {
	none := func(string) string { return "" }
	t.Run("database beside it", func(t *testing.T) {
		dir := t.TempDir()
		db := filepath.Join(dir, "superoffice.db")
		require.NoError(t, os.WriteFile(db, []byte("SQLite format 3\x00"), 0o600))
		_, err := Load(none, dir)
		require.ErrorIs(t, err, ErrSealKeyMissing)
		assert.Contains(t, err.Error(), filepath.Join(dir, "seal.key"))
		assert.Contains(t, err.Error(), db)
		assert.Contains(t, err.Error(), EnvSealKey)
		assert.NoFileExists(t, filepath.Join(dir, "seal.key"))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			assert.NotContains(t, e.Name(), "seal", "a key file left behind")
		}
	})
	t.Run("key given by the variable", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "superoffice.db"), []byte("SQLite format 3\x00"), 0o600))
		key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
		cfg, err := Load(func(k string) string { return map[string]string{EnvSealKey: key}[k] }, dir)
		require.NoError(t, err)
		assert.Len(t, cfg.SealKey, 32)
	})
	t.Run("no database yet", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Load(none, dir)
		require.NoError(t, err)
		assert.FileExists(t, filepath.Join(dir, "seal.key"))
	})
	t.Run("empty database file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "superoffice.db"), nil, 0o600))
		_, err := Load(none, dir)
		require.NoError(t, err)
		assert.FileExists(t, filepath.Join(dir, "seal.key"))
	})
	t.Run("database elsewhere", func(t *testing.T) {
		dir := t.TempDir()
		other := filepath.Join(t.TempDir(), "other.db")
		require.NoError(t, os.WriteFile(other, []byte("SQLite format 3\x00"), 0o600))
		_, err := Load(func(k string) string { return map[string]string{EnvDatabaseURL: other}[k] }, dir)
		require.NoError(t, err)
		assert.FileExists(t, filepath.Join(dir, "seal.key"))
	})
}
