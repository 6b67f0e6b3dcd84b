package checks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime/debug"
	"time"

	"vigie/cmd/config"
)

// maxRedirects is how many redirects a step with follow_redirects takes.
const maxRedirects = 10

// scenarioClient is the HTTP client of one scenario run: its own cookie
// jar (cookies live across the steps of a run, never across runs) and its
// own connections (kept alive between steps, as a browser would).
type scenarioClient struct {
	base      *http.Client
	transport *http.Transport
}

func newScenarioClient(c *config.Check) (*scenarioClient, error) {
	tlsConf, err := tlsConfig(c, "")
	if err != nil {
		return nil, err
	}
	proxy := http.ProxyFromEnvironment
	if c.HTTPProxy != "" {
		u, err := url.Parse(c.HTTPProxy)
		if err != nil {
			return nil, fmt.Errorf("http_proxy: %w", err)
		}
		proxy = http.ProxyURL(u)
	}
	tr := &http.Transport{
		Proxy:               proxy,
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
	}
	var rt http.RoundTripper = tr
	if a := c.Auth; a != nil && a.Type == "digest" {
		rt = &digestTransport{next: tr, user: a.User, pass: a.Password}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &scenarioClient{base: &http.Client{Transport: rt, Jar: jar}, transport: tr}, nil
}

// forStep is the run's client with the step's redirect policy.
func (s *scenarioClient) forStep(follow bool) *http.Client {
	cl := *s.base
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !follow {
			return http.ErrUseLastResponse // the 3xx is the step's answer
		}
		if len(via) >= maxRedirects {
			return errTooManyRedirects
		}
		return nil
	}
	return &cl
}

var errTooManyRedirects = errors.New("stopped after " + fmt.Sprint(maxRedirects) + " redirects (a redirect loop?)")

func (s *scenarioClient) close() { s.transport.CloseIdleConnections() }

// userAgent is "vigie/VERSION" for a released build, "vigie" otherwise.
func userAgent() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return "vigie/" + bi.Main.Version
	}
	return "vigie"
}
