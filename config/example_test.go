package config_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"kawaraban/config"
)

// Parse reports every problem at once, each naming its key.
func ExampleParse() {
	_, err := config.Parse(strings.NewReader("base_url: mail.city.example.jp\nsmtp:\n  port: 0\n  prot: 25\n"))
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		for _, p := range j.Unwrap()[:4] {
			fmt.Println(p)
		}
	}
	// Output:
	// smtp.prot: unknown key (line 4)
	// base_url: must be an absolute http(s) URL, got "mail.city.example.jp"
	// database.path: is required
	// secrets: set token_key_env or token_key_file (the HMAC key for links, 32+ bytes)
}

// Without a config file a command runs in local mode: Open makes the data
// directory and its link key, and the command then opens the database at
// DatabasePath.
func ExampleSource_Open() {
	dir, _ := os.MkdirTemp("", "kawaraban-data")
	defer os.RemoveAll(dir)
	src := config.Source{DataDir: dir}
	if err := src.RequireDatabase(); err != nil {
		fmt.Println("no database yet: only serve creates one")
	}
	cfg, key, err := src.Open("")
	if err != nil {
		fmt.Println(err)
		return
	}
	path, _ := src.DatabasePath()
	fmt.Println(cfg.IsLocal(), cfg.BaseURL, len(key), path == cfg.Database.Path)
	// Output:
	// no database yet: only serve creates one
	// true http://127.0.0.1:8080 32 true
}
