package token

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token.key")
	k1, err := KeyFile(path)
	if err != nil || len(k1) != 32 {
		t.Fatalf("first call: %d bytes, %v", len(k1), err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := KeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second call gave another key (%v)", err)
	}
	if _, err := KeyFile(filepath.Join(t.TempDir(), "missing", "token.key")); err == nil {
		t.Error("a key file in a missing directory: no error")
	}
}
