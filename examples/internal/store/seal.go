package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SealKeySize is the length of a seal key: AES-256.
const SealKeySize = 32

// sealVersion is the first byte of every sealed value, so that a future format
// (or key rotation) can tell its values apart.
const sealVersion = 1

// sealer seals secrets with AES-256-GCM. The additional data names the table, the
// column and the row, so a sealed value only opens where it was written.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != SealKeySize {
		return nil, fmt.Errorf("%w (got %d)", ErrBadKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func sealAAD(table, column, row string) []byte {
	return []byte("superoffice-examples-store\x00v1\x00" + table + "\x00" + column + "\x00" + row)
}

// seal returns version || nonce || ciphertext+tag.
func (s *sealer) seal(plaintext []byte, table, column, row string) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1 : 1+ns]) // never fails (crypto/rand crashes the program instead)
	return s.aead.Seal(out, out[1:1+ns], plaintext, sealAAD(table, column, row))
}

// open reverses seal. Every failure is ErrSealBroken: the caller cannot do anything
// different for a wrong key, a flipped bit or a moved value, and the error says so.
func (s *sealer) open(sealed []byte, table, column, row string) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrSealBroken
	}
	pt, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealAAD(table, column, row))
	if err != nil {
		return nil, ErrSealBroken
	}
	return pt, nil
}

// GenerateSealKey returns a new random 32-byte seal key.
func GenerateSealKey() []byte {
	k := make([]byte, SealKeySize)
	rand.Read(k)
	return k
}

// EncodeSealKey returns key in the text form ParseSealKey and key files use (standard
// base64).
func EncodeSealKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// ParseSealKey reads a seal key from text, as found in an environment variable or a key
// file: base64 (standard or URL alphabet, padded or not) or 64 hex digits, surrounding
// white space ignored. The error never repeats the input.
func ParseSealKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, &Error{Op: "parse seal key", Err: fmt.Errorf("%w (empty)", ErrBadKey)}
	}
	if len(s) == 2*SealKeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != SealKeySize {
				return nil, &Error{Op: "parse seal key", Err: fmt.Errorf("%w (decodes to %d bytes)", ErrBadKey, len(k))}
			}
			return k, nil
		}
	}
	return nil, &Error{Op: "parse seal key", Err: fmt.Errorf("%w (not base64 or hex)", ErrBadKey)}
}

// LoadOrCreateSealKey reads the seal key in the file at path, or, when there is no such
// file, generates one and writes it there (base64, mode 0600, parent directories 0700).
// Two processes starting at once end up with the same key: the file appears atomically
// and the loser reads the winner's.
func LoadOrCreateSealKey(path string) ([]byte, error) {
	op := "seal key file " + path
	k, err := readSealKey(op, path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, wrap(op, err)
	}
	tmp, err := os.CreateTemp(dir, ".sealkey-*")
	if err != nil {
		return nil, wrap(op, err)
	}
	defer os.Remove(tmp.Name())
	key := GenerateSealKey()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, wrap(op, err)
	}
	if _, err := tmp.WriteString(EncodeSealKey(key) + "\n"); err != nil {
		tmp.Close()
		return nil, wrap(op, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, wrap(op, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, wrap(op, err)
	}
	// Link, unlike rename, fails when the name exists: then another process won, and
	// its key is read once. Read only, not created again: a name that exists yet reads
	// as missing (a symbolic link to nothing) would otherwise be tried for ever.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readSealKey(op, path)
		}
		return nil, wrap(op, err)
	}
	return key, nil
}

// readSealKey reads the key file at path; an error wraps fs.ErrNotExist when there is
// none.
func readSealKey(op, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, wrap(op, err)
	}
	k, err := ParseSealKey(string(b))
	if err != nil {
		return nil, &Error{Op: op, Err: errors.Unwrap(err)}
	}
	return k, nil
}

const (
	sealCheckTable  = "seal_check"
	sealCheckColumn = "check_value"
	sealCheckRow    = "1"
	// sealCheckPlain is what seal_check holds, sealed: a constant, as only whether it
	// opens matters.
	sealCheckPlain = "superoffice-examples-store seal check"
	// sealCheckSample is how many stored tokens checkSealKey tries on a database that
	// has tenants but no seal_check row yet.
	sealCheckSample = 16
)

// checkSealKey makes sure, within the migration's tx, that the database was written with
// this store's seal key: a wrong key is otherwise only noticed by the next claim, which
// then deactivates every tenant. The first open records a sealed constant in seal_check;
// later opens must be able to open it. A database from before seal_check gets its row
// from the first open whose key opens at least one of its active tenants' stored tokens
// (one tampered row must not lock everyone out); if none of them opens, the key is
// refused.
func (s *Store) checkSealKey(ctx context.Context, tx *sql.Tx) error {
	var sealed []byte
	err := tx.QueryRowContext(ctx, `SELECT check_value FROM seal_check WHERE id = 1`).Scan(&sealed)
	switch {
	case err == nil:
		if _, err := s.seal.open(sealed, sealCheckTable, sealCheckColumn, sealCheckRow); err != nil {
			return ErrSealKeyMismatch
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	// Only active tenants: an inactive one waits for a re-approval, which seals its new
	// token with this key, whatever key sealed the old one.
	rows, err := tx.QueryContext(ctx, `SELECT context_key, system_user_token FROM tenants
		WHERE status = 'active' ORDER BY updated_at DESC LIMIT $1`, sealCheckSample)
	if err != nil {
		return err
	}
	tried, opened := 0, false
	for rows.Next() {
		var key string
		var tok []byte
		if err := rows.Scan(&key, &tok); err != nil {
			rows.Close()
			return err
		}
		tried++
		if _, err := s.seal.open(tok, tenantsTable, tokenColumn, key); err == nil {
			opened = true
			break
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if tried > 0 && !opened {
		return fmt.Errorf("%w (none of %d stored tokens opens with it)", ErrSealKeyMismatch, tried)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO seal_check (id, check_value, created_at) VALUES (1, $1, $2)`,
		s.seal.seal([]byte(sealCheckPlain), sealCheckTable, sealCheckColumn, sealCheckRow), micros(s.now()))
	return err
}
