package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleSession() SessionData {
	return SessionData{
		UserName:          "Ada Admin",
		Email:             "ada@example.com",
		ContextIdentifier: "Cust12345",
		AssociateID:       5,
		IsAdministrator:   true,
		AccessToken:       "SECRET-access",
		RefreshToken:      "SECRET-refresh",
		TokenExpiry:       time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC),
		CSRFToken:         "SECRET-csrf",
		Values:            map[string]string{"return": "/tenants"},
	}
}

func TestSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		data := sampleSession()
		id, err := s.CreateSession(ctx, data, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 43 { // 32 bytes, base64url without padding
			t.Fatalf("id length %d", len(id))
		}
		sess, err := s.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sess.Data, data) || sess.ID != id || !sess.ExpiresAt.Equal(db.clock.Now().Add(time.Hour)) {
			t.Fatalf("session = %+v", sess)
		}

		// Nothing readable at rest, not even the id.
		var key string
		var raw []byte
		if err := s.DB().QueryRowContext(ctx, `SELECT id_hash, data FROM sessions`).Scan(&key, &raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(key, id) || bytes.Contains(raw, []byte("SECRET")) || bytes.Contains(raw, []byte("Ada")) {
			t.Fatal("session stored in the clear")
		}

		// Update, keeping and then moving the expiry.
		data.AccessToken = "SECRET-access-2"
		if err := s.UpdateSession(ctx, id, data, 0); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Session(ctx, id); got.Data.AccessToken != "SECRET-access-2" || !got.ExpiresAt.Equal(sess.ExpiresAt) {
			t.Fatalf("after update: %v %v", got.Data.AccessToken == "SECRET-access-2", got.ExpiresAt)
		}
		db.clock.Advance(30 * time.Minute)
		if err := s.UpdateSession(ctx, id, data, 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Session(ctx, id); !got.ExpiresAt.Equal(db.clock.Now().Add(2 * time.Hour)) {
			t.Fatalf("expiry not moved: %v", got.ExpiresAt)
		}

		// Rotation: the old id stops working, the new one carries the data.
		newID, err := s.RotateSession(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if newID == id {
			t.Fatal("rotation kept the id")
		}
		if _, err := s.Session(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old id after rotation: %v", err)
		}
		rotated, err := s.Session(ctx, newID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rotated.Data, data) || !rotated.CreatedAt.Equal(sess.CreatedAt) {
			t.Fatalf("rotated session = %+v", rotated)
		}
		if _, err := s.RotateSession(ctx, id, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("rotate a dead id: %v", err)
		}

		// The seal is bound to the session: another session's data copied over fails.
		otherID, _ := s.CreateSession(ctx, SessionData{UserName: "Mallory"}, time.Hour)
		newKey, _ := sessionKey(newID)
		otherKey, _ := sessionKey(otherID)
		if _, err := s.DB().ExecContext(ctx, `UPDATE sessions SET data = (SELECT data FROM sessions WHERE id_hash = $1) WHERE id_hash = $2`, otherKey, newKey); err != nil {
			t.Fatal(err)
		}
		_, err = s.Session(ctx, newID)
		if !errors.Is(err, ErrSealBroken) {
			t.Fatalf("swapped session data: err = %v", err)
		}
		if strings.Contains(err.Error(), newID) || strings.Contains(err.Error(), newKey) {
			t.Fatalf("error names the session: %v", err)
		}

		// Expiry: gone without a sleep, and gone for update and rotation too.
		db.clock.Advance(time.Hour)
		if _, err := s.Session(ctx, otherID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if err := s.UpdateSession(ctx, otherID, data, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update expired session: %v", err)
		}
		n, err := s.DeleteExpiredSessions(ctx)
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpiredSessions = %d, %v", n, err)
		}

		// Sign-out.
		if err := s.DeleteSession(ctx, newID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, newID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
		if err := s.DeleteSession(ctx, newID); err != nil {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

func TestSessionBadInput(t *testing.T) {
	s := newSQLiteDB(t).open(t)
	ctx := context.Background()
	for _, id := range []string{"", "x", "not base64 !!", strings.Repeat("A", 43) + "=", NewSessionID()[:40], NewSessionID()} {
		if _, err := s.Session(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Session(%q): %v", id, err)
		}
		if err := s.UpdateSession(ctx, id, SessionData{}, 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateSession(%q): %v", id, err)
		}
		if _, err := s.RotateSession(ctx, id, 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("RotateSession(%q): %v", id, err)
		}
		if err := s.DeleteSession(ctx, id); err != nil {
			t.Errorf("DeleteSession(%q): %v", id, err)
		}
	}
	if _, err := s.CreateSession(ctx, SessionData{}, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("CreateSession ttl 0: %v", err)
	}
}

func TestSessionDataNotPrintable(t *testing.T) {
	d := sampleSession()
	j, err := json.Marshal(map[string]any{"d": d, "p": &d})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "session", d, "list", []SessionData{d})
	out := fmt.Sprintf("%v %+v %#v %s", d, d, d, d) + string(j) + buf.String()
	if !strings.Contains(string(j), "Cust12345") {
		t.Fatalf("json lost the non-secret fields: %s", j)
	}
	if strings.Contains(out, "SECRET") {
		t.Fatalf("printable: %s", out)
	}
}
