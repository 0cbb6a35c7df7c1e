package authn

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAddrGate(t *testing.T) {
	var g addrGate
	ctx := context.Background()
	leaveA, err := g.enter(ctx, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		addr string
		wait bool // must wait for 192.0.2.1's turn
	}{
		{"the same address waits", "192.0.2.1", true},
		{"another address does not", "192.0.2.2", false},
		{"nor does an empty one", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			leave, err := g.enter(short, tt.addr)
			if tt.wait {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("entered while the address's turn was taken: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			leave()
		})
	}
	// The waiter gets the turn as soon as it is given back.
	got := make(chan error, 1)
	go func() {
		leave, err := g.enter(ctx, "192.0.2.1")
		if err == nil {
			leave()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("entered before the turn was given back: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	leaveA()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter never got its turn")
	}
	if n := g.size(); n != 0 {
		t.Fatalf("%d addresses still held after every attempt left", n)
	}
}
