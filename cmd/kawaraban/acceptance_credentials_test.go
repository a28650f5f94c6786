package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The daemon as deploy/kawaraban.service runs it: every secret is a file
// in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=), named by the
// config's *_file keys, and nothing comes from the environment.
func TestAcceptanceSecretsFromSystemdCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	os.Mkdir(creds, 0o700)
	key := make([]byte, 32)
	rand.Read(key)
	os.WriteFile(filepath.Join(creds, "token.key"), []byte(hex.EncodeToString(key)+"\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "smtp.password"), []byte("smtp-secret\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "imap.password"), []byte("imap-secret\n"), 0o600)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	os.WriteFile(filepath.Join(creds, "dkim.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)

	listen := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfgText := exampleWith(t, "", "")
	for _, r := range []struct{ old, new string }{
		{"  listen: 127.0.0.1:8080\n", "  listen: " + listen + "\n"},
		{"  path: /var/lib/kawaraban/kawaraban.db\n", "  path: " + filepath.Join(dir, "k.db") + "\n"},
		{"  token_key_env: KAWARABAN_TOKEN_KEY\n", "  token_key_file: ${CREDENTIALS_DIRECTORY}/token.key\n"},
		{"  password_env: KAWARABAN_SMTP_PASSWORD\n", "  password_file: ${CREDENTIALS_DIRECTORY}/smtp.password\n"},
		{"  password_env: KAWARABAN_IMAP_PASSWORD\n", "  password_file: $CREDENTIALS_DIRECTORY/imap.password\n"},
		{"  domain: \"\"\n  selector: \"\"\n", "  domain: city.example.jp\n  selector: k2026\n"},
		{"  key_file: \"\"\n", "  key_file: ${CREDENTIALS_DIRECTORY}/dkim.key\n"},
	} {
		if !strings.Contains(cfgText, r.old) {
			t.Fatalf("config.example.yaml has no %q to change", r.old)
		}
		cfgText = strings.Replace(cfgText, r.old, r.new, 1)
	}
	cfg := filepath.Join(dir, "kawaraban.yaml")
	os.WriteFile(cfg, []byte(cfgText), 0o600)

	// Outside systemd the credentials directory is unknown: serve says so.
	cmd := exec.Command(kawarabanBinary(t), "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "KAWARABAN_CONFIG=", "CREDENTIALS_DIRECTORY=", "KAWARABAN_TOKEN_KEY=")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); err == nil || code != 2 || !strings.Contains(string(out), "LoadCredential") {
		t.Fatalf("serve without CREDENTIALS_DIRECTORY: exit %d, want 2 naming LoadCredential:\n%s", code, out)
	}

	d := startConfigDaemon(t, cfg, listen, []string{"CREDENTIALS_DIRECTORY=" + creds, "KAWARABAN_TOKEN_KEY="})
	if code, _ := d.stop(t); code != 0 {
		t.Fatalf("daemon exit %d:\n%s", code, d.out.String())
	}
	for _, bad := range []string{"secret unavailable", "dkim key unreadable"} {
		if strings.Contains(d.out.String(), bad) {
			t.Errorf("daemon log says %q: a credential was not read\n%s", bad, d.out.String())
		}
	}
}
