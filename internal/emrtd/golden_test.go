package emrtd_test

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// golden is one file of testdata: "key: value" header lines, an empty line,
// and a body, in the manner of filippo.io/age's testkit files.
type golden struct {
	name   string
	header map[string]string
	body   string
}

func readGolden(t testing.TB, path string) golden {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := golden{name: filepath.Base(path), header: map[string]string{}}
	head, body, _ := strings.Cut(string(b), "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			t.Fatalf("%s: header line %q has no colon", path, sc.Text())
		}
		g.header[k] = strings.TrimSpace(v)
	}
	g.body = body
	return g
}

func goldenFiles(t testing.TB, pattern string) []golden {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no golden files match testdata/%s", pattern)
	}
	sort.Strings(paths)
	var gs []golden
	for _, p := range paths {
		gs = append(gs, readGolden(t, p))
	}
	return gs
}
