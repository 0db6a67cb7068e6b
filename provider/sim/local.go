package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ServeLocal serves s over HTTP in this process, on a free port of the loopback interface, and returns
// its API endpoint (http://127.0.0.1:PORT/gcw) and stop, which the caller must call once done with it.
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
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed on stop
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return errors.Join(srv.Shutdown(ctx), s.Close())
	}
	return "http://" + ln.Addr().String() + "/gcw", stop, nil
}
