package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/nsis"
)

// Method is how a person chooses to log in. A method asks for one or more
// factors, depending on the level the service provider asked for.
type Method string

const (
	MethodApp             Method = "app"
	MethodCodeDisplay     Method = "code_display"
	MethodAudioCodeReader Method = "audio_code_reader"
	MethodChip            Method = "chip"
	MethodPassword        Method = "password"
)

// ParseMethod reads a method name.
func ParseMethod(s string) (Method, bool) {
	m := Method(s)
	switch m {
	case MethodApp, MethodCodeDisplay, MethodAudioCodeReader, MethodChip, MethodPassword:
		return m, true
	}
	return "", false
}

// Factor is one proof a person gives.
type Factor string

const (
	FactorPassword        Factor = "password"
	FactorApp             Factor = "app"
	FactorCodeDisplay     Factor = "code_display"
	FactorAudioCodeReader Factor = "audio_code_reader"
	FactorChip            Factor = "chip"
)

// AMR returns the factor's authentication method reference as tokens carry it,
// after the Danish brokers' convention for MitID.
func (f Factor) AMR() string {
	switch f {
	case FactorPassword:
		return "password"
	case FactorApp:
		return "code_app"
	case FactorCodeDisplay:
		return "code_token"
	case FactorAudioCodeReader:
		return "code_reader"
	case FactorChip:
		return "u2f_token"
	}
	return ""
}

// plan is a way to reach a level with a method: the factors in the order they
// are asked. This table and [AAL] are the whole level policy; nothing else
// decides levels.
type plan struct {
	method  Method
	factors []Factor
	aal     nsis.Level
}

var plans = []plan{ // for each method, fewest factors first
	{MethodApp, []Factor{FactorApp}, nsis.Substantial},
	{MethodApp, []Factor{FactorApp, FactorChip}, nsis.High},
	{MethodCodeDisplay, []Factor{FactorPassword, FactorCodeDisplay}, nsis.Substantial},
	{MethodAudioCodeReader, []Factor{FactorPassword, FactorAudioCodeReader}, nsis.Substantial},
	{MethodChip, []Factor{FactorChip}, nsis.Low},
	{MethodChip, []Factor{FactorPassword, FactorChip}, nsis.Substantial},
	{MethodPassword, []Factor{FactorPassword}, nsis.Low},
}

// methodOrder is the order methods are offered in: the app first, as the real scheme does.
var methodOrder = []Method{MethodApp, MethodCodeDisplay, MethodAudioCodeReader, MethodChip, MethodPassword}

// planFor returns the shortest plan of method that reaches level.
func planFor(m Method, level nsis.Level) (plan, bool) {
	for _, p := range plans {
		if p.method == m && p.aal >= level {
			return p, true
		}
	}
	return plan{}, false
}

// AAL is the authenticator assurance level of a set of factors (NSIS):
// two copy-resistant authenticators (the app and a chip) are high; the app with
// its PIN or biometrics, or a code display, audio code reader or chip with the
// password, are substantial; the password or a chip alone are low.
func AAL(factors []Factor) nsis.Level {
	has := func(f Factor) bool { return slices.Contains(factors, f) }
	switch {
	case has(FactorApp) && has(FactorChip):
		return nsis.High
	case has(FactorApp):
		return nsis.Substantial
	case has(FactorPassword) && (has(FactorCodeDisplay) || has(FactorAudioCodeReader) || has(FactorChip)):
		return nsis.Substantial
	case has(FactorPassword) || has(FactorChip):
		return nsis.Low
	}
	return nsis.None
}

// profile is what an identity can prove with: the kinds of usable
// authenticators it has, at what level each may contribute, and its IAL.
type profile struct {
	ial      nsis.Level
	password bool
	kinds    map[Factor]nsis.Level // factor → the highest level an authenticator of that kind may contribute
}

func factorOfKind(k authenticator.Kind) Factor {
	switch k {
	case authenticator.App:
		return FactorApp
	case authenticator.CodeDisplay:
		return FactorCodeDisplay
	case authenticator.AudioCodeReader:
		return FactorAudioCodeReader
	case authenticator.Chip:
		return FactorChip
	}
	return ""
}

func (p profile) can(f Factor) (nsis.Level, bool) {
	if f == FactorPassword {
		return p.ial, p.password
	}
	l, ok := p.kinds[f]
	return l, ok
}

// methods returns the methods by which the identity can reach level, in the
// order they are offered.
func (p profile) methods(level nsis.Level) []Method {
	if p.ial < level {
		return nil
	}
	var out []Method
	for _, m := range methodOrder {
		pl, ok := planFor(m, level)
		if !ok {
			continue
		}
		reach := true
		for _, f := range pl.factors {
			if l, ok := p.can(f); !ok || l < level {
				reach = false
				break
			}
		}
		if reach {
			out = append(out, m)
		}
	}
	return out
}

// decoyProfile is what a user ID that does not exist (or whose identity may not
// log in) appears to have, so that the methods offered, and the steps that
// follow, look like a real person's. It is a pure function of the user ID under
// a secret key: the same user ID always shows the same methods, so comparing two
// tries reveals nothing, and the choices follow roughly how people hold
// authenticators (nearly everyone has the app; some a code display; few a chip).
func decoyProfile(key []byte, userKey string) profile {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("decoy\x00" + userKey))
	sum := m.Sum(nil)
	roll := func(i int) int { return int(binary.BigEndian.Uint16(sum[2*i:]) % 1000) }
	p := profile{ial: nsis.Substantial, password: roll(0) < 950, kinds: map[Factor]nsis.Level{}}
	if roll(1) < 300 {
		p.ial = nsis.High
	}
	if roll(2) < 920 {
		p.kinds[FactorApp] = p.ial
	}
	if roll(3) < 150 || len(p.kinds) == 0 {
		p.kinds[FactorCodeDisplay] = p.ial
	}
	if roll(4) < 10 {
		p.kinds[FactorAudioCodeReader] = p.ial
	}
	if roll(5) < 40 {
		p.kinds[FactorChip] = p.ial
	}
	return p
}
