package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/openmitid/openmitid/internal/appstate"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/qr"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// runAppCopyStart is the new phone's half of copying the app (docs/app-api.md,
// "Copy to a new phone"): it makes a key, shows the QR code for the old app to
// scan, waits until the old app approves (or the code expires), and saves the
// key under the new PIN.
func runAppCopyStart(args []string) error {
	fs := newFlags("app copy-start", "app copy-start --server URL --user-id ID --pin PIN --state NEW_FILE [--name NAME]")
	server := fs.String("server", "", "the server's issuer URL, e.g. http://127.0.0.1:8080 (required)")
	userID := fs.String("user-id", "", "the user ID of the MitID to copy (required)")
	pin := fs.String("pin", "", "the PIN that will unlock the app on this phone: 4 to 12 digits (required)")
	state := fs.String("state", "", "the state file to write for this phone (required)")
	name := fs.String("name", defaultDeviceName(), "this phone's name, as the old app will show it")
	force := fs.Bool("force", false, "replace an existing state file")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := requireFlags(fs, "server", "user-id", "pin", "state"); err != nil {
		return err
	}
	if err := appstate.CheckPIN(*pin); err != nil {
		return usageError{"--pin: " + err.Error()}
	}
	if _, _, err := identity.NormalizeUserID(*userID); err != nil {
		return usageError{"--user-id: " + strings.TrimPrefix(err.Error(), "identity: ")}
	}
	if err := appstate.CheckNew(*state, *force); err != nil {
		if errors.Is(err, appstate.ErrExists) {
			return fmt.Errorf("%s exists already: this phone has an app; use --force to replace it", *state)
		}
		return errors.New(forPerson(err))
	}
	key, err := appclient.NewKey()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cp, err := appclient.StartCopy(ctx, *server, *userID, *name, key)
	if err != nil {
		return errors.New(forPerson(err))
	}
	fmt.Println("Scan this QR code with the MitID app on your old phone, or there run:")
	fmt.Printf("  openmitid app copy-approve --state OLD_FILE --pin PIN --qr %s\n", cp.QR)
	fmt.Printf("QR: %s\n", cp.QR)
	fmt.Printf("The code is valid until %s. Waiting for your old phone to approve…\n", clock(cp.ExpiresAt))
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		showQR(os.Stdout, cp.QR)
	}
	os.Stdout.Sync()
	st, err := cp.Wait(ctx, time.Until(cp.ExpiresAt)+5*time.Second)
	if err != nil {
		return errors.New(forPerson(err))
	}
	if st.State != "approved" {
		return fmt.Errorf("the QR code expired before your old phone approved it (%s); start again", printable(st.State))
	}
	display, _, _ := identity.NormalizeUserID(*userID)
	acct := appstate.Account{Server: *server, DeviceID: st.DeviceID, UserID: display, Identity: st.Identity}
	var opts []appstate.Option
	if *force {
		opts = append(opts, appstate.Overwrite())
	}
	if err := appstate.Create(*state, acct, key, *pin, opts...); err != nil {
		return fmt.Errorf("your old phone approved device %s, but its key could not be saved (%s); remove that device and copy again", st.DeviceID, forPerson(err))
	}
	fmt.Printf("Copied: user ID %s, device %s, level %s.\n", printable(display), st.DeviceID, printable(st.Level))
	fmt.Printf("This app can be used from %s (a copied app waits, so that you are told on your other channels first).\n",
		st.UsableFrom.Local().Format(time.RFC3339))
	fmt.Printf("The key is saved in %s, locked with your PIN.\n", *state)
	return nil
}

// runAppCopyApprove is the old phone's half: it shows which phone asks and
// approves it with the device key.
func runAppCopyApprove(args []string) error {
	fs := newFlags("app copy-approve", "app copy-approve --state OLD_FILE --pin PIN --qr PAYLOAD")
	state := fs.String("state", "", "the state file of the app that approves (required)")
	pin := fs.String("pin", "", "that app's PIN (required)")
	payload := fs.String("qr", "", "the QR code's payload the new phone shows, openmitid-copy1.… (required)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := requireFlags(fs, "state", "pin", "qr"); err != nil {
		return err
	}
	if !strings.HasPrefix(strings.TrimSpace(*payload), appclient.CopyQRPrefix) {
		return usageError{"--qr: that is not a MitID copy QR code (they begin " + appclient.CopyQRPrefix + ")"}
	}
	cl, err := unlockClient(*state, *pin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	offer, err := cl.ScanCopy(ctx, *payload)
	if err != nil {
		return errors.New(forPerson(err))
	}
	fmt.Printf("A new phone asks to get your MitID: %q (key %s…).\n", printable(offer.DeviceName), offer.KeyFingerprint[:16])
	fmt.Println("Approving it, with your PIN. If this is not your phone, stop now and block your MitID (openmitid app block).")
	st, err := cl.ApproveCopy(ctx, offer)
	if err != nil {
		return errors.New(forPerson(err))
	}
	fmt.Printf("Approved: the new phone's app (device %s, level %s) can be used from %s. You will get an e-mail about it.\n",
		st.DeviceID, printable(st.Level), st.UsableFrom.Local().Format(time.RFC3339))
	return nil
}

// showQR draws a QR code on a terminal, two modules a character.
func showQR(w io.Writer, payload string) {
	code, err := qr.Encode([]byte(payload), qr.M)
	if err != nil {
		return
	}
	n := code.Size()
	black := func(x, y int) bool { return x >= 0 && y >= 0 && x < n && y < n && code.Black(x, y) }
	var b strings.Builder
	for y := -2; y < n+2; y += 2 {
		for x := -2; x < n+2; x++ {
			// Light on dark terminals: draw the light modules.
			top, bottom := !black(x, y), !black(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}
