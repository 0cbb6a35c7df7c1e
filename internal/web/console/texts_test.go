package console

import (
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/web/i18n"
)

// TestTextsInBothLanguages: every text is in both catalogues with the same
// format verbs, and every key the code and templates ask for exists.
func TestTextsInBothLanguages(t *testing.T) {
	da, en := texts[i18n.Danish], texts[i18n.English]
	for k, v := range en {
		d, ok := da[k]
		if !ok {
			t.Errorf("%s: no Danish text", k)
			continue
		}
		if strings.Count(v, "%") != strings.Count(d, "%") {
			t.Errorf("%s: format verbs differ: %q / %q", k, v, d)
		}
	}
	for k := range da {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: no English text", k)
		}
	}
	if got := tr(i18n.English, "console.no_such_key"); got != "⟦console.no_such_key⟧" {
		t.Errorf("a missing key renders as %q", got)
	}
}
