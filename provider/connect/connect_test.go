package connect

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
)

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		reason   string
		env      map[string]string
		cfg      gcw.Config
		want     string
		wantHint string
	}{
		{reason: "a real endpoint without credentials names both variables, with a hint to the emulator",
			env: map[string]string{"CDS_SECRET_ID": "", "CDS_SECRET_KEY": ""},
			cfg: gcw.Config{Endpoint: gcw.DefaultEndpoint, MaxConcurrent: 1}, want: "CDS_SECRET_KEY", wantHint: "--endpoint sim"},
		{reason: "no request could ever be sent with parallelism 0",
			cfg: gcw.Config{Endpoint: Sim, MaxConcurrent: 0}, want: "--parallelism 0"},
		{reason: "a task time that is not a duration is refused, naming the variable",
			env: map[string]string{SimTaskTimeEnv: "fast"}, cfg: gcw.Config{Endpoint: Sim, MaxConcurrent: 1}, want: SimTaskTimeEnv},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		_, err := Open(tt.cfg)
		var he *HintedError
		if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint))) {
			t.Errorf("%s: Open: %v, want %q (hint %q)", tt.reason, err, tt.want, tt.wantHint)
		}
	}
}

// TestOpenSim: "sim:PATH" runs the emulator in this process on PATH, behind the real client.
func TestOpenSim(t *testing.T) {
	t.Setenv(SimTaskTimeEnv, "10ms")
	data := filepath.Join(t.TempDir(), "cloud.db")
	api, err := Open(gcw.Config{Endpoint: Sim + ":" + data, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	if api.Endpoint != "sim:"+data {
		t.Errorf("the endpoint shown is %q", api.Endpoint)
	}
	if _, err := api.Client.QuerySites(t.Context(), provider.QuerySitesRequest{}); err != nil {
		t.Errorf("a call to the in-process emulator: %v", err)
	}
	if api.Calls() < 1 {
		t.Errorf("calls counted: %d", api.Calls())
	}
	if err := api.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		reason, level, format, want string
	}{
		{"a level slog does not know names the flag", "loud", "text", "--log-level"},
		{"a format other than text or json names the flag", "warn", "xml", "--log-format"},
		{"json at debug is fine", "debug", "json", ""},
	}
	for _, tt := range tests {
		_, err := NewLogger(io.Discard, tt.level, tt.format)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.reason, err, tt.want)
		}
	}
}
