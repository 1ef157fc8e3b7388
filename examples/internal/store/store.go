package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"               // the "sqlite" database/sql driver, and its Error
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrationFS embed.FS

// Sentinel errors, matched with errors.Is through the *Error the methods return.
var (
	// ErrNotFound: no such tenant, or no such (or an expired) session.
	ErrNotFound = errors.New("store: not found")
	// ErrLeaseLost: the claim is no longer current. Its lease ran out and another
	// worker (or the same owner, later) claimed the tenant, so the fencing token moved on;
	// or the claim was already completed or released. The write was refused.
	ErrLeaseLost = errors.New("store: lease lost")
	// ErrSealBroken: a sealed value did not open: another seal key, a tampered value,
	// or a value copied from another row.
	ErrSealBroken = errors.New("store: sealed value does not open (wrong key, tampered, or copied from another row)")
	// ErrBadKey: a seal key that is not 32 bytes, or a key file that does not hold one.
	ErrBadKey = errors.New("store: seal key must be 32 bytes")
	// ErrSealKeyMismatch: the database was written with another seal key. Open refuses it
	// before changing anything: with this key no stored token would open, and every
	// tenant would have to approve the app again.
	ErrSealKeyMismatch = errors.New("store: the database was written with another seal key; check the seal key setting (the key file or variable) these programs share")
	// ErrReadOnly: the database opens but cannot be written: a read-only SQLite file (or
	// directory), or a PostgreSQL role or server that may only read. Open refuses it, so
	// that a program finds out at start-up, not at its first write.
	ErrReadOnly = errors.New("store: the database cannot be written; check the file's (and its directory's) permissions, or the database role's rights")
	// ErrSchemaTooNew: the database was migrated by a newer version of this program.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")
	// ErrInvalid: an argument the store refuses (empty context identifier, zero lease...).
	ErrInvalid = errors.New("store: invalid argument")
)

// Error is the one error type of this package: the operation that failed and why.
// It never holds a secret: not a token, not a session id, not a key, not a DSN password.
type Error struct {
	// Op names the operation, with a tenant's context identifier where one applies
	// ("complete Cust12345").
	Op string
	// Err is the cause: one of the sentinels, or a database error.
	Err error
}

// Error returns "store: <op>: <cause>".
func (e *Error) Error() string {
	return "store: " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "store: ")
}

// Unwrap returns the cause, so that errors.Is finds the sentinels.
func (e *Error) Unwrap() error { return e.Err }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Err: err}
}

// driverError keeps the connection string out of a driver's error. pgx quotes the
// string it cannot parse, with a best-effort redaction that misses passwords libpq's
// keyword form allows (spaces around '=', an escaped quote in a quoted value); what
// follows the quoted string is pgx's reason, which is kept.
func driverError(err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return err
	}
	// The last "`: " ends the quoted string or lies in the reason after it: either
	// way what follows holds nothing of the string.
	reason := "no reason given"
	if msg := pe.Error(); strings.Contains(msg, "`: ") {
		reason = msg[strings.LastIndex(msg, "`: ")+3:]
	}
	return errors.New("the PostgreSQL connection string does not parse: " + reason)
}

func invalid(op, format string, args ...any) error {
	return &Error{Op: op, Err: fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))}
}

// Dialect names the database behind a Store.
type Dialect string

// The two supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config configures OpenConfig. Only DSN and SealKey are required.
type Config struct {
	// DSN is a SQLite file path (optionally prefixed "sqlite:"; ":memory:" for a private
	// in-memory database) or a "postgres://" / "postgresql://" URL. Required.
	DSN string
	// SealKey is the 32-byte AES-256 key that seals secrets at rest. Required; see
	// GenerateSealKey, ParseSealKey and LoadOrCreateSealKey.
	SealKey []byte
	// Now is the clock for timestamps the store sets itself (created/updated times,
	// session expiry). Nil means time.Now.
	Now func() time.Time
	// Logger receives migration notes and the (rare) warning about a tenant whose token
	// no longer opens. Nil means quiet. Nothing secret is ever logged.
	Logger *slog.Logger
	// MaxOpenConns caps the PostgreSQL connection pool. Zero means database/sql's
	// default (no cap). A SQLite store keeps one connection, which its callers share.
	MaxOpenConns int
	// BusyTimeout is how long a SQLite connection waits for the write lock before it
	// fails with SQLITE_BUSY. Zero means 10s. Ignored for PostgreSQL.
	BusyTimeout time.Duration
	// SQLiteCacheKiB caps the SQLite connection's page cache, in KiB. A service that
	// streams through its tenants once per cycle gains little from SQLite's default
	// (2 MiB) over a smaller one. Zero means SQLite's default. Ignored for PostgreSQL.
	SQLiteCacheKiB int
}

