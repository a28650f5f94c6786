package cli

import "runtime/debug"

// Version reports the program's module version and the VCS revision the
// Go toolchain recorded at build time: "NAME VERSION [REVISION[+dirty]]
// [TIME] GOVERSION".
func Version(name string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (no build info)"
	}
	return version(name, bi)
}

func version(name string, bi *debug.BuildInfo) string {
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
	out := name + " " + v
	if rev != "" {
		out += " " + rev + dirty
	}
	if at != "" {
		out += " " + at
	}
	return out + " " + bi.GoVersion
}
