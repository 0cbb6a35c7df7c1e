package notify

import (
	"fmt"
	"sort"
	"strings"
)

// Template names a message.
type Template string

const (
	// AppCopied: a new app was added by copying from an active one.
	// Params: device_name, added_at, usable_from, approved_by.
	AppCopied Template = "app_copied"
	// Reactivated: the person proved themselves with their passport again and
	// a new app was registered. Params: device_name, added_at.
	Reactivated Template = "reactivated"
)

type text struct {
	subject string
	body    string // {name} is replaced by the parameter name
}

// templates holds each message in Danish and in English; both go in one
// message, Danish first.
var templates = map[Template]struct{ da, en text }{
	AppCopied: {
		da: text{"Ny MitID-app tilføjet", "Der er tilføjet en ny MitID-app, \"{device_name}\", til dit MitID den {added_at}.\n" +
			"Den blev godkendt i din app \"{approved_by}\" og kan bruges fra {usable_from}.\n\n" +
			"Var det ikke dig, så spær dit MitID straks i din app eller hos MitID-support."},
		en: text{"New MitID app added", "A new MitID app, \"{device_name}\", was added to your MitID on {added_at}.\n" +
			"It was approved in your app \"{approved_by}\" and can be used from {usable_from}.\n\n" +
			"If this was not you, block your MitID at once in your app or with MitID support."},
	},
	Reactivated: {
		da: text{"Dit MitID er genaktiveret", "Dit MitID er genaktiveret med dit pas den {added_at}, og appen \"{device_name}\" er tilføjet.\n\n" +
			"Var det ikke dig, så kontakt MitID-support straks."},
		en: text{"Your MitID has been reactivated", "Your MitID was reactivated with your passport on {added_at}, and the app \"{device_name}\" was added.\n\n" +
			"If this was not you, contact MitID support at once."},
	},
}

// Render returns a message's subject and body in Danish and English. Every
// parameter the template names must be given, and none other; values are
// stripped of control characters so that none can forge a line.
func Render(t Template, params map[string]string) (subject, body string, err error) {
	tt, ok := templates[t]
	if !ok {
		return "", "", fmt.Errorf("notify: unknown template %q", t)
	}
	used := map[string]bool{}
	fill := func(s string) (string, error) {
		var b strings.Builder
		for {
			i := strings.IndexByte(s, '{')
			if i < 0 {
				b.WriteString(s)
				return b.String(), nil
			}
			j := strings.IndexByte(s[i:], '}')
			name := s[i+1 : i+j]
			v, ok := params[name]
			if !ok {
				return "", fmt.Errorf("notify: template %q needs parameter %q", t, name)
			}
			used[name] = true
			b.WriteString(s[:i])
			b.WriteString(clean(v))
			s = s[i+j+1:]
		}
	}
	da, err := fill(tt.da.body)
	if err != nil {
		return "", "", err
	}
	en, err := fill(tt.en.body)
	if err != nil {
		return "", "", err
	}
	var extra []string
	for k := range params {
		if !used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return "", "", fmt.Errorf("notify: template %q takes no parameter %q", t, extra[0])
	}
	subject = tt.da.subject + " / " + tt.en.subject
	body = "(English below)\n\n" + da + "\n\nVenlig hilsen\nMitID\n\n----\n\n" + en + "\n\nKind regards\nMitID\n"
	return subject, body, nil
}

func clean(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, v)
	if len(v) > 200 {
		v = strings.ToValidUTF8(v[:200], "")
	}
	return v
}