// Store is the database shared by the web app and the console. It is safe for
// concurrent use; open one per process and Close it at exit.
type Store struct {
	db      *sql.DB
	dialect Dialect
	seal    *sealer
	now     func() time.Time
	log     *slog.Logger
	// The statements a console runs for every tenant or batch: prepared
	// once, as SQLite would parse them anew each time. claim and complete
	// run a batch at a time; clearIntents deletes a tenant's run intents
	// with each recorded success; insertIntent records one (RecordIntent).
	claim, complete, clearIntents, insertIntent *sql.Stmt
}

// Open opens (creating when needed) the database at dsn and migrates it to the latest
// schema. dsn is a SQLite path or a postgres:// URL; sealKey is 32 bytes.
func Open(ctx context.Context, dsn string, sealKey []byte) (*Store, error) {
	return OpenConfig(ctx, Config{DSN: dsn, SealKey: sealKey})
}

// OpenConfig is Open with every option.
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	const op = "open"
	sl, err := newSealer(cfg.SealKey)
	if err != nil {
		return nil, wrap(op, err)
	}
	dialect, driver, dsn, err := driverFor(cfg)
	if err != nil {
		return nil, wrap(op, err)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, wrap(op, driverError(err))
	}
	s := &Store{db: db, dialect: dialect, seal: sl, now: cfg.Now, log: cfg.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case dialect == SQLite:
		// SQLite lets one writer in at a time. Connections of one pool that
		// contend for its lock sleep in its busy handler, a millisecond and
		// more at a time (a console's workers spent a fifth of their time
		// there), and each commit throws away the others' page caches;
		// queued for the one connection, callers wait only for the
		// statements ahead of them. (And every connection to ":memory:" is
		// a database of its own.)
		db.SetMaxOpenConns(1)
	case cfg.MaxOpenConns > 0:
		db.SetMaxOpenConns(cfg.MaxOpenConns)
	}
	// Reopening a connection costs a round trip, and on SQLite re-runs its pragmas.
	db.SetMaxIdleConns(8)
	if err := ping(ctx, db, dialect); err != nil {
		db.Close()
		return nil, wrap(op, driverError(err))
	}
	if dialect == SQLite {
		restrictFileMode(cfg.DSN)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		if readOnly(err) {
			return nil, wrap(op, fmt.Errorf("%w (%w)", ErrReadOnly, err))
		}
		if errors.Is(err, ErrSealKeyMismatch) {
			return nil, wrap(op, err)
		}
		return nil, wrap("migrate", err)
	}
	q := claimSQLite
	if dialect == Postgres {
		q = claimPostgres
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&s.claim, q}, {&s.complete, completeSQL}, {&s.clearIntents, clearIntentsSQL}, {&s.insertIntent, insertIntentSQL}} {
		if *p.st, err = db.PrepareContext(ctx, p.sql); err != nil {
			s.Close()
			return nil, wrap(op, err)
		}
	}
	return s, nil
}

