package sim

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// FaultsAt splits a total fault rate (0 to 1: the fraction of requests that get an injected fault,
// `sim serve --fault-rate`) over the fault kinds in the proportions of the fault scenario measured by
// engine's TestFaultConvergence (5% 5xx, 3% throttling, 2% dropped connections half of them after
// the work, 2% failed tasks; docs/performance.md). New sub-accounts fail as often as tasks do. A rate
// outside 0..1 is an error.
func FaultsAt(rate float64) (Faults, error) {
	if rate < 0 || rate > 1 {
		return Faults{}, fmt.Errorf("--fault-rate %v: want a fraction between 0 and 1", rate)
	}
	return Faults{HTTP5xx: rate * (5.0 / 12), Throttle: rate * (3.0 / 12), DropBefore: rate * (1.0 / 12),
		DropAfter: rate * (1.0 / 12), TaskFailed: rate * (2.0 / 12), AccountFailed: rate * (2.0 / 12)}, nil
}

// ParseKeys turns credentials written ID:SECRET (`sim serve --key`) into Options.Keys. An empty ID or
// secret, or a missing colon, is an error that never shows the value.
func ParseKeys(pairs []string) (map[string]string, error) {
	keys := map[string]string{}
	for _, kv := range pairs {
		id, secret, ok := strings.Cut(kv, ":")
		if !ok || id == "" || secret == "" {
			return nil, errors.New("--key: want ID:SECRET (the value is not shown here)")
		}
		keys[id] = secret
	}
	return keys, nil
}

// ErrNoCloud is OpenConsole's error for a data file that does not exist.
var ErrNoCloud = errors.New("no emulated cloud")

// OpenConsole opens the emulated cloud kept in file for the console, which must exist (ErrNoCloud,
// wrapped with the file's name, when it cannot be read): the console changes a cloud, never makes one.
func OpenConsole(file string) (*Sim, error) {
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("%w at %s", ErrNoCloud, file)
	}
	return New(Options{DataFile: file})
}

// ConsoleAction is one of the emulator's console actions: a change to one desktop made outside
// deskfleet, as a person would make it in the provider's web console (for demos and tests of drift).
type ConsoleAction struct {
	// Name is the action's command name; Usage says what it does.
	Name, Usage string
	// Args names the arguments, the desktop's name first ("NAME on|off"); Example is a command line.
	Args, Example string
	// Do makes the change to d; args are those after the desktop's name, as many as Args names.
	Do func(s *Sim, d Desktop, args []string) error
}

// NArgs is the number of arguments the action takes, the desktop's name included.
func (a ConsoleAction) NArgs() int { return len(strings.Fields(a.Args)) }

// ConsoleActions are the console's actions: label, rename, power, delete and bind.
func ConsoleActions() []ConsoleAction {
	return []ConsoleAction{
		{"label", "set a desktop's label", "NAME LABEL", "deskfleet sim label design_001 tmp",
			func(s *Sim, d Desktop, a []string) error { return s.ConsoleSetLabel(d.ID, a[0]) }},
		{"rename", "rename a desktop", "NAME NEW-NAME", "deskfleet sim rename review review-old",
			func(s *Sim, d Desktop, a []string) error { return s.ConsoleRename(d.ID, a[0]) }},
		{"power", "power a desktop on or off at once", "NAME on|off", "deskfleet sim power design off", consolePower},
		{"delete", "delete a desktop at once", "NAME", "deskfleet sim delete review",
			func(s *Sim, d Desktop, _ []string) error { return s.ConsoleDelete(d.ID) }},
		{"bind", "bind a desktop to a sub-account (\"-\" unbinds)", "NAME EMAIL|-", "deskfleet sim bind design bob@example.com",
			consoleBind},
	}
}

func consolePower(s *Sim, d Desktop, a []string) error {
	if a[0] != "on" && a[0] != "off" {
		return fmt.Errorf("power %q: want on or off", a[0])
	}
	return s.ConsolePower(d.ID, a[0] == "on")
}

func consoleBind(s *Sim, d Desktop, a []string) error {
	if a[0] == "-" {
		return s.ConsoleBind(d.ID, "")
	}
	acc, ok := s.AccountByEmail(a[0])
	if !ok {
		return fmt.Errorf("no sub-account %q in the emulator", a[0])
	}
	return s.ConsoleBind(d.ID, acc.ID)
}
