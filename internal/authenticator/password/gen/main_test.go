package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedListIsCurrent fails when the word lists were edited without running go generate,
// so that the embedded list is always what this program makes.
func TestGeneratedListIsCurrent(t *testing.T) {
	committed, err := os.ReadFile("../commonpasswords.txt")
	if err != nil {
		t.Fatal(err)
	}
	var fresh bytes.Buffer
	write(&fresh)
	if !bytes.Equal(committed, fresh.Bytes()) {
		t.Fatal("commonpasswords.txt is not what ./gen makes: run go generate ./internal/authenticator/password")
	}
}
