package config

import (
	"fmt"
	"os"
	"strings"
)

// credentialsVar is the variable systemd sets for a unit with
// LoadCredential=: the directory holding that unit's secrets
// (deploy/kawaraban.service).
const credentialsVar = "CREDENTIALS_DIRECTORY"

// credentialPath expands $CREDENTIALS_DIRECTORY or ${CREDENTIALS_DIRECTORY}
// in a *_file key's path, so that the config can name systemd credentials
// without knowing where systemd puts them. Other text is left as written.
func credentialPath(path string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(path, "$"+credentialsVar) && !strings.Contains(path, "${"+credentialsVar+"}") {
		return path, nil
	}
	dir, ok := lookup(credentialsVar)
	if !ok || dir == "" {
		return "", fmt.Errorf("%s names $%s, which is not set: run under systemd with LoadCredential= (deploy/kawaraban.service), or give the file's own path", path, credentialsVar)
	}
	path = strings.ReplaceAll(path, "${"+credentialsVar+"}", dir)
	return strings.ReplaceAll(path, "$"+credentialsVar, dir), nil
}

// ReadCredential reads a *_file secret such as dkim.key_file, expanding
// $CREDENTIALS_DIRECTORY.
func ReadCredential(path string) ([]byte, error) {
	p, err := credentialPath(path, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
