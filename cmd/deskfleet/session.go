package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/engine/fleets"
	"github.com/deskfleet/deskfleet/provider/connect"
	"github.com/deskfleet/deskfleet/state"
	"github.com/deskfleet/deskfleet/state/stores"
)

// session is the engine's fleet API wired to what the flags name: the API (--endpoint) and the state
// (--state). close releases both.
type session struct {
	*engine.Session
	api   *connect.API
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

func newEngineSession(c *cli.Context, api *connect.API, st state.Store) *engine.Session {
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
// to stderr; an invalid spec is printed (every diagnostic, and a hint when the current folder is a
// fleet repository) and is an exit-1 error with nothing more to print. --changed-since is refused: it
// limits a run over a repository.
func loadSpec(c *cli.Context) (*engine.Spec, error) {
	if commandFlag(c.Command, flagChangedSince) != nil && c.IsSet(flagChangedSince) {
		return nil, withHint(errors.New("--changed-since limits a run over a fleet repository, and -f names one fleet's spec"),
			"give the folder that holds the fleet folders: -f fleets/ --changed-since REF")
	}
	sp, err := engine.LoadSpec(specPaths(c))
	if err != nil {
		err = engineError(c, err)
		if !c.IsSet("file") && fleets.IsRepo(specPaths(c)) {
			fmt.Fprintln(c.App.ErrWriter, "hint: the folders below hold fleets: `-f .` runs them all")
		}
		return nil, err
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
// branches on (fleets.Classify: a held lock 4, a guard 5, a stale plan 7, else 1, each with its
// hint): spec errors are printed (every diagnostic), blocked guards listed.
func engineError(c *cli.Context, err error) error {
	var (
		specErr *engine.SpecError
		guard   *engine.GuardError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &specErr):
		printDiagnostics(c.App.ErrWriter, specErr.Diags, specErr.Fleet, specErr.Files)
		return withCode(exitError, nil)
	case errors.As(err, &guard):
		for _, b := range guard.Blocked {
			fmt.Fprintln(c.App.ErrWriter, "blocked:", b)
		}
	}
	code, hint := fleets.Classify(err)
	return exitWith(code, hint, err)
}

// withSpec loads the spec (loadSpec), opens the API and the state (openSession) and returns what call
// makes of them, its error the fleet API's (engineError). The session is closed on return.
func withSpec[T any](c *cli.Context, call func(*session, *engine.Spec) (T, error)) (v T, err error) {
	sp, err := loadSpec(c)
	if err != nil {
		return v, err
	}
	sess, err := openSession(c)
	if err != nil {
		return v, err
	}
	defer sess.close()
	v, err = call(sess, sp)
	return v, engineError(c, err)
}

// exitWith is the error that makes run exit with code, printing err (nil: nothing) and hint.
func exitWith(code fleets.Exit, hint string, err error) error {
	if err != nil && hint != "" {
		err = withHint(err, hint)
	}
	if code == fleets.ExitOK && err == nil {
		return nil
	}
	return withCode(int(code), err)
}

// isRepo reports whether -f, given (the default "." is one fleet's spec, as always), names a fleet
// repository (fleets.IsRepo).
func isRepo(c *cli.Context) bool { return c.IsSet("file") && fleets.IsRepo(specPaths(c)) }

// runRepo runs a command over the fleets of the repository -f names (isRepo), limited by
// --changed-since, with each fleet's spec warnings on stderr, and exits with the worst of the fleets'
// exits. --out saves one fleet's plan, and is refused (the runner refuses --target).
func runRepo(c *cli.Context, run func(rn *fleets.Runner, repo *fleets.Repo) *fleets.Report,
	show func(rep *fleets.Report) error) error {
	if commandFlag(c.Command, flagOut) != nil && c.IsSet(flagOut) {
		return withHint(fmt.Errorf("--%s is one fleet's, and -f names a fleet repository", flagOut),
			"give one fleet's folder: -f "+filepath.Join(specPaths(c)[0], "FLEET")+" --"+flagOut+" ...")
	}
	repo, err := fleets.Open(specPaths(c)[0])
	if err != nil {
		return engineError(c, err)
	}
	sess, err := openSession(c)
	if err != nil {
		return err
	}
	defer sess.close()
	rn := &fleets.Runner{Session: sess.Session}
	if ref := c.String(flagChangedSince); ref != "" {
		if rn.Changes, err = fleets.ChangedSince(c.Context, repo.Root, ref); err != nil {
			return engineError(c, err)
		}
	}
	rep := run(rn, repo)
	if rep.Err != nil {
		return engineError(c, rep.Err)
	}
	for _, r := range rep.Fleets {
		for _, d := range r.Warnings {
			fmt.Fprintln(c.App.ErrWriter, d.String())
		}
	}
	if err := show(rep); err != nil {
		return err
	}
	return withCode(int(rep.Exit), nil)
}
