package pages

import (
	"net/http"
	"time"

	"github.com/openmitid/openmitid/internal/web/i18n"
)

// LangCookie remembers the language chosen with ?lang=.
const LangCookie = "omid_lang"

// language picks the request's language: ?lang=da|en (remembered in a cookie
// for a year), else the cookie, else Accept-Language (Danish unless the
// browser prefers English).
func (p *Pages) language(w http.ResponseWriter, r *http.Request) i18n.Lang {
	if q := r.URL.Query().Get("lang"); q != "" {
		if l, ok := i18n.Parse(q); ok {
			http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(l), Path: "/", HttpOnly: true,
				Secure: p.secure, SameSite: http.SameSiteLaxMode, MaxAge: int(365 * 24 * time.Hour / time.Second)})
			return l
		}
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := i18n.Parse(c.Value); ok {
			return l
		}
	}
	return i18n.Match(r.Header.Get("Accept-Language"))
}
