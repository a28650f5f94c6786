// Package apiclient is the small client of kawaraban's JSON API that the
// measuring programs (sendbench, loadsubscribe) share: a bearer token from
// `kawaraban token create`, JSON in and out.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client calls the API at Base (e.g. http://127.0.0.1:8080) as Token.
type Client struct {
	Base, Token string
}

// TokenFrom picks the token out of `kawaraban token create`'s output: its
// longest word.
func TokenFrom(out string) string {
	var tok string
	for _, f := range strings.Fields(out) {
		if len(f) > len(tok) {
			tok = f
		}
	}
	return tok
}

// Do sends body (nil for none) as JSON and decodes the answer into into
// (nil to drop it); a status of 300 or more is an error with the body.
func (c Client) Do(ctx context.Context, method, path string, body, into any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if into != nil {
		return json.Unmarshal(b, into)
	}
	return nil
}
