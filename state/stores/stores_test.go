package stores

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandLineMasksPasswords: a journal's command line never carries a database password, in a URL
// or a keyword DSN, as an argument or as a flag's value; other arguments are kept as they are.
func TestCommandLineMasksPasswords(t *testing.T) {
	cases := []struct{ name, reason, in, want string }{
		{"url flag value", "--state=URL", "deskfleet apply --state=postgres://ana:s3cret@db/fleet",
			"deskfleet apply --state=postgres://ana:***@db/fleet"},
		{"url argument", "--to URL as two arguments", "deskfleet state migrate --to postgres://ana:s3cret@db/fleet",
			"deskfleet state migrate --to postgres://ana:***@db/fleet"},
		{"keyword dsn", "a libpq keyword DSN is a database too", "deskfleet plan --state=host=db password=s3cret dbname=fleet",
			"deskfleet plan --state=host=db password=*** dbname=fleet"},
		{"file", "a file location is shown as it is", "deskfleet plan --state .deskfleet/state.db",
			"deskfleet plan --state .deskfleet/state.db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := strings.SplitN(tc.in, " ", 3)
			if strings.HasPrefix(tc.in, "deskfleet state migrate") || strings.HasSuffix(tc.in, "state.db") {
				args = strings.Fields(tc.in)
			}
			got := CommandLine(args)
			if strings.Contains(got, "s3cret") || got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
}

// TestOpenRefusesWhatIsNotAStore: a location that is an existing file other than a state file (a
// spec, say) is refused, and left as it was.
func TestOpenRefusesWhatIsNotAStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nfleet: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := Open(context.Background(), path); err == nil {
		st.Close()
		t.Fatal("a spec file was opened as a state store")
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("the file was touched: %v %v", fi.Mode(), err)
	}
}
