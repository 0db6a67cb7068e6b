package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
)

// session is the engine's fleet API wired to what the flags name: the API (--endpoint) and the state
// (--state). close releases both.
type session struct {
	*engine.Session
	api   *apiSession
	store state.Store
}

func (s *session) close() {
	if s.store != nil {
		s.store.Close()
	}
	if s.api != nil {
		s.api.Close()
	}
}

// openSession opens the API and the state the flags name. Notices the engine gives (a stale lock
// taken over) go to stderr. The caller closes the session.
func openSession(c *cli.Context) (*session, error) {
	api, err := openAPI(c)
	if err != nil {
		return nil, err
	}
	st, err := openStore(c)
	if err != nil {
		api.Close()
		return nil, err
	}
	return &session{Session: newEngineSession(c, api, st), api: api, store: st}, nil
}

// openAPISession opens the API only, for the commands that never read the state.
func openAPISession(c *cli.Context) (*session, error) {
	api, err := openAPI(c)
	if err != nil {
		return nil, err
	}
	return &session{Session: newEngineSession(c, api, nil), api: api}, nil
}

// openStateSession opens the state only, for the commands that never call the API.
func openStateSession(c *cli.Context) (*session, error) {
	st, err := openStore(c)
	if err != nil {
		return nil, err
	}
	return &session{Session: newEngineSession(c, nil, st), store: st}, nil
}

func newEngineSession(c *cli.Context, api *apiSession, st state.Store) *engine.Session {
	s := &engine.Session{Store: st, Holder: stores.CurrentHolder(""),
		Notify: func(msg string) { fmt.Fprintln(c.App.ErrWriter, "deskfleet: "+msg) }}
	if commandFlag(c.Command, flagParallelism) != nil {
		s.Parallelism = c.Int(flagParallelism)
	}
	if api != nil {
		s.Client, s.Calls = api.Client, api.Calls
	}
	return s
}

// loadSpec loads and checks the spec (-f, default the current folder) offline, printing its warnings
// to stderr; an invalid spec is printed (every diagnostic) and is an exit-1 error with nothing more
// to print.
func loadSpec(c *cli.Context) (*engine.Spec, error) {
	sp, err := engine.LoadSpec(specPaths(c))
	if err != nil {
		return nil, engineError(c, err)
	}
	for _, d := range sp.Warnings {
		fmt.Fprintln(c.App.ErrWriter, d.String())
	}
	return sp, nil
}

// specPaths returns the -f paths, "." when none is given.
func specPaths(c *cli.Context) []string {
	if paths := c.StringSlice("file"); len(paths) > 0 {
		return paths
	}
	return []string{"."}
}

// engineError turns the fleet API's typed errors into what a person reads and the exit code CI
// branches on: spec errors are printed (exit 1), a held lock exits 4, blocked guards are listed
// (exit 5); each with a hint of what to do next.
func engineError(c *cli.Context, err error) error {
	var (
		specErr   *engine.SpecError
		locked    *state.LockedError
		guard     *engine.GuardError
		settleErr *engine.SettleError
		claimed   *engine.ClaimedError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &specErr):
		printDiagnostics(c.App.ErrWriter, specErr.Diags, specErr.Fleet, specErr.Files)
		return withCode(exitError, nil)
	case errors.As(err, &claimed):
		return withCode(exitLockHeld, withHint(err, claimed.Hint()))
	case errors.As(err, &locked):
		hint := "wait for it to finish, or pass --lock-timeout to wait"
		if locked.Stale {
			hint = "the holder is gone: `deskfleet state unlock " + locked.Fleet + "` clears its lock"
		}
		return withCode(exitLockHeld, withHint(err, hint))
	case errors.As(err, &guard):
		for _, b := range guard.Blocked {
			fmt.Fprintln(c.App.ErrWriter, "blocked:", b)
		}
		hint := "the plan file was changed, or made for another state: make a new plan"
		if flags := guard.Flags(); len(flags) > 0 {
			hint = "review the plan above; to go ahead, run again with " + strings.Join(flags, " ") +
				" (each allows only what it names)"
		}
		return withCode(exitGuard, withHint(err, hint))
	case errors.As(err, &settleErr):
		return withHint(err, "once you know the outcome, `deskfleet state settle` records it; then apply again")
	}
	return err
}
