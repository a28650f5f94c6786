package mailer

import (
	"strconv"
	"strings"
)

const msgIDPurpose = "message-id"

// deliveryMessageID returns the Message-ID of a delivery:
// kawaraban.<issue>.<delivery>.<tag>@domain, where tag signs the two ids.
// It is stable per delivery, so a copy sent twice after a crash carries the
// same Message-ID and mail clients show it once. The tag makes it
// unguessable: a bounce that returns it proves it saw our message to that
// recipient, which bounces relies on (issue 15). Without a Signer the tag
// is left out (tests).
func (m *Mailer) deliveryMessageID(issueID, id int64, domain string) string {
	local := "kawaraban." + strconv.FormatInt(issueID, 10) + "." + strconv.FormatInt(id, 10)
	if m.opt.Signer != nil {
		local += "." + m.opt.Signer.Tag(msgIDPurpose, []byte(local))
	}
	return local + "@" + domainOr(domain)
}

// parseDeliveryMessageID reads the ids of a Message-ID made by
// deliveryMessageID. ours is true for any kawaraban.… Message-ID; ok only
// when its tag is right (or there is no Signer and no tag), so the
// unsigned, guessable form of earlier versions names no delivery.
func (m *Mailer) parseDeliveryMessageID(msgID string) (issueID, id int64, ours, ok bool) {
	local, _, found := strings.Cut(msgID, "@")
	rest, isOurs := strings.CutPrefix(local, "kawaraban.")
	if !found || !isOurs {
		return 0, 0, false, false
	}
	f := strings.Split(rest, ".")
	want := 3
	if m.opt.Signer == nil {
		want = 2
	}
	if len(f) != want {
		return 0, 0, true, false
	}
	issueID, err1 := strconv.ParseInt(f[0], 10, 64)
	id, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || issueID <= 0 || id <= 0 {
		return 0, 0, true, false
	}
	if m.opt.Signer != nil && !m.opt.Signer.CheckTag(msgIDPurpose, []byte("kawaraban."+f[0]+"."+f[1]), f[2]) {
		return 0, 0, true, false
	}
	return issueID, id, true, true
}