// ping opens the first connection. On a new SQLite file, two processes
// starting at once (the web app and the console in local mode) both switch
// it to WAL, and SQLite answers one of them SQLITE_BUSY at once rather than
// wait (its busy handler is not called where waiting could deadlock): that
// one tries again, and finds WAL set.
func ping(ctx context.Context, db *sql.DB, dialect Dialect) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || dialect != SQLite || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pgKeywordDSN matches a libpq keyword/value connection string: any
// keyword first, as libpq has some forty (options, target_session_attrs...)
// and pgx takes run-time parameters too. A file name that starts "word="
// is the price: taking a keyword string for a file would create a file
// named after it, password and all.
var pgKeywordDSN = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_]*\s*=`)

// driverFor maps a DSN to its driver and the driver's own DSN syntax.
func driverFor(cfg Config) (Dialect, string, string, error) {
	dsn := strings.TrimSpace(cfg.DSN)
	switch {
	case dsn == "":
		return "", "", "", fmt.Errorf("%w: empty DSN (a SQLite path or a postgres:// URL)", ErrInvalid)
	case IsPostgres(dsn):
		// Including "host=db user=app password=... dbname=crm", libpq's
		// keyword form: taken for a file name it would put the password in one.
		return Postgres, "pgx", dsn, nil
	case strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "sqlite:") && !strings.HasPrefix(dsn, "file:"):
		// mysql://..., say: a typo or another database, never a file name.
		scheme, _, _ := strings.Cut(dsn, "://")
		return "", "", "", fmt.Errorf("%w: unsupported database URL scheme %q (want a SQLite path or a postgres:// URL)", ErrInvalid, scheme)
	}
	p := strings.TrimPrefix(dsn, "sqlite:")
	if strings.ContainsAny(p, "?\x00") {
		// The driver would read anything after '?' as its own parameters.
		return "", "", "", fmt.Errorf("%w: a SQLite path may not contain '?'", ErrInvalid)
	}
	if p != ":memory:" {
		if dir := filepath.Dir(p); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return "", "", "", err
			}
		}
	}
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	// busy_timeout first, so the others wait for a lock instead of failing;
	// _txlock=immediate makes every BEGIN take the write lock up front, so a transaction
	// never fails halfway when it upgrades from reading to writing.
	q := "_pragma=busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
	if cfg.SQLiteCacheKiB > 0 {
		// A negative cache_size is in KiB rather than pages.
		q += "&_pragma=cache_size(-" + strconv.Itoa(cfg.SQLiteCacheKiB) + ")"
	}
	return SQLite, "sqlite", p + "?" + q, nil
}

// restrictFileMode keeps the database (sealed secrets, but still) private to its owner.
func restrictFileMode(dsn string) {
	p := strings.TrimPrefix(strings.TrimSpace(dsn), "sqlite:")
	if p == ":memory:" {
		return
	}
	for _, f := range []string{p, p + "-wal", p + "-shm"} {
		if st, err := os.Stat(f); err == nil && st.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(f, 0o600)
		}
	}
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.claim, s.complete, s.clearIntents, s.insertIntent} {
		if st != nil {
			st.Close()
		}
	}
	return wrap("close", s.db.Close())
}

// Dialect reports which database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the underlying *sql.DB, for health checks and tests. Writing to the store's
// tables through it bypasses sealing and fencing. On SQLite it has the Store's one
// connection: a caller that holds it (a Conn, a Tx, Rows not closed) holds up the Store.
func (s *Store) DB() *sql.DB { return s.db }

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := path.Join("migrations", string(s.dialect))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", name)
		}
		b, err := migrationFS.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// SchemaVersion is the schema version this program migrates to.
func (s *Store) SchemaVersion() int {
	ms, _ := s.migrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies the missing migrations and checks the seal key (checkSealKey) in one
// transaction. Several processes may start at once: on PostgreSQL an advisory lock, on
// SQLite BEGIN IMMEDIATE, makes the others wait and then find nothing left to do; two
// first starts with different keys cannot both record theirs.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		// Any fixed number; it only has to be the same in every instance.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7310551402)`); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	if current > latest {
		return fmt.Errorf("%w (database at version %d, program knows %d)", ErrSchemaTooNew, current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, micros(s.now())); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "store: applied migration", slog.String("name", m.name), slog.String("dialect", string(s.dialect)))
	}
	if err := s.checkSealKey(ctx, tx); err != nil {
		return err
	}
	// A database that opens but cannot be written (a read-only file, a read-only
	// PostgreSQL role or replica) would fail only at the first sign-in or run: find it
	// now. The statement changes nothing, but the database must let it write.
	if _, err := tx.ExecContext(ctx, `UPDATE seal_check SET created_at = created_at WHERE id = 0`); err != nil {
		return err
	}
	return tx.Commit()
}

// readOnly reports whether err is a database refusing to write: SQLITE_READONLY, or
// PostgreSQL's read-only transaction (25006, a replica or default_transaction_read_only)
// or missing privilege (42501).
func readOnly(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_READONLY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "25006" || pe.Code == "42501")
}

// micros stores a time as unix microseconds; the zero time is 0 ("never").
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
