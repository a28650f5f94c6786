package web

import (
	"fmt"
	"strings"

	"kawaraban/mailer"
)

// jisChar is one character of a draft that ISO-2022-JP cannot carry, as
// the compose page and the preview JSON show it. One of them sends the
// recipient's copy as UTF-8 (docs/ENCODINGS.md), so the editor is told
// where it is and what to write instead.
type jisChar struct {
	Char       string `json:"char"`
	Code       string `json:"code"`       // U+2460
	Substitute string `json:"substitute"` // "" when there is none
	Where      string `json:"where"`      // subject | body
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	Count      int    `json:"count"`
}

// nonJIS names the characters of subject and body outside JIS X 0208 when
// l is sent as ISO-2022-JP; nil for a UTF-8 list.
func nonJIS(l List, subject, body string) []jisChar {
	if !strings.EqualFold(l.Encoding, "iso-2022-jp") {
		return nil
	}
	var out []jisChar
	for _, part := range []struct{ where, s string }{{"subject", subject}, {"body", body}} {
		for _, p := range mailer.CheckJISX0208(part.s) {
			out = append(out, jisChar{Char: string(p.Char), Code: p.Name(), Substitute: p.Substitute,
				Where: part.where, Line: p.Line, Column: p.Column, Count: p.Count})
		}
	}
	return out
}

// JISLine says where one character is and what to use instead, in the
// page's language: 「本文 3行目 ①(U+2460) → (1)」.
func (v *view) JISLine(c jisChar) string {
	where := v.T("jis." + c.Where)
	if c.Where == "body" {
		where += " " + fmt.Sprintf(v.T("jis.line"), c.Line)
	}
	s := where + ": " + c.Char + " (" + c.Code + ")"
	if c.Count > 1 {
		s += " " + fmt.Sprintf(v.T("jis.count"), c.Count)
	}
	if c.Substitute != "" {
		return s + " → " + fmt.Sprintf(v.T("jis.use"), c.Substitute)
	}
	return s + " → " + v.T("jis.nosubstitute")
}

// jisJSON is the preview's "non_jis" member: each character with where it
// is, its substitute, and the same in words in both languages.
func jisJSON(cs []jisChar) []map[string]any {
	ja, en := &view{Lang: "ja"}, &view{Lang: "en"}
	out := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, map[string]any{"char": c.Char, "code": c.Code, "substitute": c.Substitute,
			"where": c.Where, "line": c.Line, "column": c.Column, "count": c.Count,
			"message": en.JISLine(c), "message_ja": ja.JISLine(c)})
	}
	return out
}
