package mailer

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"
)

// dkimSigner signs built messages (RFC 6376) with go-msgauth. go-mail's own
// signer was tried first; its signatures did not verify with go-msgauth's
// verifier in our tests (go-mail v0.8.1), so only its key parsing is used.
type dkimSigner struct {
	opts dkim.SignOptions
}

// signedHeaders are covered by the signature (RFC 6376 §5.4.1), including
// the List-Unsubscribe pair (RFC 8058 §4 asks for it) and the CFBL headers
// (RFC 9477 §3.2 requires them signed).
var signedHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
	"Content-Type", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
	"CFBL-Address", "CFBL-Feedback-ID", "Auto-Submitted"}

func newDKIMSigner(d *DKIM) (*dkimSigner, error) {
	if d.Domain == "" || d.Selector == "" {
		return nil, errors.New("dkim: domain and selector are required")
	}
	key, err := gomail.PrivKeyFromPEM(d.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("dkim: reading key: %w", err)
	}
	if r, ok := key.(*rsa.PrivateKey); ok && r.N.BitLen() < 2048 {
		return nil, fmt.Errorf("dkim: RSA key of %d bits is too short (need 2048)", r.N.BitLen())
	}
	return &dkimSigner{opts: dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedHeaders,
	}}, nil
}

// sign prepends a DKIM-Signature field to the message in buf.
func (s *dkimSigner) sign(buf *bytes.Buffer) error {
	opts := s.opts
	sg, err := dkim.NewSigner(&opts)
	if err != nil {
		return fmt.Errorf("dkim: %w", err)
	}
	if _, err := sg.Write(buf.Bytes()); err != nil {
		sg.Close()
		return fmt.Errorf("dkim: %w", err)
	}
	if err := sg.Close(); err != nil {
		return fmt.Errorf("dkim: %w", err)
	}
	sig := sg.Signature()
	msg := append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	buf.WriteString(sig)
	buf.Write(msg)
	return nil
}
