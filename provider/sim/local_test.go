package sim

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// TestServeLocal: the endpoint answers with the emulator's wire format while served; stop ends the
// server and saves the data file.
func TestServeLocal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sim.db")
	s, err := New(Options{DataFile: file, TaskDuration: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	endpoint, stop, err := ServeLocal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || !strings.HasSuffix(endpoint, "/gcw") {
		t.Errorf("endpoint %q: want http://127.0.0.1:PORT/gcw", endpoint)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(endpoint + "?Action=NoSuchAction")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown action answers HTTP %d, want 400 (the emulator's InvalidAction)", resp.StatusCode)
	}
	client.CloseIdleConnections()
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := stop(); err != nil {
		t.Errorf("a second stop: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stop took %v with no request in flight", d)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("stop did not save the data file: %v", err)
	}
	if resp, err := client.Get(endpoint + "?Action=QuerySites"); err == nil {
		resp.Body.Close()
		t.Errorf("the endpoint still answers after stop (HTTP %d)", resp.StatusCode)
	}
}

func TestWriteCalls(t *testing.T) {
	var b strings.Builder
	if err := WriteCalls(&b, map[provider.Action]int{"QuerySites": 2, "CreateVm": 2, "QueryVm": 5}); err != nil {
		t.Fatal(err)
	}
	want := "calls served: 9 (mutating: 2)\n" +
		"  QueryVm                  5\n" +
		"  CreateVm                 2\n" +
		"  QuerySites               2\n"
	if b.String() != want {
		t.Errorf("WriteCalls:\n%s\nwant:\n%s", b.String(), want)
	}
}
