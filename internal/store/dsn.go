package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// ErrDSN is returned for a database URL that cannot be used.
var ErrDSN = errors.New("store: bad database URL")

// Config is a parsed database URL.
type Config struct {
	Engine Engine
	// Path is the SQLite database file.
	Path string
	// Synchronous is SQLite's synchronous setting: "full" (the default: a
	// commit survives a power cut) or "normal" (a commit survives a crash of
	// the process but may be lost on a power cut; faster).
	Synchronous string
	// URL is the PostgreSQL connection URL.
	URL string
}

// ParseDSN reads a database URL: "sqlite:PATH" (optionally
// "sqlite:PATH?synchronous=normal"), or "postgres://…" / "postgresql://…" as
// libpq and pgx read it. Errors name what is wrong and never echo a password.
func ParseDSN(dsn string) (Config, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return parseSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return Config{}, fmt.Errorf("%w: not a URL (want postgres://user:password@host:port/database)", ErrDSN)
		}
		if u.Host == "" {
			return Config{}, fmt.Errorf("%w: %s has no host", ErrDSN, u.Redacted())
		}
		if _, err := pgx.ParseConfig(dsn); err != nil {
			return Config{}, fmt.Errorf("%w: %s: %v", ErrDSN, u.Redacted(), redactErr(err, u))
		}
		return Config{Engine: Postgres, URL: dsn}, nil
	case dsn == "":
		return Config{}, fmt.Errorf("%w: empty (want sqlite:PATH or postgres://…)", ErrDSN)
	}
	scheme, _, _ := strings.Cut(dsn, ":")
	return Config{}, fmt.Errorf("%w: unknown scheme %q (want sqlite:PATH or postgres://…)", ErrDSN, scheme)
}

func parseSQLite(rest string) (Config, error) {
	path, query, _ := strings.Cut(rest, "?")
	// Accept sqlite:///abs/path and sqlite://rel as well as sqlite:path.
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return Config{}, fmt.Errorf("%w: sqlite: needs a file path (sqlite:openmitid.db)", ErrDSN)
	}
	if strings.ContainsAny(path, "#\x00") {
		return Config{}, fmt.Errorf("%w: sqlite file path %q contains # or NUL", ErrDSN, path)
	}
	cfg := Config{Engine: SQLite, Path: path, Synchronous: "full"}
	q, err := url.ParseQuery(query)
	if err != nil {
		return Config{}, fmt.Errorf("%w: sqlite options %q: %v", ErrDSN, query, err)
	}
	for k, v := range q {
		switch k {
		case "synchronous":
			if len(v) != 1 || (v[0] != "full" && v[0] != "normal") {
				return Config{}, fmt.Errorf("%w: synchronous=%q (want full or normal)", ErrDSN, strings.Join(v, ","))
			}
			cfg.Synchronous = v[0]
		default:
			return Config{}, fmt.Errorf("%w: unknown sqlite option %q (known: synchronous)", ErrDSN, k)
		}
	}
	return cfg, nil
}

// Redacted returns the URL for logs and messages, without a password.
func (c Config) Redacted() string {
	if c.Engine == SQLite {
		return "sqlite:" + c.Path
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// redactErr drops the password from an error text that may quote the URL.
func redactErr(err error, u *url.URL) string {
	s := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		s = strings.ReplaceAll(s, p, "xxxxx")
	}
	return s
}
