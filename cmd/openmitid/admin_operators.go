package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/operator"
	"github.com/openmitid/openmitid/internal/server"
)

func runAdminOperators(args []string) error {
	const want = "want: openmitid admin operators add|list|remove …"
	if len(args) == 0 {
		return usageError{want}
	}
	switch args[0] {
	case "add":
		return runOperatorsAdd(args[1:])
	case "list":
		return runOperatorsList(args[1:])
	case "remove":
		return runOperatorsRemove(args[1:])
	}
	return usageError{fmt.Sprintf("unknown operators command %q; %s", args[0], want)}
}

// operatorTools opens the platform and the services the commands need.
func operatorTools(ctx context.Context, dsn, kek string) (*server.Platform, *identity.Service, *operator.Service, error) {
	p, err := server.OpenPlatform(ctx, dsn, server.PlatformOptions{KEKFile: kek})
	if err != nil {
		return nil, nil, nil, err
	}
	ids, err := server.IdentityService(ctx, p, nil)
	if err != nil {
		p.Close()
		return nil, nil, nil, err
	}
	ops, err := operator.NewService(p.DB, ids, p.DB, nil, nil)
	if err != nil {
		p.Close()
		return nil, nil, nil, err
	}
	return p, ids, ops, nil
}

// findIdentity takes a user ID or an identity's UUID.
func findIdentity(ctx context.Context, ids *identity.Service, who string) (*identity.Identity, error) {
	var id *identity.Identity
	var err error
	if _, perr := uuid.Parse(who); perr == nil {
		id, err = ids.ByUUID(ctx, who)
	} else {
		id, err = ids.ByUserID(ctx, who)
	}
	if errors.Is(err, identity.ErrNotFound) {
		return nil, fmt.Errorf("no identity has the user ID or UUID %q", who)
	}
	return id, err
}

func runOperatorsAdd(args []string) error {
	fs := newFlags("admin operators add", "admin operators add --user-id USER_ID|UUID --role caseworker|supervisor [--db DSN] [--kek-file FILE]")
	dsn, kek := platformFlags(fs)
	who := fs.String("user-id", "", "the operator's own identity: its user ID or UUID (required)")
	role := fs.String("role", string(operator.Caseworker), "caseworker or supervisor")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *who == "" {
		return usageError{"--user-id is required"}
	}
	r, err := operator.ParseRole(*role)
	if err != nil {
		return usageError{"--role: " + err.Error()}
	}
	ctx := context.Background()
	p, ids, ops, err := operatorTools(ctx, *dsn, *kek)
	if err != nil {
		return err
	}
	defer p.Close()
	id, err := findIdentity(ctx, ids, *who)
	if err != nil {
		return err
	}
	if _, err := ops.Add(ctx, id.UUID, r, "admin"); err != nil {
		return err
	}
	fmt.Printf("operator added: %s (identity %s) as %s\n", id.UserID, id.UUID, r)
	return nil
}

func runOperatorsList(args []string) error {
	fs := newFlags("admin operators list", "admin operators list [--db DSN] [--kek-file FILE]")
	dsn, kek := platformFlags(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx := context.Background()
	p, ids, ops, err := operatorTools(ctx, *dsn, *kek)
	if err != nil {
		return err
	}
	defer p.Close()
	list, err := ops.List(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "IDENTITY\tUSER ID\tSTATE\tROLE\tADDED")
	for _, o := range list {
		userID, state := "?", "?"
		if id, err := ids.ByUUID(ctx, o.Identity); err == nil {
			userID, state = id.UserID, string(id.State)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.Identity, userID, state, o.Role, o.AddedAt.Format(time.RFC3339))
	}
	return w.Flush()
}

func runOperatorsRemove(args []string) error {
	fs := newFlags("admin operators remove", "admin operators remove --user-id USER_ID|UUID [--db DSN] [--kek-file FILE]")
	dsn, kek := platformFlags(fs)
	who := fs.String("user-id", "", "the operator's identity: its user ID or UUID (required)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *who == "" {
		return usageError{"--user-id is required"}
	}
	ctx := context.Background()
	p, ids, ops, err := operatorTools(ctx, *dsn, *kek)
	if err != nil {
		return err
	}
	defer p.Close()
	id, err := findIdentity(ctx, ids, *who)
	if err != nil {
		return err
	}
	if err := ops.Remove(ctx, id.UUID, "admin"); err != nil {
		return err
	}
	fmt.Printf("operator removed: %s (identity %s); their console sessions have ended\n", id.UserID, id.UUID)
	return nil
}
