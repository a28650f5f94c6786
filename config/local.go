package config

import (
	"path/filepath"
	"time"

	"kawaraban/localmail"
)

// localCenters are the eight sector centers of the plan's chapter 5
// (../shared/seed/plan-chapter5.yaml) whose magazines exist from the start
// in local mode, plus the internal newsletter.
var localCenters = []struct{ slug, ja, en string }{
	{"shimin-katsudo", "市民活動総合センター", "Citizens' Activity General Center"},
	{"kankyo-hozen", "環境保全活動センター", "Environmental Conservation Activity Center"},
	{"choju-sukoyaka", "長寿すこやかセンター", "Longevity and Health Center"},
	{"fukushi-volunteer", "福祉ボランティアセンター", "Welfare Volunteer Center"},
	{"keikan-machizukuri", "景観・まちづくりセンター", "Landscape and Town Planning Center"},
	{"seishonen-katsudo", "青少年活動センター", "Youth Activity Center"},
	{"kokusai-koryu", "国際交流会館", "International Exchange Hall"},
	{"kodomo-mirai", "こどもみらい館", "Children's Future Hall"},
}

// LocalListen is where local mode serves when no address is given.
const LocalListen = "127.0.0.1:8080"

// Local is the configuration of local mode: everything on this
// machine, mail captured in DIR/captured. The SMTP and IMAP ports are filled
// in when the in-process servers have started.
func Local(dir, listen string) *Config {
	if listen == "" {
		listen = LocalListen
	}
	off := false
	c := &Config{
		HTTP:     HTTPConfig{Listen: listen, SecureCookies: &off},
		BaseURL:  "http://" + listen,
		Database: DatabaseConfig{Path: filepath.Join(dir, databaseFile)},
		SMTP:     SMTPConfig{Host: "127.0.0.1", Port: 1, TLS: "none"},
		IMAP: IMAPConfig{Host: "127.0.0.1", Port: 1, TLS: "none", Username: localmail.Mailbox,
			Mailbox: "INBOX", PollInterval: Duration(2 * time.Second)},
		Bounce:  BounceConfig{ReturnPathDomain: "bounces.localhost"},
		DataDir: dir,
	}
	for _, lc := range localCenters {
		c.Lists = append(c.Lists, ListConfig{
			Slug: lc.slug, NameJA: lc.ja + " メールマガジン", NameEN: lc.en + " newsletter", Kind: "public",
			FromAddress:   lc.slug + "@city.example.jp",
			FromName:      "京都市" + lc.ja,
			PostalAddress: "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488(ローカルモードの見本)",
			Contact:       lc.slug + "@city.example.jp",
			DescriptionJA: lc.ja + "の講座・イベント・募集のお知らせをお届けします。",
			DescriptionEN: "Courses, events and calls from the " + lc.en + ".",
		})
	}
	c.Lists = append(c.Lists, ListConfig{
		Slug: "chonai", NameJA: "市民参加に関する庁内情報誌", NameEN: "Internal newsletter on citizen participation",
		Kind: "internal", FromAddress: "kikaku@city.example.jp", FromName: "京都市総合企画局",
		PostalAddress: "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488", Contact: "kikaku@city.example.jp",
	})
	c.applyDefaults()
	return c
}
