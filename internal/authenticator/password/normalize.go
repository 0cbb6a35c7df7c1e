package password

import "strings"

// compositions maps a combining mark to pairs of (base letter, precomposed letter), the canonical
// compositions of Unicode's NFC for the Latin letters of Danish and its neighbours' languages.
// The standard library has no Unicode normalisation, and golang.org/x/text is not a dependency of
// this package; this covers what a Danish, Nordic, German, French or Czech keyboard or phone can
// produce in decomposed form (macOS file names, some Android keyboards).
var compositions = map[rune]string{
	'\u0300': "AÀEÈIÌOÒUÙaàeèiìoòuù",                     // grave
	'\u0301': "AÁEÉIÍOÓUÚYÝaáeéiíoóuúyýCĆcćNŃnńSŚsśZŹzź", // acute
	'\u0302': "AÂEÊIÎOÔUÛaâeêiîoôuû",                     // circumflex
	'\u0303': "AÃNÑOÕaãnñoõ",                             // tilde
	'\u0308': "AÄEËIÏOÖUÜaäeëiïoöuüyÿ",                   // diaeresis
	'\u030A': "AÅaåUŮuů",                                 // ring above
	'\u0327': "CÇcç",                                     // cedilla
	'\u030C': "CČcčDĎdďEĚeěNŇnňRŘrřSŠsšTŤtťZŽzž",         // caron
}

// composeTable is compositions as a lookup from (base, mark) to the precomposed letter.
var composeTable = func() map[[2]rune]rune {
	t := make(map[[2]rune]rune)
	for mark, pairs := range compositions {
		rs := []rune(pairs)
		for i := 0; i+1 < len(rs); i += 2 {
			t[[2]rune{rs[i], mark}] = rs[i+1]
		}
	}
	return t
}()

// normalize composes a letter followed by a combining mark into the precomposed letter where
// compositions knows it, so that "a\u030A" and "å" count, compare and match alike. It approximates
// NFC for Latin script; other sequences are left as they are.
func normalize(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { _, ok := compositions[r]; return ok }) {
		return s
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if n := len(out); n > 0 {
			if c, ok := composeTable[[2]rune{out[n-1], r}]; ok {
				out[n-1] = c
				continue
			}
		}
		out = append(out, r)
	}
	return string(out)
}
