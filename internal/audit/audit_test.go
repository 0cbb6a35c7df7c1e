package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
)

// memLog is a stored log held in memory, with the same layout as the store's
// tables (entries and heads apart), so Verify can be tested against every kind
// of tampering without a database. The store's own tests tamper with real rows.
type memLog struct {
	entries map[int][]audit.Event
	heads   map[int]audit.Event
}

func (m *memLog) ChainEntries(_ context.Context, chain int, fn func(audit.Event) error) error {
	for _, e := range m.entries[chain] {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *memLog) ChainHead(_ context.Context, chain int) (int64, []byte, error) {
	h, ok := m.heads[chain]
	if !ok {
		return 0, nil, nil
	}
	return h.Seq, h.MAC, nil
}

func build(t *testing.T, s *audit.Sealer, n int) *memLog {
	t.Helper()
	m := &memLog{entries: map[int][]audit.Event{}, heads: map[int]audit.Event{}}
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for i := range n {
		e := audit.Event{
			ID: fmt.Sprintf("ev-%d", i), At: at.Add(time.Duration(i) * time.Second),
			Actor: "system", Action: "identity.created", Identity: fmt.Sprintf("id-%d", i%3),
			Details: map[string]string{"n": fmt.Sprint(i)},
		}
		c := audit.ChainFor(e.Identity, e.ID)
		var prev []byte
		seq := int64(1)
		if h, ok := m.heads[c]; ok {
			prev, seq = h.MAC, h.Seq+1
		}
		s.Seal(&e, c, seq, prev)
		m.entries[c] = append(m.entries[c], e)
		m.heads[c] = e
	}
	return m
}

func TestVerify(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := audit.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	// All events of the same identity land in one chain.
	chain := audit.ChainFor("id-1", "")
	tests := []struct {
		name    string
		tamper  func(m *memLog)
		seq     int64
		wantMsg string
	}{
		{"intact", func(*memLog) {}, 0, ""},
		{"altered detail", func(m *memLog) { m.entries[chain][2].Details = map[string]string{"n": "x"} }, 3, "altered"},
		{"altered action", func(m *memLog) { m.entries[chain][0].Action = "identity.blocked" }, 1, "altered"},
		{"altered time", func(m *memLog) { m.entries[chain][1].At = m.entries[chain][1].At.Add(time.Microsecond) }, 2, "altered"},
		{"removed middle", func(m *memLog) {
			m.entries[chain] = append(m.entries[chain][:1:1], m.entries[chain][2:]...)
		}, 2, "missing"},
		{"removed tail", func(m *memLog) { m.entries[chain] = m.entries[chain][:len(m.entries[chain])-1] }, 4, "end of the chain was removed"},
		{"removed and renumbered", func(m *memLog) {
			es := append(m.entries[chain][:1:1], m.entries[chain][2:]...)
			for i := range es {
				es[i].Seq = int64(i + 1)
			}
			m.entries[chain] = es
		}, 2, "does not follow"},
		{"swapped", func(m *memLog) {
			es := m.entries[chain]
			es[1], es[2] = es[2], es[1]
		}, 2, "missing"},
		{"forged MAC", func(m *memLog) { m.entries[chain][0].MAC = bytes.Repeat([]byte{1}, 32) }, 1, "altered"},
		{"resealed with another key", func(m *memLog) {
			other, _ := audit.NewSealer(bytes.Repeat([]byte{8}, 32))
			e := &m.entries[chain][0]
			e.Details = map[string]string{"n": "forged"}
			other.Seal(e, e.Chain, e.Seq, e.Prev)
		}, 1, "altered"},
		{"moved to another chain", func(m *memLog) {
			other := (chain + 1) % audit.Chains
			m.entries[other] = append([]audit.Event{m.entries[chain][0]}, m.entries[other]...)
		}, 1, "sealed for chain"},
		{"appended outside the log", func(m *memLog) {
			h := m.heads[chain]
			h.Seq--
			m.heads[chain] = h
		}, 4, "added outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := build(t, s, 12)
			tt.tamper(m)
			rep, err := audit.Verify(context.Background(), m, s)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantMsg == "" {
				if !rep.OK() || rep.Entries != 12 {
					t.Fatalf("intact log: %+v", rep)
				}
				return
			}
			if len(rep.Breaks) != 1 {
				t.Fatalf("breaks = %v, want one", rep.Breaks)
			}
			b := rep.Breaks[0]
			if !strings.Contains(b.String(), tt.wantMsg) || b.Seq != tt.seq {
				t.Errorf("break = %q at %d, want %q at %d", b, b.Seq, tt.wantMsg, tt.seq)
			}
		})
	}
}

func TestCanonicalIsUnambiguous(t *testing.T) {
	a := audit.Event{Actor: "ab", Action: "c"}
	b := audit.Event{Actor: "a", Action: "bc"}
	if bytes.Equal(a.Canonical(), b.Canonical()) {
		t.Fatal("fields shifted across a boundary encode alike")
	}
	c := audit.Event{Details: map[string]string{"a": "b", "c": "d"}}
	d := audit.Event{Details: map[string]string{"c": "d", "a": "b"}}
	if !bytes.Equal(c.Canonical(), d.Canonical()) {
		t.Fatal("details order changes the encoding")
	}
	e := audit.Event{Details: map[string]string{"a": "bc"}}
	f := audit.Event{Details: map[string]string{"ab": "c"}}
	if bytes.Equal(e.Canonical(), f.Canonical()) {
		t.Fatal("details shifted across a boundary encode alike")
	}
}

func TestSealerRejectsShortKey(t *testing.T) {
	if _, err := audit.NewSealer(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte MAC key was accepted")
	}
}
