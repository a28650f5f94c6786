package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// versionString reports the module version and VCS revision recorded by the
// Go toolchain at build time.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "kawaraban (no build info)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	out := "kawaraban " + v
	if rev != "" {
		out += " " + rev + dirty
	}
	if at != "" {
		out += " " + at
	}
	return out + " " + bi.GoVersion
}

func cmdVersion(stdout io.Writer) error {
	fmt.Fprintln(stdout, versionString())
	return nil
}
