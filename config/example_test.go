package config_test

import (
	"errors"
	"fmt"
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
