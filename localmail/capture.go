package localmail

import (
	"bytes"
	"errors"
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

// openCapture creates dir if needed and continues numbering after the
// highest <n>.eml.
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
		n, err := strconv.ParseInt(strings.TrimSuffix(name, ".eml"), 10, 64)
		if err == nil && strings.HasSuffix(name, ".eml") && n > c.last.Load() {
			c.last.Store(n)
		}
	}
	return c, nil
}

// write stores one message with the lines a delivering MTA prepends: the
// envelope sender as Return-Path (RFC 5321 §4.4) and one Delivered-To per
// envelope recipient. It writes a temporary file and links it into place,
// so a reader never sees half a message.
func (c *capture) write(from string, rcpts []string, data []byte) error {
	var b bytes.Buffer
	b.Grow(len(data) + 64*(len(rcpts)+1))
	b.WriteString("Return-Path: <" + oneLine(from) + ">\r\n")
	for _, r := range rcpts {
		b.WriteString("Delivered-To: " + oneLine(r) + "\r\n")
	}
	b.Write(data)
	tmp, err := os.CreateTemp(c.dir, ".capture-*.tmp")
	if err != nil {
		return fmt.Errorf("writing to %s: %w", c.dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	// Link, unlike rename, never replaces an existing file: a command run
	// with --data beside a running daemon captures into the same directory,
	// and whoever loses the race for a number takes the next one.
	for {
		n := c.last.Add(1)
		final := filepath.Join(c.dir, strconv.FormatInt(n, 10)+".eml")
		err := os.Link(tmp.Name(), final)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("storing %s: %w", final, err)
		}
	}
	return nil
}
