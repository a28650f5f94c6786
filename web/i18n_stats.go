package web

// statsCatalog holds the words of the issue statistics, the dashboard's
// figures and the import's "import these" step (issue 17), Japanese
// first. tr looks here after catalog.
var statsCatalog = map[string][2]string{
	"stats.title":       {"配信の結果", "Results"},
	"stats.delivered":   {"配信", "Delivered"},
	"stats.bounced":     {"エラー", "Bounced"},
	"stats.unsub7":      {"停止", "Left"},
	"stats.unsub7.long": {"7日以内の配信停止", "Unsubscribed within 7 days"},
	"stats.unsub7.note": {"配信停止は、この号を受け取ってから7日以内に、次の号が届く前に停止した人の数です。一人の停止は一つの号にだけ数えます。",
		"Unsubscribed counts the readers who left within 7 days of getting this issue, before the next one reached them. Each is counted under one issue only."},
	"stats.final":      {"集計は確定しています。", "These figures are final."},
	"stats.counting":   {"集計中です(配信から7日間は増えることがあります)。", "Still counting (the figure may grow for 7 days after sending)."},
	"stats.noopens":    {"開封は計測していません。", "Opens are not tracked."},
	"stats.clicks":     {"リンクごとのクリック数", "Clicks per link"},
	"stats.link":       {"リンク先", "Link"},
	"stats.clickcount": {"クリック数", "Clicks"},
	"stats.noclicks":   {"まだクリックはありません。", "No clicks yet."},
	"stats.clicksoff":  {"このメールマガジンはクリック数を数えていません(メールマガジンの設定で変更できます)。", "This list does not count clicks (a list setting)."},

	"import.checked":      {"確認の結果(まだ取り込んでいません)", "Checked (nothing imported yet)"},
	"import.wouldadd":     {"追加される人数", "Would add"},
	"import.rejects":      {"取り込まない行(行番号は見出し行を1行目として数えています)", "Rows not imported (line numbers count the header as line 1)"},
	"import.rejects.more": {"最初の1,000行だけを表示しています。", "Only the first 1,000 rows are listed."},
	"import.these":        {"この内容で取り込む", "Import these"},
	"import.these.help":   {"確認したファイルをそのまま取り込みます。ファイルを選び直す必要はありません。上の表の行は取り込まれません。確認結果は1時間有効です。", "Imports the file just checked, without choosing it again. The rows listed above are left out. The check stays valid for an hour."},
	"import.these.none":   {"確認したファイルを保存できませんでした。取り込むには、ファイルをもう一度選んでください。", "The checked file could not be kept; choose it again to import."},
}
