package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/appstate"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// runApp is the reference MitID app (CONTRACT.md, "The reference app"): a
// device key in a state file sealed under the PIN, speaking the app API
// through pkg/appclient as a phone would.
func runApp(args []string) error {
	const want = "want: openmitid app activate|approve|block|enrol-passport|reactivate-passport|copy-start|copy-approve [flags] (openmitid app <command> -h for its flags)"
	if len(args) == 0 {
		return usageError{want}
	}
	switch args[0] {
	case "activate":
		return runAppActivate(args[1:])
	case "approve":
		return runAppApprove(args[1:])
	case "block":
		return runAppBlock(args[1:])
	case "enrol-passport":
		return runAppEnrolPassport(args[1:])
	case "reactivate-passport":
		return runAppReactivatePassport(args[1:])
	case "copy-start":
		return runAppCopyStart(args[1:])
	case "copy-approve":
		return runAppCopyApprove(args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Println("Usage: openmitid app <command> [flags]\n\nCommands:\n" +
			"  activate   register this device with an activation code and save its key under a PIN\n" +
			"  approve    wait for an approval request, show who asks and what for, and answer it\n" +
			"  block      block your MitID (a lost or stolen phone)\n" +
			"  enrol-passport  get a MitID with your passport's chip and a selfie\n" +
			"  reactivate-passport  get your MitID back with your passport when no authenticator of it works\n" +
			"  copy-start      on a new phone: show a QR code for your old app and wait for its approval\n" +
			"  copy-approve    on the old phone: approve the new phone whose QR code you scanned")
		return flag.ErrHelp
	}
	return usageError{fmt.Sprintf("unknown app command %q; %s", args[0], want)}
}

func runAppActivate(args []string) error {
	fs := newFlags("app activate", "app activate --server URL --code ACTIVATION_CODE --pin PIN --state FILE [--name NAME] [--force]")
	server := fs.String("server", "", "the server's issuer URL, e.g. http://127.0.0.1:8080 (required)")
	code := fs.String("code", "", "the activation code, e.g. ABCD-EFGH-JKLM-NPQR (required)")
	pin := fs.String("pin", "", "the PIN that will unlock the app: 4 to 12 digits (required)")
	state := fs.String("state", "", "the state file to write (required)")
	name := fs.String("name", defaultDeviceName(), "the device's name, as the person will see it in lists of devices")
	force := fs.Bool("force", false, "replace an existing state file (its device stays registered on the server)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := requireFlags(fs, "server", "code", "pin", "state"); err != nil {
		return err
	}
	// Everything that can be refused here is refused before the activation
	// code is spent on the server.
	if err := appstate.CheckPIN(*pin); err != nil {
		return usageError{"--pin: " + err.Error()}
	}
	if _, err := appclient.NormalizeActivationCode(*code); err != nil {
		return usageError{"--code: " + forPerson(err)}
	}
	if err := appstate.CheckNew(*state, *force); err != nil {
		if errors.Is(err, appstate.ErrExists) {
			return fmt.Errorf("%s exists already: this app is activated; use --force to replace it", *state)
		}
		return errors.New(forPerson(err))
	}
	key, err := appclient.NewKey()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := appclient.Activate(ctx, *server, *code, *name, key)
	if err != nil {
		return errors.New(forPerson(err))
	}
	acct := appstate.Account{Server: *server, DeviceID: a.DeviceID, UserID: a.UserID, Identity: a.Identity}
	var opts []appstate.Option
	if *force {
		opts = append(opts, appstate.Overwrite())
	}
	if err := appstate.Create(*state, acct, key, *pin, opts...); err != nil {
		return fmt.Errorf("device %s was activated, but its key could not be saved (%s); get a new activation code and activate again", a.DeviceID, forPerson(err))
	}
	fmt.Printf("Activated: user ID %s, device %s, level %s.\n", printable(a.UserID), a.DeviceID, printable(a.Level))
	if a.UsableFrom.After(time.Now()) {
		fmt.Printf("The device can be used from %s (a new device waits before it may approve).\n", a.UsableFrom.Local().Format(time.RFC3339))
	}
	fmt.Printf("The key is saved in %s, locked with your PIN.\n", *state)
	return nil
}

func runAppApprove(args []string) error {
	fs := newFlags("app approve", "app approve --state FILE --pin PIN [--binding CODE_OR_QR] [--reject | --report-fraud] [--wait 30s]")
	state := fs.String("state", "", "the state file written by app activate (required)")
	pin := fs.String("pin", "", "the app's PIN (required)")
	binding := fs.String("binding", "", "the 4-digit code or the QR frame (openmitid1.…) the browser shows; without it the request can only be rejected or reported")
	reject := fs.Bool("reject", false, "reject the request")
	fraud := fs.Bool("report-fraud", false, `answer "I did not start this": the login fails and a fraud report is recorded`)
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for a request to arrive")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := requireFlags(fs, "state", "pin"); err != nil {
		return err
	}
	if *reject && *fraud {
		return usageError{"--reject and --report-fraud exclude each other"}
	}
	if *wait < 0 {
		return usageError{fmt.Sprintf("--wait %s is negative", *wait)}
	}
	decision := appclient.Approve
	switch {
	case *reject:
		decision = appclient.Reject
	case *fraud:
		decision = appclient.Fraud
	}

	// The PIN first: a wrong one fails before anything is sent.
	cl, err := unlockClient(*state, *pin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := cl.WaitNext(ctx, *wait)
	if err != nil {
		return errors.New(forPerson(err))
	}
	if p == nil {
		return fmt.Errorf("no approval request arrived within %s", *wait)
	}

	var result string
	if *binding == "" {
		fmt.Printf("An approval request (%s) is waiting; it expires at %s.\n", printable(string(p.Kind)), clock(p.ExpiresAt))
		fmt.Println("Without the code or QR code from the browser (--binding) the app cannot see who asks; it can only reject or report.")
		result, err = cl.AnswerUnbound(ctx, p.ApprovalID, decision)
	} else {
		qr, code := appclient.SplitBinding(*binding)
		b, berr := cl.Bind(ctx, p.ApprovalID, qr, code)
		if berr != nil {
			return errors.New(forPerson(berr))
		}
		printRequest(os.Stdout, b.Request, time.Now())
		result, err = cl.Answer(ctx, b, decision)
	}
	if err != nil {
		return errors.New(forPerson(err))
	}
	switch result {
	case "approved":
		fmt.Println("Approved.")
	case "rejected":
		fmt.Println("Rejected.")
	case "fraud":
		fmt.Println("Reported: you did not start this. The login has failed, your other open requests are cancelled, and a fraud report is recorded.")
	default:
		fmt.Printf("Answered: %s.\n", printable(result))
	}
	return nil
}

func runAppBlock(args []string) error {
	fs := newFlags("app block", "app block --state FILE --pin PIN")
	state := fs.String("state", "", "the state file written by app activate (required)")
	pin := fs.String("pin", "", "the app's PIN (required)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := requireFlags(fs, "state", "pin"); err != nil {
		return err
	}
	cl, err := unlockClient(*state, *pin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cl.Block(ctx); err != nil {
		return errors.New(forPerson(err))
	}
	fmt.Println("Blocked: your MitID cannot be used to log in or sign, and open requests are cancelled. To unblock it, you must prove who you are again.")
	return nil
}

// unlockClient opens the state file with the PIN and returns a client for its device.
func unlockClient(state, pin string) (*appclient.Client, error) {
	acct, key, err := appstate.Unlock(state, pin)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("there is no state file %s; activate the app first (openmitid app activate)", state)
	}
	if err != nil {
		if errors.Is(err, appstate.ErrBadPIN) {
			return nil, usageError{"--pin: " + err.Error()}
		}
		return nil, errors.New(forPerson(err))
	}
	cl, err := appclient.New(appclient.Device{Server: acct.Server, ID: acct.DeviceID, Key: key, Identity: acct.Identity})
	if err != nil {
		return nil, fmt.Errorf("%s: %s", state, forPerson(err))
	}
	return cl, nil
}

// printRequest shows what the app decoded from the canonical request, the
// bytes it signs; nothing else the server sent is shown.
func printRequest(w io.Writer, r appclient.Request, now time.Time) {
	who := printable(r.ClientName)
	switch r.Kind {
	case approval.KindLogin:
		fmt.Fprintf(w, "%s asks you to log on.\n", who)
	case approval.KindSign:
		fmt.Fprintf(w, "%s asks you to sign a document.\n", who)
	case approval.KindWitness:
		fmt.Fprintf(w, "%s asks you to vouch, as a witness, for a person being enrolled.\n", who)
	case approval.KindCopy:
		fmt.Fprintf(w, "%s asks you to copy your MitID app to a new phone.\n", who)
	case approval.KindConsent:
		fmt.Fprintf(w, "%s asks for your consent, as a guardian, to a child's enrolment.\n", who)
	default:
		fmt.Fprintf(w, "%s asks you to approve (%s).\n", who, printable(string(r.Kind)))
	}
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", label+":", printable(v))
		}
	}
	line("Reference", r.ReferenceText)
	line("Action", r.ActionText)
	if r.Kind == approval.KindWitness {
		line("Declaration", r.Title) // what the witness vouches for, in full
	} else {
		line("Document", r.Title)
	}
	line("Fingerprint", r.Fingerprint)
	from := r.Location
	if r.Browser != "" {
		from = strings.TrimPrefix(from+", "+r.Browser, ", ")
	}
	line("From", from)
	left := r.ExpiresAt.Sub(now).Round(time.Second)
	if left > 0 {
		line("Expires", fmt.Sprintf("%s (in %s)", clock(r.ExpiresAt), left))
	} else {
		line("Expires", fmt.Sprintf("%s (expired)", clock(r.ExpiresAt)))
	}
}

