package web

// jointCatalog holds the words of joint issues, duplicating an issue and
// the compose page's one send-time control (issue 17), Japanese first.
// tr looks here after catalog.
var jointCatalog = map[string][2]string{
	"joint.lists":     {"配信先", "Lists"},
	"joint.lead":      {"差出人となるメールマガジン", "Sending list (its sender identity signs the mail)"},
	"joint.also":      {"共同で配信するメールマガジン", "Also send to (a joint issue)"},
	"joint.alsohelp":  {"複数のメールマガジンに登録している方にも、お届けは1通です。配信停止のリンクは、その方が登録しているうち最初のメールマガジンのものになります。", "A reader on several of these lists gets one copy, with the unsubscribe link of the first of them they are on."},
	"joint.badge":     {"共同発行", "Joint issue"},
	"joint.sendhelp":  {"日時を入れて「下書きを保存」すると予定として残り、「この日時に予約」で配信を予約します。過去の日時は予約できません。", "Save draft keeps this time with the draft; Schedule at this time schedules the issue for it. A time in the past is refused."},
	"joint.schedule":  {"この日時に予約", "Schedule at this time"},
	"joint.duplicate": {"複製して新しい下書きを作る", "Duplicate as a new draft"},
	"joint.duphelp":   {"件名・本文・配信先を引き継ぎます。号数・配信日時・承認は引き継ぎません。", "Keeps subject, body and lists; not the number, the send time or the approval."},
	"joint.dupof":     {"#%s を複製", "copy of #%s"},

	"done.duplicate": {"複製して新しい下書きを作りました。", "Duplicated into this new draft."},
}
