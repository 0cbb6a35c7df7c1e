// Package password stores and checks passwords: argon2id hashes in PHC string format (RFC 9106,
// PHC string format) at the OWASP Password Storage Cheat Sheet's parameters, and the password
// policy a person's new password must meet.
//
// It knows nothing of storage, lockout or users: the login engine looks up the stored string,
// counts failures and calls [Hasher.Verify], or [Hasher.VerifyDummy] when the user ID is unknown so
// that both cost the same.
package password

import (
	"errors"
	"fmt"
)

// Params are the argon2id cost parameters and output sizes (RFC 9106, Section 3.1).
type Params struct {
	Memory  uint32 // memory size m in KiB
	Time    uint32 // number of passes t
	Threads uint8  // degree of parallelism p (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // tag (hash) length in bytes
}

// OWASP are the parameters of the OWASP Password Storage Cheat Sheet's first argon2id
// configuration: 19 MiB of memory, 2 passes, 1 lane, with a 16-byte salt (RFC 9106, Section 3.1
// recommends 128 bits) and a 32-byte tag.
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters. A stored hash outside them is refused before anything is computed: a row
// altered to m=4 GiB or t=10^9 must not be able to take a node down.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 100
	maxThreads = 64
	minSaltLen = 8 // RFC 9106, Section 3.1: "salt S ... 16 bytes RECOMMENDED"; the reference vectors use 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Validate reports whether p is within the bounds this package accepts, for new hashes as for
// stored ones: 1 ≤ t ≤ 100, 1 ≤ p ≤ 64, 8·p KiB ≤ m ≤ 1 GiB (RFC 9106, Section 3.1 requires
// m ≥ 8·p), a salt of 8 to 64 bytes and a tag of 16 to 64 bytes.
func (p Params) Validate() error {
	if problem := p.problem(); problem != "" {
		return errors.New("password: " + problem)
	}
	return nil
}

// problem describes what is out of bounds in p, or returns "".
func (p Params) problem() string {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Sprintf("argon2id t=%d is outside 1..%d", p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Sprintf("argon2id p=%d is outside 1..%d", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Sprintf("argon2id m=%d KiB is outside %d..%d (at least 8 KiB per lane, at most 1 GiB)", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Sprintf("argon2id salt of %d bytes is outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Sprintf("argon2id hash of %d bytes is outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return ""
}

// String returns the parameters as a PHC parameter string with the lengths, for logs and the
// benchmark command: "m=19456,t=2,p=1 salt=16 key=32".
func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d salt=%d key=%d", p.Memory, p.Time, p.Threads, p.SaltLen, p.KeyLen)
}