func clock(t time.Time) string { return t.Local().Format("15:04:05 MST") }

// printable keeps what the server sent from acting on the terminal: control
// characters (escape sequences) and format characters (right-to-left
// overrides that would reorder what the person reads) become U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || unicode.IsPrint(r) {
			return r
		}
		return unicode.ReplacementChar
	}, s)
}

// forPerson words an error for the person at the terminal: the server's own
// sentence for an API error, and the message without the package prefix
// otherwise.
func forPerson(err error) string {
	if e, ok := errors.AsType[*appclient.APIError](err); ok {
		if e.Code == "" {
			return fmt.Sprintf("the server answered %d: %s", e.Status, printable(e.Message))
		}
		msg := printable(e.Message)
		if msg == "" {
			msg = "the server refused"
		}
		return fmt.Sprintf("%s (%s)", strings.TrimSuffix(msg, "."), printable(e.Code))
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	if e, ok := errors.AsType[*url.Error](err); ok {
		where := e.URL
		if u, perr := url.Parse(e.URL); perr == nil {
			where = u.Scheme + "://" + u.Host
		}
		if e.Timeout() {
			return fmt.Sprintf("the server at %s did not answer in time", where)
		}
		return fmt.Sprintf("cannot reach the server at %s: %v", where, e.Err)
	}
	s := err.Error()
	for _, p := range []string{"appclient: ", "appstate: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// requireFlags refuses a command line that leaves a required flag empty.
func requireFlags(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			return usageError{fmt.Sprintf("--%s is required (see openmitid %s -h)", n, fs.Name())}
		}
	}
	return nil
}

func defaultDeviceName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return "openmitid app on " + h
	}
	return "openmitid app"
}
