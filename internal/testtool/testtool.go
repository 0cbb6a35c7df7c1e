// Package testtool is the test tool of --demo mode (CONTRACT.md, "Test tool"):
// service providers and our own tests make test identities with any
// authenticators, look them up, and add people to the demo register. It is
// never mounted outside demo mode.
package testtool

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/web"
)

// ChipEnroller registers a software FIDO2 key for an identity and returns it
// as JSON a test can drive (internal/authenticator/fido/softkey).
type ChipEnroller interface {
	EnrolSoftKey(ctx context.Context, id *identity.Identity, level nsis.Level) (json.RawMessage, error)
}

// A Transactor runs fn in one database transaction (internal/store's InTx),
// which the services' calls with its context join.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Tool serves the test tool.
type Tool struct {
	Register       *Register
	Identities     *identity.Service
	Apps           *app.Service
	Codes          *codedisplay.Service
	Chips          ChipEnroller // nil: "chip" is refused
	Authenticators authenticator.Store
	Notify         *notify.Service // keeps the contact e-mail address
	Tx             Transactor
	Log            *slog.Logger
	Now            func() time.Time
}

// Mount adds the routes to mux.
func (t *Tool) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /testtool/v1/identities", t.createIdentity)
	mux.HandleFunc("GET /testtool/v1/identities/{user_id}", t.getIdentity)
	mux.HandleFunc("POST /testtool/v1/identities/{user_id}/activation-codes", t.newActivationCode)
	mux.HandleFunc("POST /testtool/v1/persons", t.createPerson)
}

