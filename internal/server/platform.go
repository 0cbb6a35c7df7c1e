// Package server assembles the platform: it opens the database and the keys,
// builds the domain services on them and mounts their handlers. The binary
// (cmd/openmitid) and end-to-end tests start servers through it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/store"
)

// Platform is an open database with its keys.
type Platform struct {
	DB     *store.DB
	Keys   *pki.Keyring
	Sealer *audit.Sealer
}

// PlatformOptions tune [OpenPlatform].
type PlatformOptions struct {
	// KEKFile is the key-encryption key file; "" means beside the SQLite file
	// (required for PostgreSQL).
	KEKFile string
	// Migrate brings the schema up to date first (serve does; audit verify does not).
	Migrate bool
	// CreateKEK allows making a key file for a SQLite database that has never
	// had one (serve does; tools that only read do not).
	CreateKEK bool
	Now       func() time.Time
	Logger    *slog.Logger
}

// DefaultKEKFile is where the key-encryption key of a SQLite database lives
// unless told otherwise: beside it, "openmitid.db" → "openmitid.kek".
func DefaultKEKFile(sqlitePath string) string {
	ext := filepath.Ext(sqlitePath)
	return strings.TrimSuffix(sqlitePath, ext) + ".kek"
}

// OpenPlatform opens the database, migrates it if asked, and loads the KEK,
// making one only for a SQLite database that has never had one.
func OpenPlatform(ctx context.Context, dsn string, o PlatformOptions) (*Platform, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	db, err := store.Open(ctx, dsn, store.Options{Now: o.Now, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	p, err := openKeys(ctx, db, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

func openKeys(ctx context.Context, db *store.DB, o PlatformOptions) (*Platform, error) {
	if o.Migrate {
		if err := db.Migrate(ctx); err != nil {
			return nil, err
		}
	} else if err := db.Ready(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w (run openmitid migrate)", db.Redacted(), err)
	}
	check, err := db.Setting(ctx, "kek_check")
	if err != nil {
		return nil, err
	}
	fresh := check == nil
	path := o.KEKFile
	if path == "" {
		if db.Engine() == store.Postgres {
			return nil, errors.New("--kek-file is required with PostgreSQL (make one with: openssl rand -base64 32 > openmitid.kek; chmod 600 openmitid.kek)")
		}
		path = DefaultKEKFile(db.Config().Path)
	}
	kek, err := pki.LoadKEK(path)
	switch {
	case errors.Is(err, pki.ErrKEKMissing) && !fresh:
		return nil, fmt.Errorf("the database was set up with a key-encryption key, but %s does not exist: restore it (the secrets in the database cannot be read without it)", path)
	case errors.Is(err, pki.ErrKEKMissing) && (db.Engine() == store.Postgres || !o.CreateKEK):
		return nil, fmt.Errorf("the key-encryption key file %s does not exist (make one with: openssl rand -base64 32 > %s; chmod 600 %s)", path, path, path)
	case errors.Is(err, pki.ErrKEKMissing):
		if kek, err = pki.CreateKEKFile(path, nil); err != nil {
			return nil, err
		}
		o.Logger.Info("made a new key-encryption key; back it up, the database's secrets cannot be read without it", "file", path)
	case err != nil:
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		o.Logger.Warn("the key-encryption key file is readable by others; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	keys := pki.NewKeyring(kek)
	if err := keys.Bind(ctx, db); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	mk, err := keys.Secret(ctx, db, "audit-mac", 32)
	if err != nil {
		return nil, err
	}
	sealer, err := audit.NewSealer(mk)
	if err != nil {
		return nil, err
	}
	db.SetAuditSealer(sealer)
	return &Platform{DB: db, Keys: keys, Sealer: sealer}, nil
}

// Close closes the database.
func (p *Platform) Close() error { return p.DB.Close() }
