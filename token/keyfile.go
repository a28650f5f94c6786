package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
)

// KeyFile returns the key kept in the file at path, creating the file with
// a new random 32-byte key (mode 0600) when there is none. Two processes
// starting at once get the same key: the second reads what the first
// wrote. Local mode keeps its link key this way.
func KeyFile(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		return b, nil
	}
	key := make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return os.ReadFile(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("creating key file: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(key); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return key, nil
}