// newActivationCode issues another activation code for a test identity, so a
// test can activate more apps.
func (t *Tool) newActivationCode(w http.ResponseWriter, r *http.Request) {
	id, err := t.Identities.ByUserID(r.Context(), r.PathValue("user_id"))
	if errors.Is(err, identity.ErrNotFound) {
		web.WriteError(w, http.StatusNotFound, "not_found", "No test identity has that user ID.")
		return
	}
	if err != nil {
		web.WriteInternal(w, r, t.Log, err)
		return
	}
	code, err := t.Apps.NewActivationCode(r.Context(), id.UUID, id.IAL, actor)
	if err != nil {
		web.WriteInternal(w, r, t.Log, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, appOut{ActivationCode: code})
}

const actor = "testtool"

type createIdentityRequest struct {
	Name           string   `json:"name"`
	Birthdate      string   `json:"birthdate"`
	Password       *string  `json:"password"`
	Authenticators []string `json:"authenticators"`
	UserID         string   `json:"user_id"`
	IAL            string   `json:"ial"`
	Email          string   `json:"email"`
}

type tokenOut struct {
	Serial string `json:"serial"`
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

type createIdentityResponse struct {
	UUID            string          `json:"uuid"`
	UserID          string          `json:"user_id"`
	CPR             string          `json:"cpr"`
	Name            string          `json:"name"`
	Birthdate       string          `json:"birthdate"`
	Password        string          `json:"password,omitempty"`
	IAL             string          `json:"ial"`
	Email           string          `json:"email,omitempty"`
	App             *appOut         `json:"app,omitempty"`
	CodeDisplay     *tokenOut       `json:"code_display,omitempty"`
	AudioCodeReader *tokenOut       `json:"audio_code_reader,omitempty"`
	Chip            json.RawMessage `json:"chip,omitempty"`
}

type appOut struct {
	ActivationCode string `json:"activation_code"`
}

func badRequest(w http.ResponseWriter, code, format string, args ...any) {
	web.WriteError(w, http.StatusBadRequest, code, fmt.Sprintf(format, args...))
}

func (t *Tool) createIdentity(w http.ResponseWriter, r *http.Request) {
	var req createIdentityRequest
	if !web.DecodeJSON(w, r, &req) {
		return
	}
	ctx := r.Context()
	now := t.Now()
	given, family, err := splitName(req.Name)
	if err != nil {
		badRequest(w, "bad_name", "%v", err)
		return
	}
	birth, err := parseBirthdate(req.Birthdate, now)
	if err != nil {
		badRequest(w, "bad_birthdate", "%v", err)
		return
	}
	ial := nsis.High
	if req.IAL != "" {
		if ial, err = nsis.Parse(req.IAL); err != nil {
			badRequest(w, "bad_ial", "ial must be low, substantial or high.")
			return
		}
	}
	kinds := map[authenticator.Kind]bool{}
	for _, k := range req.Authenticators {
		kind, err := authenticator.ParseKind(k)
		if err != nil {
			badRequest(w, "bad_authenticator", "%v", err)
			return
		}
		if kinds[kind] {
			badRequest(w, "bad_authenticator", "%q is listed twice.", k)
			return
		}
		if kind == authenticator.Chip && t.Chips == nil {
			badRequest(w, "bad_authenticator", "chips are not available on this server.")
			return
		}
		kinds[kind] = true
	}
	email := ""
	if req.Email != "" {
		if email, err = notify.NormalizeEmail(req.Email); err != nil {
			badRequest(w, "bad_email", "email must be a plain e-mail address such as anna@example.dk.")
			return
		}
	}
	req.Email = email // normalized
	userID := req.UserID
	if userID == "" {
		userID = "test-" + randomWord(10)
	}
	if _, _, err := identity.NormalizeUserID(userID); err != nil {
		badRequest(w, "bad_user_id", "%v", strings.TrimPrefix(err.Error(), "identity: "))
		return
	}
	pw := ""
	if req.Password == nil {
		pw = randomWord(6) + "-" + randomWord(6) + "-" + randomWord(6)
	} else if pw = *req.Password; pw != "" {
		if err := password.CheckPolicy(pw, userID); err != nil {
			badRequest(w, "bad_password", "%v", strings.TrimPrefix(err.Error(), "password: "))
			return
		}
	}
	// The hash takes tens of milliseconds: before the transaction, which on
	// SQLite holds the one write lock.
	pwHash := ""
	if pw != "" {
		if pwHash, err = t.Identities.HashPassword(pw, userID); err != nil {
			badRequest(w, "bad_identity", "%v", err)
			return
		}
	}
	// The person, the identity and every authenticator asked for are one
	// transaction: a crash or an error half-way leaves none of them.
	var out createIdentityResponse
	err = t.Tx.InTx(ctx, func(ctx context.Context) error {
		out = createIdentityResponse{}
		return t.create(ctx, &out, req, userID, pw, pwHash, ial, kinds, cpr.Person{GivenName: given, FamilyName: family, Birthdate: birth}, now)
	})
	var re *requestError
	switch {
	case errors.As(err, &re):
		web.WriteError(w, re.status, re.code, re.msg)
	case err != nil:
		web.WriteInternal(w, r, t.Log, err) // a database that cannot be reached is a 503, not the caller's fault
	default:
		web.WriteJSON(w, http.StatusCreated, out)
	}
}

// requestError is a refusal of the caller's request, found inside the
// transaction (which it rolls back).
type requestError struct {
	status    int
	code, msg string
}

func (e *requestError) Error() string { return "testtool: " + e.code + ": " + e.msg }

func refuse(code, format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

// create makes the person, the identity and its authenticators in the
// transaction in ctx, filling in out.
func (t *Tool) create(ctx context.Context, out *createIdentityResponse, req createIdentityRequest, userID, pw, pwHash string,
	ial nsis.Level, kinds map[authenticator.Kind]bool, p cpr.Person, now time.Time) error {
	person, err := t.Register.Add(ctx, p, now)
	if err != nil {
		if errors.Is(err, cpr.ErrInvalidPerson) || errors.Is(err, cpr.ErrDuplicate) {
			return refuse("bad_person", "%v", err)
		}
		return err
	}
	var restrictions identity.Restrictions
	if age := person.AgeOn(now); age < 13 {
		return refuse("too_young", "A person under 13 cannot have a MitID.")
	} else if age < identity.AdultAge {
		restrictions = identity.Minor
	}
	id, err := t.Identities.Prepare(identity.New{UserID: userID, CPR: person.CPR, IAL: ial,
		State: identity.Active, Restrictions: restrictions})
	if err == nil {
		id.PasswordHash = pwHash
		err = t.Identities.Insert(ctx, id, actor)
	}
	if err != nil {
		switch {
		case errors.Is(err, identity.ErrUserIDTaken):
			return &requestError{status: http.StatusConflict, code: "user_id_taken", msg: "That user ID is taken."}
		case password.Code(err) != "", errors.Is(err, identity.ErrUserIDLength), errors.Is(err, identity.ErrUserIDCharacters),
			errors.Is(err, identity.ErrUserIDIsCPR), errors.Is(err, identity.ErrAlreadyEnrolled):
			return refuse("bad_identity", "%v", err)
		}
		return err
	}
	*out = createIdentityResponse{UUID: id.UUID, UserID: id.UserID, CPR: person.CPR.String(), Name: person.Name(),
		Birthdate: person.Birthdate.Format(time.DateOnly), Password: pw, IAL: ial.String(), Email: req.Email}
	if req.Email != "" {
		if err := t.Notify.SetEmail(ctx, id.UUID, req.Email, actor); err != nil {
			return err
		}
	}
	if kinds[authenticator.App] {
		code, err := t.Apps.NewActivationCode(ctx, id.UUID, ial, actor)
		if err != nil {
			return err
		}
		out.App = &appOut{ActivationCode: code}
	}
	for _, kind := range []authenticator.Kind{authenticator.CodeDisplay, authenticator.AudioCodeReader} {
		if !kinds[kind] {
			continue
		}
		a, secret, err := t.Codes.NewSoftToken(ctx, id.UUID, kind, ial, actor)
		if err != nil {
			return err
		}
		uri, _ := otp.TOTP{Secret: secret}.URI("OpenMitID", id.UserID)
		tok := &tokenOut{Serial: a.Serial, Secret: otp.EncodeSecret(secret), URI: uri}
		if kind == authenticator.CodeDisplay {
			out.CodeDisplay = tok
		} else {
			out.AudioCodeReader = tok
		}
	}
	if kinds[authenticator.Chip] {
		if out.Chip, err = t.Chips.EnrolSoftKey(ctx, id, ial); err != nil {
			return err
		}
	}
	return nil
}

type authenticatorOut struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Serial string `json:"serial,omitempty"`
	// UsableFrom is when the authenticator may first be used (a copied app waits).
	UsableFrom time.Time `json:"usable_from"`
}

type identityOut struct {
	UUID           string             `json:"uuid"`
	UserID         string             `json:"user_id"`
	State          string             `json:"state"`
	IAL            string             `json:"ial"`
	Minor          bool               `json:"minor"`
	CPR            string             `json:"cpr,omitempty"`
	Email          string             `json:"email,omitempty"`
	Authenticators []authenticatorOut `json:"authenticators"`
}

func (t *Tool) getIdentity(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := t.Identities.ByUserID(ctx, r.PathValue("user_id"))
	if errors.Is(err, identity.ErrNotFound) {
		web.WriteError(w, http.StatusNotFound, "not_found", "No test identity has that user ID.")
		return
	}
	if err != nil {
		web.WriteInternal(w, r, t.Log, err)
		return
	}
	auths, err := t.Authenticators.AuthenticatorsOf(ctx, id.UUID)
	if err != nil {
		web.WriteInternal(w, r, t.Log, err)
		return
	}
	out := identityOut{UUID: id.UUID, UserID: id.UserID, State: string(id.State), IAL: id.IAL.String(),
		Minor: id.IsMinor(t.Now()), CPR: id.CPR.String(), Authenticators: []authenticatorOut{}}
	if out.Email, err = t.Notify.Email(ctx, id.UUID); err != nil && !errors.Is(err, notify.ErrNoAddress) {
		web.WriteInternal(w, r, t.Log, err)
		return
	}
	for _, a := range auths {
		out.Authenticators = append(out.Authenticators, authenticatorOut{ID: a.ID, Kind: string(a.Kind), State: string(a.State),
			Name: a.Name, Level: a.Level.String(), Serial: a.Serial, UsableFrom: a.UsableFrom})
	}
	web.WriteJSON(w, http.StatusOK, out)
}

type createPersonRequest struct {
	Name           string   `json:"name"`
	Birthdate      string   `json:"birthdate"`
	Guardians      []string `json:"guardians"`
	Nationality    string   `json:"nationality"`
	DocumentNumber string   `json:"document_number"`
}

func (t *Tool) createPerson(w http.ResponseWriter, r *http.Request) {
	var req createPersonRequest
	if !web.DecodeJSON(w, r, &req) {
		return
	}
	now := t.Now()
	given, family, err := splitName(req.Name)
	if err != nil {
		badRequest(w, "bad_name", "%v", err)
		return
	}
	birth, err := parseBirthdate(req.Birthdate, now)
	if err != nil {
		badRequest(w, "bad_birthdate", "%v", err)
		return
	}
	p := cpr.Person{GivenName: given, FamilyName: family, Birthdate: birth, Nationality: strings.ToUpper(req.Nationality),
		DocumentNumber: strings.ToUpper(strings.TrimSpace(req.DocumentNumber))}
	for _, g := range req.Guardians {
		n, err := cpr.Parse(g)
		if err != nil {
			badRequest(w, "bad_guardian", "%v", err)
			return
		}
		p.Guardians = append(p.Guardians, n)
	}
	p, err = t.Register.Add(r.Context(), p, now)
	if err != nil {
		if errors.Is(err, cpr.ErrInvalidPerson) || errors.Is(err, cpr.ErrDuplicate) {
			badRequest(w, "bad_person", "%v", err)
			return
		}
		web.WriteInternal(w, r, t.Log, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, map[string]string{"cpr": p.CPR.String(), "name": p.Name(),
		"birthdate": p.Birthdate.Format(time.DateOnly)})
}

func splitName(name string) (given, family string, err error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "Test", "Testesen", nil
	}
	if len(name) > 100 {
		return "", "", errors.New("the name is longer than 100 bytes")
	}
	i := strings.LastIndexByte(name, ' ')
	if i < 0 {
		return "", "", errors.New(`give a given name and a family name, as "Anna Hansen"`)
	}
	return name[:i], name[i+1:], nil
}

func parseBirthdate(s string, now time.Time) (time.Time, error) {
	if s == "" {
		// An adult born on a random day between 1950 and 2000.
		start := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
		n, _ := rand.Int(rand.Reader, big.NewInt(50*365))
		return start.AddDate(0, 0, int(n.Int64())), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("birthdate %q is not YYYY-MM-DD", s)
	}
	if d.After(now) {
		return time.Time{}, fmt.Errorf("birthdate %s is in the future", s)
	}
	if d.Year() < 1858 {
		return time.Time{}, fmt.Errorf("birthdate %s is before any CPR number", s)
	}
	return d, nil
}

func randomWord(n int) string {
	const letters = "abcdefghijkmnopqrstuvwxyz234567" + "8" // 32 letters: uniform from a byte
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
