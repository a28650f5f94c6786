// Package config is the daemon's YAML configuration: its types, defaults,
// strict decoding, validation (every problem at once, each naming its key),
// the trust checks, local mode's built-in configuration and its files in
// the data directory (Source: which configuration a command runs with,
// and the link key), secrets read from the environment or files, the
// masked view the settings page shows, and each section mapped to its
// package's Options (options.go). It leaves to each package what its
// values mean, and to cmd/kawaraban opening the database and adding the
// running values (signer, logger, the parts a package calls).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"kawaraban/newsletter"
)

// Config is the daemon's YAML configuration. config.example.yaml documents
// every key; TestExampleConfigIsValid keeps the two in step. Each section
// is mapped to its package's Options in options.go: no other package sees
// this struct.
type Config struct {
	HTTP      HTTPConfig      `yaml:"http"`
	BaseURL   string          `yaml:"base_url"`
	Timezone  string          `yaml:"timezone"`
	Log       LogConfig       `yaml:"log"`
	Database  DatabaseConfig  `yaml:"database"`
	Secrets   SecretsConfig   `yaml:"secrets"`
	SMTP      SMTPConfig      `yaml:"smtp"`
	Sending   SendingConfig   `yaml:"sending"`
	DKIM      DKIMConfig      `yaml:"dkim"`
	IMAP      IMAPConfig      `yaml:"imap"`
	Bounce    BounceConfig    `yaml:"bounce"`
	Subscribe SubscribeConfig `yaml:"subscribe"`
	Templates TemplatesConfig `yaml:"templates"`
	Privacy   PrivacyConfig   `yaml:"privacy"`
	Lists     []ListConfig    `yaml:"lists"`
	// DataDir is local mode's data directory (Local); empty for a config
	// file. No YAML key sets it.
	DataDir string `yaml:"-"`
}

// HTTPConfig is the web server section.
type HTTPConfig struct {
	Listen        string `yaml:"listen"`
	MaxBodyBytes  int64  `yaml:"max_body_bytes"`
	SecureCookies *bool  `yaml:"secure_cookies"`
	// TrustForwardedFor takes the client address from X-Forwarded-For;
	// set it only behind a reverse proxy that sets that header.
	TrustForwardedFor bool `yaml:"trust_forwarded_for"`
	// MetricsTokenEnv or MetricsTokenFile hold the bearer token /metrics
	// asks for; without one, /metrics answers only loopback clients that
	// did not come through a proxy.
	MetricsTokenEnv  string `yaml:"metrics_token_env"`
	MetricsTokenFile string `yaml:"metrics_token_file"`
}

// LogConfig chooses the log handler.
type LogConfig struct {
	Format string `yaml:"format"` // auto|text|json
	Level  string `yaml:"level"`  // debug|info|warn|error
}

// DatabaseConfig locates the SQLite file.
type DatabaseConfig struct {
	Path string `yaml:"path"`
}

// SecretsConfig says where the HMAC key for links comes from.
type SecretsConfig struct {
	TokenKeyEnv  string `yaml:"token_key_env"`
	TokenKeyFile string `yaml:"token_key_file"`
}

