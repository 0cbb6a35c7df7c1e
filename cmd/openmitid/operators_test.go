package main_test

import (
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/testbin"
)

func TestAdminOperators(t *testing.T) {
	dir := t.TempDir()
	srv := testbin.Serve(t, dir, nil, "--demo")
	_, id := postJSON(t, srv.URL+"/testtool/v1/identities", "", map[string]any{"name": "Karen Blixen"})
	srv.Stop(t)
	user, uuid := id["user_id"].(string), id["uuid"].(string)

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add"}, 2, "--user-id is required"},
		{[]string{"add", "--user-id", user, "--role", "boss"}, 2, "unknown role"},
		{[]string{"add", "--user-id", "nobody-here"}, 1, "no identity"},
		{[]string{"remove", "--user-id", user}, 1, "not an operator"},
		{[]string{"promote"}, 2, "unknown operators command"},
	} {
		r := testbin.Run(t, dir, nil, append([]string{"admin", "operators"}, c.args...)...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: %+v", c.args, r)
		}
	}
	if r := testbin.Run(t, dir, nil, "admin", "operators", "add", "--user-id", user, "--role", "supervisor"); r.Code != 0 || !strings.Contains(r.Stdout, uuid) {
		t.Fatalf("add: %+v", r)
	}
	if r := testbin.Run(t, dir, nil, "admin", "operators", "add", "--user-id", uuid); r.Code != 1 || !strings.Contains(r.Stderr, "already") {
		t.Fatalf("adding twice (by UUID): %+v", r)
	}
	r := testbin.Run(t, dir, nil, "admin", "operators", "list")
	if r.Code != 0 || !strings.Contains(r.Stdout, uuid) || !strings.Contains(r.Stdout, "supervisor") || !strings.Contains(r.Stdout, user) {
		t.Fatalf("list: %+v", r)
	}
	if r := testbin.Run(t, dir, nil, "admin", "operators", "remove", "--user-id", user); r.Code != 0 {
		t.Fatalf("remove: %+v", r)
	}
	if r := testbin.Run(t, dir, nil, "admin", "operators", "list"); r.Code != 0 || strings.Contains(r.Stdout, uuid) {
		t.Fatalf("list after remove: %+v", r)
	}
	r = testbin.Run(t, dir, nil, "audit", "list", "--identity", uuid, "--action", "operator.added")
	if r.Code != 0 || strings.Count(r.Stdout, "\n") != 1 || !strings.Contains(r.Stdout, "role=supervisor") || !strings.Contains(r.Stdout, "admin") {
		t.Fatalf("audit list: %+v", r)
	}
	r = testbin.Run(t, dir, nil, "audit", "list", "--action", "operator.removed", "--json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"action":"operator.removed"`) {
		t.Fatalf("audit list --json: %+v", r)
	}
	if r := testbin.Run(t, dir, nil, "audit", "list", "--limit", "0"); r.Code != 2 {
		t.Fatalf("--limit 0: %+v", r)
	}
	if r := testbin.Run(t, dir, nil, "audit", "verify"); r.Code != 0 {
		t.Fatalf("verify: %+v", r)
	}
}
