package store

import "testing"

func TestNotifyChannel(t *testing.T) {
	long := "s_0123456789012345678901234567890123456789012345678901234567890"
	for _, tt := range []struct{ schema, want string }{
		{"", "openmitid"},
		{"public", "openmitid"},
		{"test_0a1b2c3d4e5f", "openmitid.test_0a1b2c3d4e5f"},
	} {
		if got := notifyChannel(tt.schema); got != tt.want {
			t.Errorf("notifyChannel(%q) = %q, want %q", tt.schema, got, tt.want)
		}
	}
	// PostgreSQL refuses a channel name of 64 bytes or more; a long schema
	// name is hashed, the same on every node.
	if c := notifyChannel(long); len(c) >= 64 || c != notifyChannel(long) || c == notifyChannel(long+"x") {
		t.Errorf("notifyChannel of a 63-byte schema = %q", c)
	}
}
