package pages

import (
	"net/http"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/web/i18n"
)

// RenderFlow renders f's page as GET /login/{flow} would, for states that
// take the engine long to reach (every failure code).
func (p *Pages) RenderFlow(w http.ResponseWriter, r *http.Request, lang i18n.Lang, f *authn.Flow) {
	p.renderFlow(w, r, lang, f, "test-token", nil, "")
}

// Retryable reports whether a failure offers "Try again".
func Retryable(code string) bool { return retryable[code] }
