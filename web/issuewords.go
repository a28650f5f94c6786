package web

import (
	"regexp"
	"strings"
)

// issueProblemsJA words the problems issues.Draft.Validate and the state
// rules report ("subject is empty; body is larger than 1048576 bytes") in
// Japanese for the compose form; a problem it does not know stays as it is.
func issueProblemsJA(msg string) string {
	msg = strings.TrimSuffix(msg, ": invalid issue")
	var out []string
	for _, p := range strings.Split(msg, "; ") {
		out = append(out, issueProblemJA(p))
	}
	return strings.Join(out, "。") + "。"
}

var (
	longerRe = regexp.MustCompile(`subject is longer than (\d+) characters`)
	largerRe = regexp.MustCompile(`body is larger than (\d+) bytes`)
)

func issueProblemJA(p string) string {
	switch {
	case strings.HasSuffix(p, "subject is empty"):
		return "件名を入力してください"
	case strings.HasSuffix(p, "subject contains a line break"):
		return "件名に改行は使えません"
	case strings.HasSuffix(p, "subject is not valid UTF-8"):
		return "件名に読み取れない文字があります"
	case strings.HasSuffix(p, "body is not valid UTF-8"):
		return "本文に読み取れない文字があります"
	case strings.HasSuffix(p, "list is missing"):
		return "メールマガジンを選んでください"
	case strings.HasSuffix(p, "a comment is required"):
		return "差し戻しの理由をコメントに書いてください"
	case longerRe.MatchString(p):
		return "件名は" + longerRe.FindStringSubmatch(p)[1] + "文字以内にしてください"
	case largerRe.MatchString(p):
		return "本文が長すぎます(" + largerRe.FindStringSubmatch(p)[1] + "バイトまで)"
	}
	return p
}
