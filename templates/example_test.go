package templates_test

import (
	"fmt"
	"strings"
	"time"

	"kawaraban/templates"
)

func Example() {
	set, err := templates.New(templates.Options{}) // Dir: overrides
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := set.Prepare(templates.IssueInput{
		List: templates.ListInfo{Slug: "kankyo", NameJA: "環境センターだより", FromName: "京都市環境センター",
			PostalAddress: "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488", Contact: "075-000-0000",
			NameFallback: "読者"},
		IssueID: 1, Number: 1, Subject: "12月号", Markdown: "{{ .Name }}様\n\n[会場](https://example.jp/map)のご案内です。",
		Date: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Render is cheap: call it once per recipient.
	parts, err := p.Render(templates.Recipient{Name: "", Email: "a@example.jp",
		UnsubscribeURL: "https://example.jp/unsubscribe/T", PreferencesURL: "https://example.jp/preferences/T"})
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _, _ := strings.Cut(parts.Text, "━━━━━━━━━━━━━━━━━\n発行")
	fmt.Println(parts.Subject)
	fmt.Println(body)
	// Output:
	// 12月号
	// 環境センターだより　第1号　2026年12月1日
	// ━━━━━━━━━━━━━━━━━
	//
	// 読者様
	//
	// 会場[1]のご案内です。
	//
	// [1] https://example.jp/map
}

func ExampleSet_Check() {
	set, _ := templates.New(templates.Options{})
	err := set.Check("system/welcome.ja.txt.tmpl", "{{define \"subject\"}}ようこそ{{end}}\n{{ .Nmae }}\n")
	fmt.Println(err)
	// Output:
	// system/welcome.ja.txt.tmpl:2:3: executing "system/welcome.ja.txt.tmpl" at <.Nmae>: can't evaluate field Nmae in type templates.SystemData
}
