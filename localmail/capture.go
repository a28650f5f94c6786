package localmail

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
)

// capture writes accepted messages into a directory as <n>.eml.
type capture struct {
	dir  string
	last atomic.Int64
}

// openCapture creates dir if needed, removes temporary files a crash left
// behind and continues numbering after the highest <n>.eml.
func openCapture(dir string) (*capture, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating capture directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading capture directory: %w", err)
	}
	c := &capture{dir: dir}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(name, ".eml"), 10, 64)
		if err == nil && strings.HasSuffix(name, ".eml") && n > c.last.Load() {
			c.last.Store(n)
		}
	}
	return c, nil
}

// write stores one message with the lines a delivering MTA prepends: the
// envelope sender as Return-Path (RFC 5321 §4.4) and one Delivered-To per
// envelope recipient. It writes a temporary file and renames it, so a
// reader never sees half a message.
func (c *capture) write(from string, rcpts []string, data []byte) error {
	var b bytes.Buffer
	b.Grow(len(data) + 64*(len(rcpts)+1))
	b.WriteString("Return-Path: <" + oneLine(from) + ">\r\n")
	for _, r := range rcpts {
		b.WriteString("Delivered-To: " + oneLine(r) + "\r\n")
	}
	b.Write(data)
	n := c.last.Add(1)
	final := filepath.Join(c.dir, strconv.FormatInt(n, 10)+".eml")
	tmp := filepath.Join(c.dir, "."+strconv.FormatInt(n, 10)+".eml.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return nil
}
