package testtool_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/internal/testtool"
)

// brokenChips fails every enrolment: the last step of making an identity.
type brokenChips struct{}

var errChip = errors.New("the chip broke")

func (brokenChips) EnrolSoftKey(context.Context, *identity.Identity, nsis.Level) (json.RawMessage, error) {
	return nil, errChip
}

func newTool(t *testing.T, env storetest.Env) *testtool.Tool {
	t.Helper()
	ctx := context.Background()
	ids, err := server.IdentityService(ctx, &server.Platform{DB: env.DB, Keys: env.Keys, Sealer: env.Sealer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	binder, err := approval.NewBinder(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	approvals, err := approval.NewService(approval.Config{Store: env.DB, Log: env.DB, Binder: binder})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := app.NewService(app.Config{Store: env.DB, Identities: ids, Approvals: approvals, Log: env.DB})
	if err != nil {
		t.Fatal(err)
	}
	return &testtool.Tool{Register: testtool.NewRegister(cpr.NewSynthetic(cpr.DemoSeed, time.Now()), env.DB),
		Identities: ids, Apps: apps, Codes: codedisplay.NewService(env.DB, env.Keys, env.DB, nil, nil),
		Authenticators: env.DB, Tx: env.DB, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}
}

func post(t *testing.T, h http.Handler, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

func TestIdentityAndAuthenticatorsAreOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		tool := newTool(t, env)
		tool.Chips = brokenChips{}
		mux := http.NewServeMux()
		tool.Mount(mux)

		// The chip, made last, fails: nothing of the identity may remain.
		code, m := post(t, mux, "/testtool/v1/identities", map[string]any{"user_id": "halfmade", "name": "Halv Lavet",
			"authenticators": []string{"app", "code_display", "chip"}})
		if code < 500 {
			t.Fatalf("a failing chip enrolment answered %d %v", code, m)
		}
		if _, err := tool.Identities.ByUserID(ctx, "halfmade"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("after the failure, the identity is there: %v", err)
		}
		if p := tool.Register.Synthetic().Find(func(p cpr.Person) bool { return p.FamilyName == "Lavet" }); len(p) != 0 {
			t.Fatalf("the person stayed in the synthetic register: %v", p)
		}

		// The same request without the chip: all of it, and the user ID
		// was free again.
		tool.Chips = nil
		code, m = post(t, mux, "/testtool/v1/identities", map[string]any{"user_id": "halfmade", "name": "Halv Lavet",
			"authenticators": []string{"app", "code_display"}})
		if code != http.StatusCreated || m["app"] == nil || m["code_display"] == nil {
			t.Fatalf("create: %d %v", code, m)
		}
		id, err := tool.Identities.ByUserID(ctx, "halfmade")
		if err != nil {
			t.Fatal(err)
		}
		auths, err := env.DB.AuthenticatorsOf(ctx, id.UUID)
		if err != nil || len(auths) != 1 { // the app is an activation code until a phone activates it
			t.Fatalf("authenticators %v, %v; want the code display", auths, err)
		}
		if p, err := tool.Register.Person(ctx, id.CPR); err != nil || p.FamilyName != "Lavet" {
			t.Fatalf("the person: %v %v", p, err)
		}

		// A refusal found inside the transaction is a 4xx and leaves nothing.
		code, m = post(t, mux, "/testtool/v1/identities", map[string]any{"user_id": "halfmade", "name": "Anden Person"})
		if code != http.StatusConflict || m["error"] != "user_id_taken" {
			t.Fatalf("taken user ID: %d %v", code, m)
		}
	})
}

func TestDemoPersonDuplicateKeepsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		n, _ := cpr.Parse("010190-1234")
		p := cpr.Person{CPR: n, GivenName: "A", FamilyName: "B", Birthdate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)}
		m, _ := cpr.Parse("010190-1236")
		err := env.DB.InTx(ctx, func(ctx context.Context) error {
			if err := env.DB.InsertDemoPerson(ctx, p); err != nil {
				return err
			}
			if err := env.DB.InsertDemoPerson(ctx, p); !errors.Is(err, cpr.ErrDuplicate) {
				t.Errorf("second insert: %v, want ErrDuplicate", err)
			}
			q := p
			q.CPR = m
			return env.DB.InsertDemoPerson(ctx, q) // the transaction still works
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := env.DB.DemoPerson(ctx, m); err != nil || got.GivenName != "A" {
			t.Fatalf("after the duplicate: %v %v", got, err)
		}
	})
}
