package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/server"
)

// adminCommands are the subcommands of `openmitid admin`.
var adminCommands = map[string]command{
	"tokens":    {"hardware OTP tokens: import a vendor's PSKC file, assign a token to an identity", runAdminTokens},
	"clients":   {"service providers (OpenID Connect clients): add, list, remove", runAdminClients},
	"csca":      {"the CSCA trust list for passports: import certificates or an ICAO master list, list", runAdminCSCA},
	"operators": {"caseworkers and supervisors of the operator console: add, list, remove", runAdminOperators},
}

func runAdmin(args []string) error {
	if len(args) == 0 {
		names := make([]string, 0, len(adminCommands))
		for n := range adminCommands {
			names = append(names, n)
		}
		sort.Strings(names)
		return usageError{"want: openmitid admin " + strings.Join(names, "|") + " …"}
	}
	c, ok := adminCommands[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown admin command %q", args[0])}
	}
	return c.run(args[1:])
}

// platformFlags adds --db and --kek-file to fs.
func platformFlags(fs interface {
	String(name, value, usage string) *string
}) (dsn, kek *string) {
	dsn = fs.String("db", env("OPENMITID_DB", defaultDB), "database: sqlite:PATH or postgres://… (env OPENMITID_DB)")
	kek = fs.String("kek-file", env("OPENMITID_KEK_FILE", ""), "key-encryption key file (env OPENMITID_KEK_FILE; default beside the SQLite file)")
	return dsn, kek
}

// keyFlag collects NAME=VALUE pairs.
type keyFlag map[string]string

func (k keyFlag) String() string { return "" }
func (k keyFlag) Set(s string) error {
	name, v, ok := strings.Cut(s, "=")
	if !ok {
		// A lone value is the key for any name: most vendor files have one key.
		name, v = "", s
	}
	if _, dup := k[name]; dup {
		return fmt.Errorf("key %q given twice", name)
	}
	k[name] = v
	return nil
}

func runAdminTokens(args []string) error {
	if len(args) == 0 {
		return usageError{"want: openmitid admin tokens import|assign …"}
	}
	switch args[0] {
	case "import":
		return runTokensImport(args[1:])
	case "assign":
		return runTokensAssign(args[1:])
	}
	return usageError{fmt.Sprintf("unknown tokens command %q (want import or assign)", args[0])}
}

func runTokensImport(args []string) error {
	fs := newFlags("admin tokens import", "admin tokens import [--kind code_display|audio_code_reader] [--key NAME=HEX]… [--passphrase NAME=SECRET]… FILE")
	dsn, kek := platformFlags(fs)
	kind := fs.String("kind", "code_display", "what the tokens are: code_display or audio_code_reader")
	keys, passphrases := keyFlag{}, keyFlag{}
	fs.Var(keys, "key", "pre-shared key of the file, NAME=HEX (RFC 6030 section 6.1); repeatable; HEX alone for any name")
	fs.Var(passphrases, "passphrase", "passphrase of the file, NAME=SECRET (RFC 6030 section 6.2); repeatable")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"give the PSKC file to import"}
	}
	k, err := authenticator.ParseKind(*kind)
	if err != nil || (k != authenticator.CodeDisplay && k != authenticator.AudioCodeReader) {
		return usageError{fmt.Sprintf("--kind %q: want code_display or audio_code_reader", *kind)}
	}
	provider := otp.Keys{PreShared: map[string][]byte{}, Passphrases: map[string]string(passphrases)}
	for name, h := range keys {
		b, err := hex.DecodeString(h)
		if err != nil {
			return usageError{fmt.Sprintf("--key %s: not hex", name)}
		}
		provider.PreShared[name] = b
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	tokens, err := otp.ParsePSKC(f, provider)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	n, err := codedisplay.NewService(p.DB, p.Keys, p.DB, nil, nil).Import(ctx, tokens, k, "admin")
	if err != nil {
		return err
	}
	fmt.Printf("imported %d %s tokens from %s\n", n, k, fs.Arg(0))
	return nil
}

func runTokensAssign(args []string) error {
	fs := newFlags("admin tokens assign", "admin tokens assign --serial SERIAL --user-id USER_ID")
	dsn, kek := platformFlags(fs)
	serial := fs.String("serial", "", "the token's serial number")
	userID := fs.String("user-id", "", "the identity that gets it")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *serial == "" || *userID == "" {
		return usageError{"--serial and --user-id are required"}
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	ids, err := server.IdentityService(ctx, p, nil)
	if err != nil {
		return err
	}
	id, err := ids.ByUserID(ctx, *userID)
	if errors.Is(err, identity.ErrNotFound) {
		return fmt.Errorf("no identity has the user ID %q", *userID)
	}
	if err != nil {
		return err
	}
	a, err := codedisplay.NewService(p.DB, p.Keys, p.DB, nil, nil).Assign(ctx, *serial, id.UUID, id.IAL, "admin")
	if err != nil {
		return err
	}
	fmt.Printf("token %s (%s) assigned to %s\n", *serial, a.Kind, id.UserID)
	return nil
}
