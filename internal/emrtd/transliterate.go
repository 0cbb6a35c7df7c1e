package emrtd

import (
	"strings"
	"unicode"
)

// transliterations follows the recommended column of ICAO 9303 part 3,
// section 6.A, "Transliteration of multinational Latin-based characters".
var transliterations = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "AE", 'Å': "AA", 'Æ': "AE", 'Ā': "A", 'Ă': "A", 'Ą': "A",
	'Ç': "C", 'Ć': "C", 'Ĉ': "C", 'Ċ': "C", 'Č': "C",
	'Ð': "D", 'Ď': "D", 'Đ': "D",
	'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Ē': "E", 'Ĕ': "E", 'Ė': "E", 'Ę': "E", 'Ě': "E",
	'Ĝ': "G", 'Ğ': "G", 'Ġ': "G", 'Ģ': "G",
	'Ĥ': "H", 'Ħ': "H",
	'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I", 'Ĩ': "I", 'Ī': "I", 'Ĭ': "I", 'Į': "I", 'İ': "I", 'Ĳ': "IJ",
	'Ĵ': "J", 'Ķ': "K",
	'Ĺ': "L", 'Ļ': "L", 'Ľ': "L", 'Ŀ': "L", 'Ł': "L",
	'Ñ': "N", 'Ń': "N", 'Ņ': "N", 'Ň': "N", 'Ŋ': "N",
	'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "OE", 'Ø': "OE", 'Ō': "O", 'Ŏ': "O", 'Ő': "O", 'Œ': "OE",
	'Ŕ': "R", 'Ŗ': "R", 'Ř': "R",
	'Ś': "S", 'Ŝ': "S", 'Ş': "S", 'Š': "S", 'ẞ': "SS",
	'Ţ': "T", 'Ť': "T", 'Ŧ': "T", 'Þ': "TH",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "UE", 'Ũ': "U", 'Ū': "U", 'Ŭ': "U", 'Ů': "U", 'Ű': "U", 'Ų': "U",
	'Ŵ': "W", 'Ý': "Y", 'Ŷ': "Y", 'Ÿ': "Y",
	'Ź': "Z", 'Ż': "Z", 'Ž': "Z",
}

// Transliterate writes a name in the MRZ character set as ICAO 9303 part 3,
// section 6, recommends for Latin-based characters: "Søren Ærø-Åberg"
// becomes "SOEREN AEROE-AABERG". Letters are upper-cased, ß becomes SS,
// apostrophes and other punctuation are dropped, and spaces and hyphens are
// kept (the MRZ writes both as fillers). Characters of other scripts are
// dropped: they need the transliteration tables of part 3, section 6.B/C,
// which this function does not implement.
func Transliterate(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r == 'ß' {
			b.WriteString("SS")
			continue
		}
		u := unicode.ToUpper(r)
		switch {
		case u >= 'A' && u <= 'Z', u >= '0' && u <= '9', u == ' ', u == '-':
			b.WriteRune(u)
		case transliterations[u] != "":
			b.WriteString(transliterations[u])
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
