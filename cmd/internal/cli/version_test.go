package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"devel, no VCS", debug.BuildInfo{GoVersion: "go1.26"}, "kawaraban (devel) go1.26"},
		{"clean checkout", debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-05T00:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			"kawaraban v1.2.0 abc123 2026-12-05T00:00:00Z go1.26"},
		{"dirty", debug.BuildInfo{GoVersion: "go1.26",
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"kawaraban (devel) abc123+dirty go1.26"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := version("kawaraban", &c.bi); got != c.want {
				t.Errorf("version = %q, want %q", got, c.want)
			}
		})
	}
	if got := Version("kawaraban"); !strings.HasPrefix(got, "kawaraban ") {
		t.Errorf("Version = %q", got)
	}
}
