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
	cases := []struct {
		name, reason string
		args         []string
		want         string
	}{
		{"url flag value", "--state=URL", []string{"deskfleet", "apply", "--state=postgres://ana:s3cret@db/fleet"},
			"deskfleet apply --state=postgres://ana:***@db/fleet"},
		{"url argument", "--to URL as two arguments", []string{"deskfleet", "state", "migrate", "--to", "postgres://ana:s3cret@db/fleet"},
			"deskfleet state migrate --to postgres://ana:***@db/fleet"},
		{"keyword dsn", "a libpq keyword DSN (one argument) is a database too",
			[]string{"deskfleet", "plan", "--state=host=db password=s3cret dbname=fleet"},
			"deskfleet plan --state=host=db password=*** dbname=fleet"},
		{"file", "a file location is shown as it is", []string{"deskfleet", "plan", "--state", ".deskfleet/state.db"},
			"deskfleet plan --state .deskfleet/state.db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := CommandLine(tc.args)
			if strings.Contains(got, "s3cret") || got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
}

// TestRedactsURLCredentials: any URL with user information, whatever its scheme, is recorded without
// its password (or its token, when the user information is only that), in Describe and in the
// journal's command line, as an argument or as a flag's value.
func TestRedactsURLCredentials(t *testing.T) {
	cases := []struct {
		name, reason string
		args         []string
		want         string
	}{
		{"endpoint value", "the gcw endpoint given as --endpoint URL (two arguments) keeps its user, not its password",
			[]string{"deskfleet", "apply", "--endpoint", "https://ana:s3cret@gcw.example/gcw"},
			"deskfleet apply --endpoint https://ana:***@gcw.example/gcw"},
		{"endpoint flag=value", "--endpoint=URL as one argument",
			[]string{"deskfleet", "apply", "--endpoint=https://ana:s3cret@gcw.example:8443/gcw?x=1"},
			"deskfleet apply --endpoint=https://ana:***@gcw.example:8443/gcw?x=1"},
		{"token as user", "a user information without a password is usually a token: masked whole",
			[]string{"deskfleet", "plan", "--endpoint", "https://s3cret@gcw.example/gcw"},
			"deskfleet plan --endpoint https://***@gcw.example/gcw"},
		{"password parameter", "a password= query parameter of any URL is masked",
			[]string{"deskfleet", "plan", "--endpoint=http://gcw.example/gcw?password=s3cret&v=2"},
			"deskfleet plan --endpoint=http://gcw.example/gcw?password=***&v=2"},
		{"ambiguous", "a password holding '/' and '@' does not parse: everything up to the last '@' is masked",
			[]string{"deskfleet", "plan", "--endpoint", "https://ana:s3/cr@et@gcw.example/gcw"},
			"deskfleet plan --endpoint https://***@gcw.example/gcw"},
		{"escaped password", "a percent-encoded password is masked as written",
			[]string{"deskfleet", "plan", "--endpoint", "https://ana:s3cret%40x@gcw.example/gcw"},
			"deskfleet plan --endpoint https://ana:***@gcw.example/gcw"},
		{"plain url", "a URL without user information is kept as it is",
			[]string{"deskfleet", "plan", "--endpoint", "https://gcw.example/a@b?q=1"},
			"deskfleet plan --endpoint https://gcw.example/a@b?q=1"},
		{"postgres unchanged", "a PostgreSQL URL keeps its user, as before",
			[]string{"deskfleet", "plan", "--state=postgres://ana:s3cret@db/fleet"},
			"deskfleet plan --state=postgres://ana:***@db/fleet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := CommandLine(tc.args)
			if strings.Contains(got, "s3") || got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.reason, got, tc.want)
			}
			if d := Describe(tc.args[len(tc.args)-1]); strings.Contains(d, "s3") {
				t.Errorf("%s: Describe shows the secret: %q", tc.reason, d)
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
