package server

import (
	"context"
	"errors"
	"time"

	oidcp "github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/store"
)

// ensureDemoClient makes the demo client of --demo mode (CONTRACT.md) if it is
// not there; an operator's changes to it are kept.
func ensureDemoClient(ctx context.Context, db *store.DB, issuer string, now time.Time) error {
	c := oidcp.DemoClient(issuer, now)
	if err := c.Validate(); err != nil {
		return err
	}
	err := db.InsertClient(ctx, c)
	if errors.Is(err, oidcp.ErrClientExists) {
		return nil
	}
	return err
}
