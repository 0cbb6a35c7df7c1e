package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/openmitid/openmitid/internal/appstate"
	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// runAppEnrolPassport gets a MitID with a passport, as the app does
// (CONTRACT.md, "openmitid app enrol-passport"): it answers the server's
// challenge with the dump's chip key as the chip would, sends the passport
// and the selfie, waits while a caseworker or a guardian decides, and then
// chooses the user ID and password and registers a new device key, saved
// under the PIN like app activate's.
func runAppEnrolPassport(args []string) error { return passportCommand(args, false) }

// runAppReactivatePassport gets back a MitID that has no authenticator that
// works, with the passport, as enrol-passport gets one: the MitID keeps its
// user ID, and --password, if given, replaces its password.
func runAppReactivatePassport(args []string) error { return passportCommand(args, true) }

func passportCommand(args []string, reactivate bool) error {
	fs := newFlags("app enrol-passport", "app enrol-passport --server URL --passport DUMP --selfie IMAGE --cpr CPR --user-id ID --password PW --pin PIN --state FILE [--wait 10m]")
	if reactivate {
		fs = newFlags("app reactivate-passport", "app reactivate-passport --server URL --passport DUMP --selfie IMAGE --cpr CPR --pin PIN --state FILE [--password NEW_PW] [--wait 10m]")
	}
	server := fs.String("server", "", "the server's issuer URL, e.g. http://127.0.0.1:8080 (required)")
	dumpFile := fs.String("passport", "", "the passport dump the app read (openmitid testdata passport makes one) (required)")
	selfieFile := fs.String("selfie", "", "the selfie, JPEG or PNG (required)")
	cprNo := fs.String("cpr", "", "your CPR number; leave it out if you have none (then you get a P-code)")
	userID, pw := new(string), new(string)
	if reactivate {
		fs.StringVar(pw, "password", "", "a new password for your MitID; leave it out to keep the one you have")
	} else {
		fs.StringVar(userID, "user-id", "", "the user ID you choose (required)")
		fs.StringVar(pw, "password", "", "the password you choose (required)")
	}
	pin := fs.String("pin", "", "the PIN that will unlock the app: 4 to 12 digits (required)")
	state := fs.String("state", "", "the state file to write (required)")
	name := fs.String("name", defaultDeviceName(), "the device's name")
	email := fs.String("email", "", "an e-mail address at which you are told when a device is added to your MitID (optional)")
	wait := fs.Duration("wait", 10*time.Minute, "how long to wait for a caseworker or a guardian")
	force := fs.Bool("force", false, "replace an existing state file")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	required := []string{"server", "passport", "selfie", "pin", "state"}
	if !reactivate {
		required = append(required, "user-id", "password")
	}
	if err := requireFlags(fs, required...); err != nil {
		return err
	}
	// Everything that can be refused here is refused before the server's
	// challenge is spent.
	if err := appstate.CheckPIN(*pin); err != nil {
		return usageError{"--pin: " + err.Error()}
	}
	if _, _, err := identity.NormalizeUserID(*userID); err != nil && !reactivate {
		return usageError{"--user-id: " + strings.TrimPrefix(err.Error(), "identity: ")}
	}
	// A reactivation's new password is checked against the user ID by the
	// server, which knows it.
	if err := password.CheckPolicy(*pw, *userID); err != nil && (!reactivate || *pw != "") {
		if pe, ok := errors.AsType[*password.PolicyError](err); ok {
			return usageError{"--password: " + pe.Message("en")}
		}
		return usageError{"--password: " + err.Error()}
	}
	if *email != "" {
		if _, err := notify.NormalizeEmail(*email); err != nil {
			return usageError{"--email: not a plain e-mail address such as anna@example.dk"}
		}
	}
	if *cprNo != "" {
		if _, err := cpr.Parse(*cprNo); err != nil {
			return usageError{"--cpr: " + strings.TrimPrefix(err.Error(), "cpr: ")}
		}
	}
	if *wait < 0 {
		return usageError{fmt.Sprintf("--wait %s is negative", *wait)}
	}
	if err := appstate.CheckNew(*state, *force); err != nil {
		if errors.Is(err, appstate.ErrExists) {
			return fmt.Errorf("%s exists already: this app has a MitID; use --force to replace it", *state)
		}
		return errors.New(forPerson(err))
	}
	f, err := os.Open(*dumpFile)
	if err != nil {
		return err
	}
	dump, err := emrtd.ParseDump(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %s", *dumpFile, strings.TrimPrefix(err.Error(), "emrtd: "))
	}
	// A chip without DG15 proves itself genuine by chip authentication
	// (ICAO 9303 part 11, section 6.2) with the key of DG14 instead.
	_, hasDG15 := dump.Files["DG15"]
	var chipKey *emrtd.ChipKey
	switch {
	case !hasDG15 && dump.CAKey == nil:
		return fmt.Errorf("%s has neither DG15 nor ca_key: the reference app needs the chip's chip authentication key to answer as the chip would", *dumpFile)
	case !hasDG15:
		if _, err := emrtd.ParseChipKey(dump.CAKey); err != nil {
			return fmt.Errorf("%s: ca_key: %s", *dumpFile, strings.TrimPrefix(err.Error(), "emrtd: "))
		}
	case dump.AAKey == nil:
		return fmt.Errorf("%s has no aa_key: the reference app needs the chip's key to answer the challenge as the chip would", *dumpFile)
	default:
		if chipKey, err = emrtd.ParseChipKey(dump.AAKey); err != nil {
			return fmt.Errorf("%s: aa_key: %s", *dumpFile, strings.TrimPrefix(err.Error(), "emrtd: "))
		}
	}
	selfie, err := readSmall(*selfieFile, face.MaxImageSize)
	if err != nil {
		return err
	}
	if _, err := face.CheckImage(selfie); err != nil {
		return fmt.Errorf("%s: %s", *selfieFile, strings.TrimPrefix(err.Error(), "face: "))
	}
	mrz, err := emrtd.ParseMRZ(dump.MRZ)
	if err != nil {
		return fmt.Errorf("%s: the MRZ: %s", *dumpFile, strings.TrimPrefix(err.Error(), "emrtd: "))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := appclient.StartEnrolment
	if reactivate {
		start = appclient.StartReactivation
	}
	e, err := start(ctx, *server)
	if err != nil {
		return errors.New(forPerson(err))
	}
	passport := appclient.Passport{MRZ: dump.MRZ, Files: dump.Files, Selfie: selfie, CPR: *cprNo}
	if chipKey != nil {
		// The chip signs the challenge (ICAO 9303 part 11, section 6.1); the
		// reference app holds the synthetic chip's key to play it.
		if passport.ActiveAuthentication, err = emrtd.SignChallenge(rand.Reader, chipKey, dump.Files["DG14"], e.Challenge); err != nil {
			return fmt.Errorf("answering the challenge with the chip's key: %s", strings.TrimPrefix(err.Error(), "emrtd: "))
		}
	} else {
		// The server says what to send the chip; the synthetic chip answers
		// with its chip authentication key, as a real one would over NFC.
		run, err := e.ChipAuthentication(ctx, dump.Files["DG14"])
		if err != nil {
			return fmt.Errorf("refused: %s", forPerson(err))
		}
		if passport.ChipAuthentication, err = testchip.AnswerChipAuthentication(dump, run.MSE, run.GeneralAuthenticate, run.Command); err != nil {
			return fmt.Errorf("answering chip authentication with the chip's key: %s", strings.TrimPrefix(err.Error(), "emrtd: "))
		}
	}
	fmt.Printf("Read passport %s of %s %s.\n", printable(mrz.DocumentNumber), printable(mrz.Surname), printable(mrz.GivenNames))
	st, err := e.SubmitPassport(ctx, passport)
	if err != nil {
		return fmt.Errorf("refused: %s", forPerson(err))
	}
	if st, err = follow(ctx, os.Stdout, e, st, *wait); err != nil {
		return err
	}
	if st.State != appclient.EnrolmentReady {
		return fmt.Errorf("refused: %s (%s)", strings.TrimSuffix(printable(st.Message), "."), printable(st.Error))
	}

	key, err := appclient.NewKey()
	if err != nil {
		return err
	}
	e.Email = *email
	done, err := e.Complete(ctx, *userID, *pw, *name, key)
	if err != nil {
		return fmt.Errorf("your passport was accepted, but %s. Run the command again (with another --user-id if it was taken)", forPerson(err))
	}
	acct := appstate.Account{Server: *server, DeviceID: done.DeviceID, UserID: done.UserID, Identity: done.Identity}
	var opts []appstate.Option
	if *force {
		opts = append(opts, appstate.Overwrite())
	}
	if err := appstate.Create(*state, acct, key, *pin, opts...); err != nil {
		return fmt.Errorf("your MitID %s was made with device %s, but the key could not be saved (%s); get an activation code for a new app", printable(done.UserID), done.DeviceID, forPerson(err))
	}
	if reactivate {
		fmt.Printf("Reactivated: user ID %s, level %s, device %s. Your other apps and authenticators are revoked.\n",
			printable(done.UserID), printable(done.Level), done.DeviceID)
		if *pw != "" {
			fmt.Println("Your password is the new one.")
		}
	} else {
		fmt.Printf("Enrolled: user ID %s, level %s, device %s.\n", printable(done.UserID), printable(done.Level), done.DeviceID)
	}
	if done.PCode != "" {
		fmt.Printf("You have no CPR number, so your MitID has the P-code %s; only service providers that accept P-codes let you log in.\n", printable(done.PCode))
	}
	for _, r := range st.Restrictions {
		if r == "minor" {
			fmt.Println("You are under 15: service providers see your age, and some may not let you log in.")
		}
	}
	fmt.Printf("The key is saved in %s, locked with your PIN.\n", *state)
	return nil
}

// follow waits while the enrolment waits for a caseworker or a guardian,
// telling the person what happens, and asks the guardian again when a
// request lapses. It returns when the enrolment is ready or has ended, or
// fails after wait.
func follow(ctx context.Context, w io.Writer, e *appclient.Enrolment, st *appclient.EnrolmentStatus, wait time.Duration) (*appclient.EnrolmentStatus, error) {
	deadline := time.Now().Add(wait)
	told := ""
	for {
		switch st.State {
		case appclient.EnrolmentReady:
			return st, nil
		case appclient.EnrolmentFaceReview:
			if told != st.State {
				fmt.Fprintln(w, "A caseworker will compare your selfie with the photo in your passport. Waiting…")
			}
			told = st.State
		case appclient.EnrolmentGuardianConsent:
			if st.Consent == nil {
				// The last request lapsed unanswered: ask again.
				next, err := e.AskGuardian(ctx, 0)
				if err != nil {
					return nil, fmt.Errorf("refused: %s", forPerson(err))
				}
				st = next
				continue
			}
			if told != st.Consent.ApprovalID {
				fmt.Fprintf(w, "You are under 15: %s must approve in their MitID app. Ask them to enter the code %s (valid until %s).\n",
					printable(st.Consent.Guardian), printable(st.Consent.BindingCode), clock(st.Consent.ExpiresAt))
			}
			told = st.Consent.ApprovalID
		default:
			if st.Final() {
				return st, nil
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("the enrolment is still %s after %s; it stays open on the server until %s", st.State, wait,
				st.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
		}
		next, err := e.Status(ctx, st.State, min(left, 25*time.Second))
		if err != nil {
			return nil, errors.New(forPerson(err))
		}
		st = next
	}
}

// readSmall reads a file of at most max bytes, refusing a larger one before
// reading it whole.
func readSmall(name string, max int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s is larger than %d KiB", name, max>>10)
	}
	return b, nil
}
