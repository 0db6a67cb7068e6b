package main

import (
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/internal/pgtest"
)

// TestCLIClaimPostgres: a pull request's claim outlives the process that took it on a PostgreSQL
// state, whose locks end with their database session: each command here is a process of its own, as
// each CI job is.
func TestCLIClaimPostgres(t *testing.T) {
	env := []string{"DESKFLEET_STATE=" + pgtest.DSN(t)}
	dir := t.TempDir()
	steps := []struct {
		args []string
		code int
		want string
		why  string
	}{
		{[]string{"lock", "--fleet", "lab", "--pr", "12", "--head", "abc1234def", "--author", "ana"}, exitOK,
			"fleet lab is claimed by pull request #12 (ana, abc1234)", "the first pull request claims the fleet"},
		{[]string{"lock", "--fleet", "lab", "--pr", "15", "--author", "bo"}, exitLockHeld,
			"fleet lab is claimed by pull request #12 (ana, abc1234)", "a later job of another pull request finds the claim"},
		{[]string{"unlock", "--fleet", "lab", "--pr", "12"}, exitOK,
			"fleet lab is no longer claimed by pull request #12", "closing #12 ends its claim"},
		{[]string{"lock", "--fleet", "lab", "--pr", "15", "--author", "bo"}, exitOK,
			"fleet lab is claimed by pull request #15 (bo)", "then #15 claims it"},
	}
	for _, st := range steps {
		r := runBin(t, dir, env, st.args...)
		if r.code != st.code || !strings.Contains(r.stdout+r.stderr, st.want) {
			t.Fatalf("%s: deskfleet %s: exit %d, want %d and %q\n%s%s", st.why, strings.Join(st.args, " "), r.code, st.code, st.want, r.stdout, r.stderr)
		}
	}
}
