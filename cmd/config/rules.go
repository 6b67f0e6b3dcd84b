package config

// Notifier is one entry of `notifiers:` (DESIGN.md, docs/rules.md).
type Notifier struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // webhook | slack | alertmanager
	URL  string `yaml:"url"`  // webhook/slack: the endpoint; alertmanager: its base URL (…:9093)
	// Secret signs webhook bodies (X-Vigie-Signature: sha256=HMAC).
	Secret  string   `yaml:"secret"`
	Headers Pairs    `yaml:"headers"`
	Timeout Duration `yaml:"timeout"` // per attempt; default 10s
	// MaxAge bounds retries: a delivery still failing this long after its
	// first attempt is given up (logged, counted, kept in the delivery log).
	MaxAge Duration `yaml:"max_age"` // default 24h
	CAFile string   `yaml:"ca_file"`
}

// Rule is one entry of `rules:`. Exactly one of Query+Threshold, Absent,
// Check+For and Check+SLABelow says what the rule watches.
type Rule struct {
	Name string `yaml:"name"`

	Query     string     `yaml:"query"`
	Threshold *Threshold `yaml:"threshold"`
	GroupBy   []string   `yaml:"group_by"`

	Absent string   `yaml:"absent"` // query that must match within window
	Window Duration `yaml:"window"`

	Check    string   `yaml:"check"`
	For      Duration `yaml:"for"`
	SLABelow float64  `yaml:"sla_below"`

	Severity string   `yaml:"severity"` // label: critical | warning | info (default warning)
	Notify   []string `yaml:"notify"`
	Repeat   Duration `yaml:"repeat"` // reminder interval while firing; 0 = never
	Labels   Pairs    `yaml:"labels"`
	Summary  string   `yaml:"summary"` // text/template over the alert
}

// Threshold: at least Count matching records within Window.
type Threshold struct {
	Count  int      `yaml:"count"`
	Window Duration `yaml:"window"`
}

// Maintenance silences notifications during a time range, for every rule or
// only the listed rules and hosts.
type Maintenance struct {
	Name  string   `yaml:"name"`
	Start string   `yaml:"start"` // RFC 3339
	End   string   `yaml:"end"`   // RFC 3339
	Rules []string `yaml:"rules"`
	Hosts []string `yaml:"hosts"`
}
