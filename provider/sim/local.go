package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// ServeLocal serves s over HTTP in this process, on a free port of the loopback interface, and returns
// its API endpoint (http://127.0.0.1:PORT/gcw) and stop, which the caller must call when done with it
// (calling it again only returns the first call's error).
//
// stop shuts the server down, waiting up to 5 s for the requests in flight, then closes s (which saves
// its data file). A client should close its idle connections before stop: a connection it dialled
// but never used counts as in flight, and Shutdown would wait for it. On error nothing is left
// running and s is not closed.
func ServeLocal(s *Sim) (endpoint string, stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("emulator listener: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, s, ln) }()
	stop = sync.OnceValue(func() error {
		cancel()
		return errors.Join(<-served, s.Close())
	})
	return "http://" + ln.Addr().String() + "/gcw", stop, nil
}

// Serve serves s over HTTP on ln until ctx ends or the server fails; then it shuts the server down,
// waiting up to 5 s for the requests in flight. It returns nil when ctx ended it, and does not close s.
func Serve(ctx context.Context, s *Sim, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// WriteCalls writes the calls an emulator served (Sim.Calls): the total and the mutating ones, then
// one line per action, busiest first.
func WriteCalls(w io.Writer, calls map[provider.Action]int) error {
	type row struct {
		action provider.Action
		n      int
	}
	var rows []row
	total, mutating := 0, 0
	for a, n := range calls {
		rows = append(rows, row{a, n})
		total += n
		if info, ok := provider.LookupAction(a); ok && info.Mutating {
			mutating += n
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].n != rows[j].n {
			return rows[i].n > rows[j].n
		}
		return rows[i].action < rows[j].action
	})
	var b strings.Builder
	fmt.Fprintf(&b, "calls served: %d (mutating: %d)\n", total, mutating)
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-24s %d\n", r.action, r.n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DataFileError is OpenLocal's error for a data file the emulator cannot use (unreadable, damaged, of
// another format): starting afresh means deleting it.
type DataFileError struct {
	Path string
	Err  error
}

func (e *DataFileError) Error() string { return fmt.Sprintf("emulator %s: %v", e.Path, e.Err) }
func (e *DataFileError) Unwrap() error { return e.Err }

// Local is an emulator on a data file, served in this process (ServeLocal) under a throwaway key: what
// `--endpoint sim` talks to.
type Local struct {
	// Endpoint is the API's URL; KeyID and Secret the only key it accepts (random, never stored).
	Endpoint, KeyID, Secret string
	// Stop stops serving and saves the data file (ServeLocal's stop).
	Stop func() error
}

// OpenLocal opens (or creates: 0600, in a 0700 folder) the emulated cloud of dataFile, whose tasks take
// taskTime, and serves it on loopback with a fresh random key. On error nothing is left running.
func OpenLocal(dataFile string, taskTime time.Duration) (*Local, error) {
	if err := os.MkdirAll(filepath.Dir(dataFile), 0o700); err != nil {
		return nil, fmt.Errorf("emulator data folder: %w", err)
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	l := &Local{KeyID: "deskfleet-sim", Secret: hex.EncodeToString(b)}
	s, err := New(Options{Keys: map[string]string{l.KeyID: l.Secret}, DataFile: dataFile, TaskDuration: taskTime})
	if err != nil {
		return nil, &DataFileError{Path: dataFile, Err: err}
	}
	if l.Endpoint, l.Stop, err = ServeLocal(s); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return l, nil
}