// SMTPConfig is the primary relay; Relays adds fail-over relays.
type SMTPConfig struct {
	Host               string        `yaml:"host"`
	Port               int           `yaml:"port"`
	TLS                string        `yaml:"tls"`
	Username           string        `yaml:"username"`
	PasswordEnv        string        `yaml:"password_env"`
	PasswordFile       string        `yaml:"password_file"`
	HeloName           string        `yaml:"helo_name"`
	Timeout            Duration      `yaml:"timeout"`
	MaxConns           int           `yaml:"max_conns"`
	MaxMessagesPerConn int           `yaml:"max_messages_per_conn"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
	Relays             []RelayConfig `yaml:"relays"`
}

// RelayConfig is one extra relay, tried by priority when the primary fails.
type RelayConfig struct {
	Host               string `yaml:"host"`
	Port               int    `yaml:"port"`
	TLS                string `yaml:"tls"`
	Username           string `yaml:"username"`
	PasswordEnv        string `yaml:"password_env"`
	PasswordFile       string `yaml:"password_file"`
	Priority           int    `yaml:"priority"`
	MaxConns           int    `yaml:"max_conns"`
	MaxMessagesPerConn int    `yaml:"max_messages_per_conn"`
}

// SendingConfig tunes the outbox and its rate limits.
type SendingConfig struct {
	Workers        int                          `yaml:"workers"`
	BatchSize      int                          `yaml:"batch_size"`
	RatePerSecond  float64                      `yaml:"rate_per_second"`
	MaxRetryAge    Duration                     `yaml:"max_retry_age"`
	DomainLimits   map[string]DomainLimitConfig `yaml:"domain_limits"`
	Window         WindowConfig                 `yaml:"window"`
	CFBLAddress    string                       `yaml:"cfbl_address"`
	TestRecipients []string                     `yaml:"test_recipients"`
	// TestSendsPerHour limits each user's test sends (default
	// newsletter.DefaultTestSendsPerHour).
	TestSendsPerHour int `yaml:"test_sends_per_hour"`
}

// DomainLimitConfig overrides the per-recipient-domain limits.
type DomainLimitConfig struct {
	PerMinute      int `yaml:"per_minute"`
	Concurrency    int `yaml:"concurrency"`
	MaxRcptPerConn int `yaml:"max_rcpt_per_conn"`
}

// WindowConfig holds mail outside allowed hours.
type WindowConfig struct {
	Days              []string       `yaml:"days"`
	From              string         `yaml:"from"`
	To                string         `yaml:"to"`
	AvoidFirstMinutes map[string]int `yaml:"avoid_first_minutes"`
}

// DKIMConfig enables signing when Domain is set.
type DKIMConfig struct {
	Domain   string `yaml:"domain"`
	Selector string `yaml:"selector"`
	KeyFile  string `yaml:"key_file"`
}

// IMAPConfig is the bounce mailbox.
type IMAPConfig struct {
	Host            string   `yaml:"host"`
	Port            int      `yaml:"port"`
	TLS             string   `yaml:"tls"`
	Username        string   `yaml:"username"`
	PasswordEnv     string   `yaml:"password_env"`
	PasswordFile    string   `yaml:"password_file"`
	Mailbox         string   `yaml:"mailbox"`
	PollInterval    Duration `yaml:"poll_interval"`
	ProcessedFolder string   `yaml:"processed_folder"`
	StaffFolder     string   `yaml:"staff_folder"`
}

// BounceConfig is the bounce policy and the inbound addresses.
type BounceConfig struct {
	ReturnPathDomain string   `yaml:"return_path_domain"`
	HardThreshold    int      `yaml:"hard_threshold"`
	SoftThreshold    float64  `yaml:"soft_threshold"`
	SoftWindow       Duration `yaml:"soft_window"`
	InboundDomain    string   `yaml:"inbound_domain"`
}

// SubscribeConfig limits the public subscribe endpoint.
type SubscribeConfig struct {
	MaxConfirmationsPerDay int     `yaml:"max_confirmations_per_day"`
	RatePerIPPerMinute     float64 `yaml:"rate_per_ip_per_minute"`
	ConsentRetentionDays   int     `yaml:"consent_retention_days"`
}

// TemplatesConfig names the override directory.
type TemplatesConfig struct {
	Dir string `yaml:"dir"`
}

// PrivacyConfig is the privacy notice at /privacy (Markdown; empty = the
// built-in notice).
type PrivacyConfig struct {
	TextJA  string `yaml:"text_ja"`
	TextEN  string `yaml:"text_en"`
	Contact string `yaml:"contact"`
}

// ListConfig is one mailing list as configured; lists are synced into the
// database at start and stay editable from the admin UI.
type ListConfig struct {
	Slug            string   `yaml:"slug"`
	NameJA          string   `yaml:"name_ja"`
	NameEN          string   `yaml:"name_en"`
	Kind            string   `yaml:"kind"`
	FromAddress     string   `yaml:"from_address"`
	FromName        string   `yaml:"from_name"`
	PostalAddress   string   `yaml:"postal_address"`
	Contact         string   `yaml:"contact"`
	DoubleOptIn     *bool    `yaml:"double_opt_in"`
	AllowedDomains  []string `yaml:"allowed_domains"`
	Encoding        string   `yaml:"encoding"`
	NameFallback    string   `yaml:"name_fallback"`
	RequireApproval bool     `yaml:"require_approval"`
	DescriptionJA   string   `yaml:"description_ja"`
	DescriptionEN   string   `yaml:"description_en"`
	CountClicks     bool     `yaml:"count_clicks"`
}

// Duration is a time.Duration written as "90s" or "5m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		// A TypeError lets the decoder go on and report the other problems.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: not a duration like 30s or 5m: %q", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Load reads, strictly decodes, defaults and validates a config file.
// All problems are returned at once, joined, one per key.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(bytes.NewReader(b))
}

// Parse decodes YAML from r; see Load.
func Parse(r io.Reader) (*Config, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(r).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config is empty")
		}
		return nil, fmt.Errorf("config is not valid YAML: %w", err)
	}
	paths := map[int]string{}
	var problems []error
	if len(root.Content) == 1 {
		problems = checkKeys(root.Content[0], reflect.TypeOf(Config{}), "", paths)
	}
	var c Config
	if err := root.Decode(&c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("config: %w", err)
		}
		for _, msg := range te.Errors {
			problems = append(problems, errors.New(keyForYAMLError(msg, paths)))
		}
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		// Keys already named by a structural problem (unknown key, wrong
		// type) are not named twice.
		named := map[string]bool{}
		for _, p := range problems {
			k, _, _ := strings.Cut(p.Error(), ": ")
			named[k] = true
		}
		each := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			each = j.Unwrap()
		}
		for _, p := range each {
			if k, _, _ := strings.Cut(p.Error(), ": "); !named[k] {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return &c, nil
}

// checkKeys walks the YAML tree beside the struct type and reports every key
// the struct does not have, with its full path: typos must not pass silently.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string, paths map[int]string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []error
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == "-" {
				continue // not a YAML key (Config.DataDir)
			}
			fields[name] = t.Field(i).Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := joinKey(prefix, k.Value)
			paths[k.Line] = path
			paths[v.Line] = path
			ft, ok := fields[k.Value]
			if !ok {
				out = append(out, fmt.Errorf("%s: unknown key (line %d)", path, k.Line))
				continue
			}
			out = append(out, checkKeys(v, ft, path, paths)...)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			path := joinKey(prefix, n.Content[i].Value)
			paths[n.Content[i].Line] = path
			out = append(out, checkKeys(n.Content[i+1], t.Elem(), path, paths)...)
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, v := range n.Content {
			path := fmt.Sprintf("%s[%d]", prefix, i)
			paths[v.Line] = path
			out = append(out, checkKeys(v, t.Elem(), path, paths)...)
		}
	}
	return out
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// keyForYAMLError turns yaml.v3's "line 7: cannot unmarshal …" into
// "smtp.port: cannot unmarshal … (line 7)".
func keyForYAMLError(msg string, paths map[int]string) string {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	line, _ := strconv.Atoi(m[1])
	if p, ok := paths[line]; ok {
		return fmt.Sprintf("%s: %s (line %d)", p, m[2], line)
	}
	return msg
}

func (c *Config) applyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.HTTP.Listen, "127.0.0.1:8080")
	if c.HTTP.MaxBodyBytes == 0 {
		c.HTTP.MaxBodyBytes = 1 << 20
	}
	def(&c.Timezone, "Asia/Tokyo")
	def(&c.Log.Format, "auto")
	def(&c.Log.Level, "info")
	def(&c.SMTP.TLS, "starttls")
	if c.SMTP.Timeout == 0 {
		c.SMTP.Timeout = Duration(30 * time.Second)
	}
	if c.SMTP.MaxConns == 0 {
		c.SMTP.MaxConns = 4
	}
	if c.SMTP.MaxMessagesPerConn == 0 {
		c.SMTP.MaxMessagesPerConn = 1000
	}
	if c.Sending.Workers == 0 {
		c.Sending.Workers = 4
	}
	if c.Sending.BatchSize == 0 {
		c.Sending.BatchSize = 100
	}
	if c.Sending.MaxRetryAge == 0 {
		c.Sending.MaxRetryAge = Duration(48 * time.Hour)
	}
	def(&c.IMAP.TLS, "tls")
	def(&c.IMAP.Mailbox, "INBOX")
	if c.IMAP.PollInterval == 0 {
		c.IMAP.PollInterval = Duration(time.Minute)
	}
	if c.Bounce.HardThreshold == 0 {
		c.Bounce.HardThreshold = 1
	}
	if c.Bounce.SoftThreshold == 0 {
		c.Bounce.SoftThreshold = 5
	}
	if c.Bounce.SoftWindow == 0 {
		c.Bounce.SoftWindow = Duration(30 * 24 * time.Hour)
	}
	def(&c.Bounce.InboundDomain, c.Bounce.ReturnPathDomain)
	if c.Subscribe.MaxConfirmationsPerDay == 0 {
		c.Subscribe.MaxConfirmationsPerDay = 3
	}
	if c.Subscribe.RatePerIPPerMinute == 0 {
		c.Subscribe.RatePerIPPerMinute = 10
	}
	if c.Sending.TestSendsPerHour == 0 {
		c.Sending.TestSendsPerHour = newsletter.DefaultTestSendsPerHour
	}
	for i := range c.Lists {
		l := &c.Lists[i]
		def(&l.Kind, "public")
		def(&l.Encoding, "utf-8")
		def(&l.NameFallback, "読者")
		if l.DoubleOptIn == nil {
			v := l.Kind == "public"
			l.DoubleOptIn = &v
		}
	}
}

// Validate checks every key and returns all problems at once.
func (c *Config) Validate() error {
	var p problems
	p.check(c.HTTP.Listen != "" && validHostPort(c.HTTP.Listen), "http.listen", "must be host:port, got %q", c.HTTP.Listen)
	p.check(c.HTTP.MaxBodyBytes > 0, "http.max_body_bytes", "must be positive, got %d", c.HTTP.MaxBodyBytes)
	if u, err := url.Parse(c.BaseURL); c.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add("base_url", "must be an absolute http(s) URL, got %q", c.BaseURL)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		p.add("timezone", "unknown time zone %q", c.Timezone)
	}
	p.check(oneOf(c.Log.Format, "auto", "text", "json"), "log.format", "must be auto, text or json, got %q", c.Log.Format)
	p.check(oneOf(c.Log.Level, "debug", "info", "warn", "error"), "log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	p.check(c.Database.Path != "", "database.path", "is required")
	p.check(c.Secrets.TokenKeyEnv != "" || c.Secrets.TokenKeyFile != "", "secrets", "set token_key_env or token_key_file (the HMAC key for links, 32+ bytes)")
	c.validateSMTP(&p)
	c.validateIMAP(&p)
	c.validateTrust(&p)
	p.check(c.Bounce.ReturnPathDomain != "" && validDomain(c.Bounce.ReturnPathDomain), "bounce.return_path_domain", "must be a domain name, got %q", c.Bounce.ReturnPathDomain)
	p.check(c.Bounce.HardThreshold >= 1, "bounce.hard_threshold", "must be at least 1, got %d", c.Bounce.HardThreshold)
	p.check(c.Sending.Workers >= 1 && c.Sending.Workers <= 256, "sending.workers", "must be 1-256, got %d", c.Sending.Workers)
	p.check(c.Sending.RatePerSecond >= 0, "sending.rate_per_second", "must not be negative, got %v", c.Sending.RatePerSecond)
	c.validateWindow(&p)
	if c.DKIM.Domain != "" {
		p.check(c.DKIM.Selector != "", "dkim.selector", "is required when dkim.domain is set")
		p.check(c.DKIM.KeyFile != "", "dkim.key_file", "is required when dkim.domain is set")
	}
	c.validateLists(&p)
	return p.err()
}

func (c *Config) validateSMTP(p *problems) {
	p.check(c.SMTP.Host != "", "smtp.host", "is required")
	p.check(c.SMTP.Port >= 1 && c.SMTP.Port <= 65535, "smtp.port", "must be 1-65535, got %d", c.SMTP.Port)
	p.check(oneOf(c.SMTP.TLS, "none", "starttls", "tls"), "smtp.tls", "must be none, starttls or tls, got %q", c.SMTP.TLS)
	if c.SMTP.Username != "" {
		p.check(c.SMTP.PasswordEnv != "" || c.SMTP.PasswordFile != "", "smtp.password_env", "is required with smtp.username (or smtp.password_file)")
	}
	p.check(c.SMTP.MaxConns >= 1, "smtp.max_conns", "must be at least 1, got %d", c.SMTP.MaxConns)
	for i, r := range c.SMTP.Relays {
		k := fmt.Sprintf("smtp.relays[%d]", i)
		p.check(r.Host != "", k+".host", "is required")
		p.check(r.Port >= 1 && r.Port <= 65535, k+".port", "must be 1-65535, got %d", r.Port)
		p.check(r.TLS == "" || oneOf(r.TLS, "none", "starttls", "tls"), k+".tls", "must be none, starttls or tls, got %q", r.TLS)
	}
}

func (c *Config) validateIMAP(p *problems) {
	p.check(c.IMAP.Host != "", "imap.host", "is required")
	p.check(c.IMAP.Port >= 1 && c.IMAP.Port <= 65535, "imap.port", "must be 1-65535, got %d", c.IMAP.Port)
	p.check(oneOf(c.IMAP.TLS, "none", "starttls", "tls"), "imap.tls", "must be none, starttls or tls, got %q", c.IMAP.TLS)
	p.check(c.IMAP.Username != "", "imap.username", "is required")
	p.check(c.IMAP.PasswordEnv != "" || c.IMAP.PasswordFile != "", "imap.password_env", "is required (or imap.password_file)")
	p.check(c.IMAP.PollInterval.D() >= time.Second, "imap.poll_interval", "must be at least 1s, got %s", c.IMAP.PollInterval.D())
}

var hhmm = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

func (c *Config) validateWindow(p *problems) {
	w := c.Sending.Window
	for i, d := range w.Days {
		p.check(oneOf(strings.ToLower(d), "mon", "tue", "wed", "thu", "fri", "sat", "sun"),
			fmt.Sprintf("sending.window.days[%d]", i), "must be mon…sun, got %q", d)
	}
	if w.From != "" || w.To != "" {
		p.check(hhmm.MatchString(w.From), "sending.window.from", "must be HH:MM, got %q", w.From)
		p.check(hhmm.MatchString(w.To), "sending.window.to", "must be HH:MM, got %q", w.To)
	}
	for d, m := range w.AvoidFirstMinutes {
		p.check(m >= 0 && m < 60, "sending.window.avoid_first_minutes."+d, "must be 0-59, got %d", m)
	}
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (c *Config) validateLists(p *problems) {
	seen := map[string]bool{}
	for i, l := range c.Lists {
		k := fmt.Sprintf("lists[%d]", i)
		p.check(slugRe.MatchString(l.Slug), k+".slug", "must be lowercase letters, digits and -, got %q", l.Slug)
		p.check(!seen[l.Slug], k+".slug", "duplicate slug %q", l.Slug)
		seen[l.Slug] = true
		p.check(l.NameJA != "", k+".name_ja", "is required")
		p.check(l.NameEN != "", k+".name_en", "is required")
		p.check(oneOf(l.Kind, "public", "internal"), k+".kind", "must be public or internal, got %q", l.Kind)
		p.check(validMailbox(l.FromAddress), k+".from_address", "must be an e-mail address, got %q", l.FromAddress)
		p.check(l.FromName != "" && !strings.ContainsAny(l.FromName, "\r\n"), k+".from_name", "is required (one line)")
		p.check(oneOf(l.Encoding, "utf-8", "iso-2022-jp"), k+".encoding", "must be utf-8 or iso-2022-jp, got %q", l.Encoding)
		// 特定電子メール法: the sender's postal address and contact appear in
		// every magazine; the footer layout shows them for internal lists too.
		p.check(l.PostalAddress != "", k+".postal_address", "is required (shown in every mail; 特定電子メール法)")
		p.check(l.Contact != "", k+".contact", "is required (shown in every mail; 特定電子メール法)")
	}
}

// problems collects validation errors, one per key.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (p *problems) check(ok bool, key, format string, args ...any) {
	if !ok {
		p.add(key, format, args...)
	}
}

func (p problems) err() error { return errors.Join(p...) }

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func validHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

var domainRe = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

func validDomain(s string) bool { return len(s) <= 253 && domainRe.MatchString(s) }

func validMailbox(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && !strings.ContainsAny(s, " \r\n<>") && validDomain(s[at+1:])
}

// secret reads a secret from the environment variable named env, or else
// from file; secrets never live only in the YAML.
func Secret(env, file string) (string, error) {
	if env != "" {
		if v, ok := os.LookupEnv(env); ok {
			return v, nil
		}
		if file == "" {
			return "", fmt.Errorf("environment variable %s is not set", env)
		}
	}
	if file != "" {
		b, err := ReadCredential(file)
		if err != nil {
			return "", fmt.Errorf("reading secret file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}
