package web

// auditCatalog names the audit log actions that the general catalogue
// did not: the admin's audit page shows every action in the reader's
// language, never the code the handler wrote. tr looks here after catalog.
var auditCatalog = map[string][2]string{
	"audit.password.failed":              {"パスワードの誤り(アカウント画面)", "wrong password (account page)"},
	"audit.password.throttled":           {"パスワード確認の制限", "password checks throttled"},
	"audit.bounce.verify":                {"未確認のエラー報告の適用", "unverified bounce applied"},
	"audit.bounce.not-a-bounce":          {"エラーではないと判定", "marked not a bounce"},
	"audit.list.create":                  {"配信リストの作成", "list created"},
	"audit.list.update":                  {"配信リストの変更", "list changed"},
	"audit.list.release":                 {"配信リストの項目の公開", "list fields released"},
	"audit.list.close":                   {"配信リストの終了", "list closed"},
	"audit.list.reopen":                  {"配信リストの再開", "list reopened"},
	"audit.progress.report":              {"進捗報告の保存", "progress report saved"},
	"audit.progress.publish":             {"進捗報告の公開", "progress published"},
	"audit.subscribers.bulk.unsubscribe": {"読者の一括配信停止", "bulk unsubscribe"},
	"audit.subscribers.bulk.suppress":    {"読者の一括送信停止", "bulk suppress"},
	"audit.subscribers.bulk.erase":       {"読者の個人情報の一括消去", "bulk erase"},
	"audit.subscribers.bulk.export":      {"読者の一括書き出し", "bulk export"},
}
