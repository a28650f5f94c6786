package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// cmdCheckConfig validates a config file and prints one problem per line.
func cmdCheckConfig(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return badUsage("check-config takes one FILE")
	}
	_, err := LoadConfig(args[0])
	if err == nil {
		fmt.Fprintf(stdout, "%s: ok\n", args[0])
		return nil
	}
	return usageError{fmt.Errorf("%s:\n%s", args[0], problemLines(err))}
}

// problemLines renders joined validation errors one per line.
func problemLines(err error) string {
	var lines []string
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		for _, e := range j.Unwrap() {
			lines = append(lines, "  "+e.Error())
		}
	} else {
		lines = append(lines, "  "+err.Error())
	}
	return strings.Join(lines, "\n")
}
