package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGoldenFilesAreCurrent fails when the cases were edited without running go generate, or a
// generated file was edited by hand, so that the golden files are always what this program makes.
func TestGoldenFilesAreCurrent(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pskc")
	want := map[string]bool{}
	for _, c := range cases() {
		for ext, content := range map[string]string{".xml": c.xml, ".want": c.want} {
			name := "gen-" + c.name + ext
			want[name] = true
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || string(got) != content {
				t.Errorf("%s is not what pskcgen makes (%v): run go generate ./internal/authenticator/otp", name, err)
			}
		}
	}
	existing, _ := filepath.Glob(filepath.Join(dir, "gen-*"))
	for _, f := range existing {
		if !want[filepath.Base(f)] {
			t.Errorf("%s is no longer generated: remove it", f)
		}
	}
}
