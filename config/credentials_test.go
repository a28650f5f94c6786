package config

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// Every secret the config names by environment variable can also come
// from a file, so that systemd's LoadCredential= can supply all of them
// (deploy/kawaraban.service).
func TestEverySecretHasAFileKey(t *testing.T) {
	t.Parallel()
	var secrets []string
	var walk func(tp reflect.Type, prefix string)
	walk = func(tp reflect.Type, prefix string) {
		for tp.Kind() == reflect.Slice || tp.Kind() == reflect.Map || tp.Kind() == reflect.Pointer {
			tp = tp.Elem()
		}
		if tp.Kind() != reflect.Struct {
			return
		}
		tags := map[string]bool{}
		for i := range tp.NumField() {
			tags[strings.Split(tp.Field(i).Tag.Get("yaml"), ",")[0]] = true
		}
		for i := range tp.NumField() {
			f := tp.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name, ok := strings.CutSuffix(tag, "_env"); ok {
				secrets = append(secrets, prefix+name)
				if !tags[name+"_file"] {
					t.Errorf("%s%s has no %s_file key: it cannot come from a systemd credential", prefix, tag, name)
				}
			}
			walk(f.Type, prefix+tag+".")
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	sort.Strings(secrets)
	want := []string{"http.metrics_token", "imap.password", "secrets.token_key", "smtp.password", "smtp.relays.password"}
	if !reflect.DeepEqual(secrets, want) {
		t.Errorf("secrets found %v, want %v (a new secret needs a _file key and a LoadCredential line)", secrets, want)
	}
}

func TestCredentialPath(t *testing.T) {
	t.Parallel()
	set := func(string) (string, bool) { return "/run/credentials/kawaraban.service", true }
	unset := func(string) (string, bool) { return "", false }
	cases := []struct {
		name, path string
		lookup     func(string) (string, bool)
		want       string
		wantErr    string
	}{
		{"braces", "${CREDENTIALS_DIRECTORY}/smtp.password", set, "/run/credentials/kawaraban.service/smtp.password", ""},
		{"bare", "$CREDENTIALS_DIRECTORY/token.key", set, "/run/credentials/kawaraban.service/token.key", ""},
		{"plain path", "/etc/kawaraban/smtp.password", unset, "/etc/kawaraban/smtp.password", ""},
		{"other variables stay", "/etc/$HOME/x", set, "/etc/$HOME/x", ""},
		{"not under systemd", "${CREDENTIALS_DIRECTORY}/imap.password", unset, "", "LoadCredential"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := credentialPath(c.path, c.lookup)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), c.path) {
					t.Fatalf("err = %v, want one naming %s and saying %q", err, c.path, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("credentialPath(%q) = %q, %v; want %q", c.path, got, err, c.want)
			}
		})
	}
}

// The daemon reads its secrets from the files systemd puts in
// $CREDENTIALS_DIRECTORY (not parallel: it sets the variable).
func TestSecretsFromCredentialsDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "smtp.password"), []byte("s3cret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "dkim.key"), []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	got, err := Secret("", "${CREDENTIALS_DIRECTORY}/smtp.password")
	if err != nil || got != "s3cret" {
		t.Errorf("secret = %q, %v; want s3cret", got, err)
	}
	// The environment variable wins when both are set.
	t.Setenv("KAWARABAN_TEST_SMTP", "from-env")
	if got, _ := Secret("KAWARABAN_TEST_SMTP", "${CREDENTIALS_DIRECTORY}/smtp.password"); got != "from-env" {
		t.Errorf("secret = %q, want the environment's", got)
	}
	if b, err := ReadCredential("$CREDENTIALS_DIRECTORY/dkim.key"); err != nil || !strings.HasPrefix(string(b), "-----BEGIN") {
		t.Errorf("dkim key: %q, %v", b, err)
	}
	if _, err := Secret("", "${CREDENTIALS_DIRECTORY}/missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing credential: err = %v, want one naming the file", err)
	}
}
