package server

import (
	"context"
	"errors"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/nsis"
)

// staticClients is the service providers known before the client registry
// exists: in demo mode, the demo service provider.
type staticClients map[string]authn.Client

func (c staticClients) Client(_ context.Context, id string) (authn.Client, error) {
	if cl, ok := c[id]; ok {
		return cl, nil
	}
	return authn.Client{}, errors.New("unknown client")
}

// demoClient is the confidential client of demo mode (CONTRACT.md).
var demoClient = authn.Client{ID: "demo", Name: "OpenMitID Demo", MinLevel: nsis.Low}
