package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/store"
)

// runAuditList prints audit events, newest first: one line each, or JSON
// lines with --json.
func runAuditList(args []string) error {
	fs := newFlags("audit list", "audit list [--db URL] [--action A] [--identity UUID] [--limit N] [--json]")
	dsn := fs.String("db", env("OPENMITID_DB", defaultDB), "database: sqlite:PATH or postgres://… (env OPENMITID_DB)")
	action := fs.String("action", "", "only events with this action, e.g. enrolment.witness_approved")
	identity := fs.String("identity", "", "only events about this identity (UUID)")
	limit := fs.Int("limit", 100, "at most this many events (1 to 10000)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *limit < 1 || *limit > 10000 {
		return usageError{fmt.Sprintf("--limit %d: want 1 to 10000", *limit)}
	}
	ctx := context.Background()
	db, err := store.Open(ctx, *dsn, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	evs, err := db.FindAuditEvents(ctx, *action, *identity, *limit)
	if err != nil {
		return err
	}
	for _, e := range evs {
		if *asJSON {
			b, err := json.Marshal(map[string]any{"id": e.ID, "at": e.At.Format(time.RFC3339Nano), "actor": e.Actor,
				"action": e.Action, "identity": e.Identity, "ip": e.IP, "details": e.Details, "chain": e.Chain, "seq": e.Seq})
			if err != nil {
				return err
			}
			fmt.Fprintln(os.Stdout, string(b))
			continue
		}
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var d []string
		for _, k := range keys {
			d = append(d, k+"="+printable(e.Details[k]))
		}
		fmt.Printf("%s %s %s identity=%s %s\n", e.At.Format(time.RFC3339), printable(e.Action), printable(e.Actor),
			orDash(e.Identity), strings.Join(d, " "))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
