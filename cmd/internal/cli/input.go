package cli

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
)

// SplitList splits a comma-separated flag value ("a, b,,c") into its
// non-empty, trimmed items.
func SplitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ReadLine reads the first line of r (a password on stdin) without its
// line ending; input that ends without one is the line.
func ReadLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// ReadInput reads the file a command names, or stdin, up to stdinLimit
// bytes, when the name is "-".
func ReadInput(name string, stdin io.Reader, stdinLimit int64) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, stdinLimit))
	}
	return os.ReadFile(name)
}
