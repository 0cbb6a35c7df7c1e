package audit

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// A Reader reads the stored log for [Verify]. It is implemented by internal/store.
type Reader interface {
	// ChainEntries calls fn with each entry of chain in sequence order.
	ChainEntries(ctx context.Context, chain int, fn func(Event) error) error
	// ChainHead returns the sequence number and MAC of the chain's last entry,
	// as recorded apart from the entries (0 and nil for an empty chain).
	ChainHead(ctx context.Context, chain int) (seq int64, mac []byte, err error)
}

// A Break is the first place where a chain does not verify.
type Break struct {
	Chain  int
	Seq    int64     // the entry at fault (or the first one missing)
	ID     string    // its event id, when there is an entry
	Action string    // its action, when there is an entry
	At     time.Time // its time, when there is an entry
	Reason string
}

func (b Break) String() string {
	if b.ID == "" {
		return fmt.Sprintf("chain %d, entry %d: %s", b.Chain, b.Seq, b.Reason)
	}
	return fmt.Sprintf("chain %d, entry %d (event %s, %s, %s): %s",
		b.Chain, b.Seq, b.ID, b.Action, b.At.UTC().Format(time.RFC3339), b.Reason)
}

// A Report is the result of [Verify].
type Report struct {
	Entries int64   // entries checked
	Breaks  []Break // the first break of each broken chain, by chain
}

// OK reports whether every chain verified.
func (r Report) OK() bool { return len(r.Breaks) == 0 }

// Verify walks every chain from its first entry and checks that the sequence
// numbers run without gaps from 1, that each entry's Prev is the MAC of the
// entry before it, that each MAC is right, and that the last entry is the
// recorded head. It reports the first break of each chain. An error is
// returned only when the log cannot be read.
func Verify(ctx context.Context, r Reader, s *Sealer) (Report, error) {
	var rep Report
	for chain := range Chains {
		b, n, err := verifyChain(ctx, r, s, chain)
		rep.Entries += n
		if err != nil {
			return rep, err
		}
		if b != nil {
			rep.Breaks = append(rep.Breaks, *b)
		}
	}
	return rep, nil
}

// errStop ends a chain walk at its first break.
var errStop = fmt.Errorf("audit: stop")

func verifyChain(ctx context.Context, r Reader, s *Sealer, chain int) (*Break, int64, error) {
	var (
		want int64 = 1
		prev []byte
		brk  *Break
		n    int64
	)
	err := r.ChainEntries(ctx, chain, func(e Event) error {
		n++
		at := func(reason string) error {
			brk = &Break{Chain: chain, Seq: e.Seq, ID: e.ID, Action: e.Action, At: e.At, Reason: reason}
			return errStop
		}
		switch {
		case e.Chain != chain:
			return at(fmt.Sprintf("stored in chain %d but sealed for chain %d", chain, e.Chain))
		case e.Seq > want:
			brk = &Break{Chain: chain, Seq: want, Reason: fmt.Sprintf(
				"entries %d to %d are missing (removed)", want, e.Seq-1)}
			return errStop
		case e.Seq < want:
			return at("sequence number repeats or goes back (reordered)")
		case !bytes.Equal(e.Prev, prev):
			return at("does not follow the entry before it (an entry was removed, inserted or replaced)")
		case !s.Valid(&e):
			return at("MAC mismatch: the entry was altered")
		}
		prev = e.MAC
		want++
		return nil
	})
	if err != nil && err != errStop {
		return nil, n, fmt.Errorf("audit: reading chain %d: %w", chain, err)
	}
	if brk != nil {
		return brk, n, nil
	}
	headSeq, headMAC, err := r.ChainHead(ctx, chain)
	if err != nil {
		return nil, n, fmt.Errorf("audit: reading head of chain %d: %w", chain, err)
	}
	last := want - 1
	switch {
	case headSeq > last:
		return &Break{Chain: chain, Seq: last + 1, Reason: fmt.Sprintf(
			"entries %d to %d are missing (the end of the chain was removed)", last+1, headSeq)}, n, nil
	case headSeq < last:
		return &Break{Chain: chain, Seq: headSeq + 1, Reason: fmt.Sprintf(
			"entries after %d were added outside the log", headSeq)}, n, nil
	case !bytes.Equal(headMAC, prev):
		return &Break{Chain: chain, Seq: last, Reason: "the chain head does not match the last entry (replaced)"}, n, nil
	}
	return nil, n, nil
}
