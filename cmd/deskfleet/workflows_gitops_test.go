package main

// The GitHub recipes run end to end (ghrun_test.go) as a team would drive them: pull requests opened,
// reviewed, merged and closed, one after the other, on one emulated cloud and one shared state. Each
// test checks what deskfleet did (the live desktops, the claim) and what the recipes said (comments,
// artifacts, which commands ran with which exit codes).

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider/sim"
)

const approversTeam = "acme/fleet-admins"

// ghTeam drives the recipes: the forge, the spec of main, and helpers for pull requests.
type ghTeam struct {
	*ghForge
	main string // the spec (fleet/fleet.yaml) on main
}

func newGHTeam(t *testing.T) *ghTeam {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "studio", "fleet.yaml"))
	must(t, err)
	f := newGHForge(t)
	f.vars["DESKFLEET_APPROVERS_TEAM"] = approversTeam
	f.put("orgs/acme/teams/fleet-admins/memberships/lead", map[string]any{"state": "active", "role": "member"})
	for user, perm := range map[string]string{"lead": "write", "ana": "write", "triager": "triage"} {
		f.put("repos/"+fakeRepo+"/collaborators/"+user+"/permission", map[string]any{"permission": perm})
	}
	return &ghTeam{ghForge: f, main: string(b)}
}

func sha(s string) string { return fmt.Sprintf("%-40s", s+strings.Repeat("0", 40))[:40] }

func tree(spec string) map[string]string { return map[string]string{"fleet/fleet.yaml": spec} }

// open opens pull request n by author at head, touching the spec.
func (g *ghTeam) open(n int, author, head string) {
	pr := map[string]any{"number": n, "state": "open", "merged_at": nil, "merge_commit_sha": nil,
		"head": map[string]any{"sha": sha(head), "repo": map[string]any{"full_name": fakeRepo}},
		"base": map[string]any{"sha": sha("base")}, "user": map[string]any{"login": author},
		// The old recipes' label: anyone with triage rights can set it, and it must change nothing.
		"labels": []any{map[string]any{"name": "deskfleet:allow-destructive"}}}
	g.put(fmt.Sprintf("repos/%s/pulls/%d", fakeRepo, n), pr)
	g.put(fmt.Sprintf("repos/%s/pulls/%d/files", fakeRepo, n), []any{map[string]any{"filename": "fleet/fleet.yaml"}})
	g.put(fmt.Sprintf("repos/%s/pulls/%d/reviews", fakeRepo, n), []any{})
	g.put(fmt.Sprintf("repos/%s/issues/%d/comments", fakeRepo, n), []any{})
}

func (g *ghTeam) pr(n int) map[string]any {
	return g.get(fmt.Sprintf("repos/%s/pulls/%d", fakeRepo, n)).(map[string]any)
}

// review adds a review of pull request n's head commit.
func (g *ghTeam) review(n int, user, state string) {
	path := fmt.Sprintf("repos/%s/pulls/%d/reviews", fakeRepo, n)
	reviews, _ := g.get(path).([]any)
	head := g.pr(n)["head"].(map[string]any)["sha"]
	reviews = append(reviews, map[string]any{"user": map[string]any{"login": user}, "state": state,
		"commit_id": head, "submitted_at": fmt.Sprintf("2026-12-06T09:%02d:00Z", len(reviews))})
	g.put(path, reviews)
}

// plan runs deskfleet-plan.yml for pull request n (action: opened, synchronize, ...) on spec, the
// pull request merged into main.
func (g *ghTeam) plan(n int, action, spec string) map[string]*ghJob {
	return g.run("deskfleet-plan.yml", ghEvent{name: "pull_request", sha: sha("refs-pull-merge"), tree: tree(spec),
		payload: map[string]any{"action": action, "pull_request": map[string]any{"number": n, "merged": action == "merged"}}})
}

// merge merges pull request n: main becomes spec, and the push runs deskfleet-apply.yml.
func (g *ghTeam) merge(n int, spec string) map[string]*ghJob {
	pr := g.pr(n)
	commit := sha(fmt.Sprintf("merge%d", n))
	pr["state"], pr["merged_at"], pr["merge_commit_sha"] = "closed", "2026-12-06T11:00:00Z", commit
	g.put(fmt.Sprintf("repos/%s/pulls/%d", fakeRepo, n), pr)
	g.put(fmt.Sprintf("repos/%s/commits/%s/pulls", fakeRepo, commit), []any{pr})
	g.main = spec
	return g.run("deskfleet-apply.yml", ghEvent{name: "push", sha: commit, tree: tree(spec), payload: map[string]any{}})
}

// comments are pull request n's comments, oldest first.
func (g *ghTeam) comments(n int) []string {
	var out []string
	list, _ := g.get(fmt.Sprintf("repos/%s/issues/%d/comments", fakeRepo, n)).([]any)
	for _, c := range list {
		out = append(out, c.(map[string]any)["body"].(string))
	}
	return out
}

// live counts the live desktops by name, and returns their labels.
func (g *ghTeam) live(t *testing.T) (map[string]int, map[string]string) {
	t.Helper()
	s, err := sim.New(sim.Options{DataFile: g.cloud})
	must(t, err)
	defer s.Close()
	counts, labels := map[string]int{}, map[string]string{}
	for _, d := range s.Desktops() {
		if d.Status != "deleted" {
			counts[d.Name]++
			labels[d.Name] = d.Label
		}
	}
	return counts, labels
}

// claim is the fleet's claim as `deskfleet lock` would report it: the pull request's number, 0 none.
func (g *ghTeam) claim(t *testing.T) int {
	t.Helper()
	res := runBin(t, g.dir, []string{"DESKFLEET_STATE=" + g.state}, "state", "history", "studio (pull-request claim)", "--limit", "1")
	m := regexp.MustCompile(`(?m)^pr-(\d+) +CLAIMED `).FindStringSubmatch(res.stdout)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// commands returns the deskfleet commands run since the last call ("CODE ARGS"), and checks every
// exit code against the recipes' rules.
func (g *ghTeam) commands(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, line := range g.log("deskfleet.log") {
		if line == "" {
			continue
		}
		code, args, _ := strings.Cut(line, "\t")
		out = append(out, code+" "+args)
		n, _ := strconv.Atoi(code)
		if !exitAllowed(strings.Fields(args), n) {
			t.Errorf("`deskfleet %s` exited %s, which the recipes do not handle (recipeExitRules)", args, code)
		}
	}
	return out
}

// relabel gives the design desktops label in spec.
func relabel(spec, label string) string {
	if !designLabel.MatchString(spec) {
		panic("examples/studio/fleet.yaml changed: the test cannot relabel the design desktops")
	}
	return designLabel.ReplaceAllString(spec, "    label: "+label+"\n")
}

var designLabel = regexp.MustCompile(`(?m)^    label: design\S*\n`)

func contains(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

func mustJob(t *testing.T, jobs map[string]*ghJob, name string, failed bool, reason string) *ghJob {
	t.Helper()
	j := jobs[name]
	if j == nil || !j.ran || j.failed != failed {
		log := ""
		if j != nil {
			log = j.log()
		}
		t.Fatalf("%s: job %s ran=%v failed=%v, want ran, failed=%v\n%s", reason, name, j != nil && j.ran, j != nil && j.failed, failed, log)
	}
	return j
}

// TestGitOpsReviewedPlanMerges: (a) the plan of a pull request's last commit is kept and applied as it
// was reviewed at its merge, which ends the claim; (b) when main moved or the live fleet changed
// between the review and the merge, the apply plans again, posts that plan and applies nothing, and
// a `deskfleet apply` comment by a writer applies the plan posted.
func TestGitOpsReviewedPlanMerges(t *testing.T) {
	t.Parallel()
	g := newGHTeam(t)

	// #1 creates the fleet. Its plan is posted once and updated in place on the next push.
	g.open(1, "ana", "c1")
	mustJob(t, g.plan(1, "opened", g.main), "plan", false, "the first plan of #1")
	g.plan(1, "synchronize", g.main)
	if c := g.comments(1); len(c) != 1 || !strings.Contains(c[0], "<!-- deskfleet-plan:studio -->") || !strings.Contains(c[0], "design_004") {
		t.Fatalf("#1 has %d comments, want one plan comment updated in place:\n%s", len(c), strings.Join(c, "\n----\n"))
	}
	if _, ok := g.artifacts["deskfleet-plan-pr1-"+sha("c1")]; !ok || g.claim(t) != 1 {
		t.Fatalf("after the plan: artifacts %v, claim #%d; want the plan of #1's head kept and the fleet claimed by #1", slices.Collect(mapsKeys(g.artifacts)), g.claim(t))
	}
	g.commands(t)
	j := mustJob(t, g.merge(1, g.main), "apply", false, "the merge of #1 applies its reviewed plan")
	if cmds := g.commands(t); !contains(cmds, "0 apply --pr 1 --auto-approve reviewed/plan.bin") || contains(cmds, " plan ") {
		t.Errorf("the apply of #1 must apply the downloaded plan as it is, planning nothing: %q\n%s", cmds, j.log())
	}
	if live, _ := g.live(t); live["review"] != 1 || live["design_004"] != 1 || g.claim(t) != 0 {
		t.Fatalf("after #1's merge: live %v, claim #%d; want the studio fleet and no claim", live, g.claim(t))
	}

	for _, tc := range []struct {
		name, reason string
		n            int
		move         func(spec string) string // main at the merge, from the pull request's spec (nil: as reviewed)
		console      bool                     // a label changed in the console between review and merge
		want         string                   // what the "not applied" comment names
	}{
		{"main moved", "another change reached main after the review: the spec is not the reviewed one",
			2, func(spec string) string { return strings.Replace(spec, `power: "off"`, `power: "on"`, 1) }, false, "the spec changed"},
		{"live changed", "a desktop was relabelled in the console after the review",
			3, nil, true, "changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := relabel(g.main, "design-"+tc.name[:4])
			g.open(tc.n, "bo", fmt.Sprintf("c%d", tc.n))
			mustJob(t, g.plan(tc.n, "opened", spec), "plan", false, "the plan of #"+strconv.Itoa(tc.n))
			merged := spec
			if tc.move != nil {
				merged = tc.move(spec)
			}
			if tc.console {
				s, err := sim.New(sim.Options{DataFile: g.cloud})
				must(t, err)
				d, _ := s.DesktopByName("review")
				must(t, s.ConsoleSetLabel(d.ID, "tmp"))
				must(t, s.Close())
			}
			g.commands(t)
			_, before := g.live(t)
			j := g.merge(tc.n, merged)
			apply := mustJob(t, j, "apply", true, tc.reason+": the apply job fails, visibly")
			if s := apply.step("Apply the reviewed plan"); s == nil || s.code != exitStalePlan {
				t.Fatalf("%s: the apply step must end with 7:\n%s", tc.reason, apply.log())
			}
			cmds := g.commands(t)
			if !contains(cmds, fmt.Sprintf("7 apply --pr %d", tc.n)) || !contains(cmds, "plan -f fleet --format markdown --out replan/plan.bin") ||
				!contains(cmds, fmt.Sprintf("0 unlock -f fleet --pr %d", tc.n)) {
				t.Errorf("%s: want the reviewed plan refused (7), a new plan, the claim ended: %q", tc.reason, cmds)
			}
			if _, labels := g.live(t); labels["design"] != before["design"] {
				t.Errorf("%s: the stale plan was applied (design is labelled %q)", tc.reason, labels["design"])
			}
			c := g.comments(tc.n)
			if last := c[len(c)-1]; !strings.Contains(last, "did not apply this merge") || !strings.Contains(last, tc.want) ||
				!strings.Contains(last, "comment `deskfleet apply`") {
				t.Fatalf("%s: the pull request is not told, with the new plan:\n%s", tc.reason, last)
			}
			if _, ok := g.artifacts[fmt.Sprintf("deskfleet-replan-pr%d", tc.n)]; !ok {
				t.Fatalf("%s: the plan made again is not kept", tc.reason)
			}

			// A triager's `deskfleet apply` is refused; a writer's starts the apply, which applies the
			// plan posted (checked again), and main is in force.
			for _, who := range []string{"triager", "lead"} {
				g.run("deskfleet-comment.yml", ghEvent{name: "issue_comment", payload: map[string]any{
					"issue":      map[string]any{"number": tc.n, "pull_request": map[string]any{}},
					"comment":    map[string]any{"body": "deskfleet apply\n", "user": map[string]any{"login": who}},
					"repository": map[string]any{"default_branch": "main"}}})
			}
			writes := g.log("writes.log")
			dispatched := fmt.Sprintf(`POST repos/%s/actions/workflows/deskfleet-apply.yml/dispatches {"ref":"main","inputs":{"pr":"%d"}}`, fakeRepo, tc.n)
			if !slices.Contains(writes, dispatched) || strings.Count(strings.Join(writes, "\n"), "/dispatches") != 1 {
				t.Fatalf("the writer's comment must start exactly one apply, the triager's none: %q", writes)
			}
			if c := g.comments(tc.n); !strings.Contains(c[len(c)-2], "needs write access") {
				t.Errorf("the triager is not told why nothing ran: %q", c[len(c)-2])
			}
			mustJob(t, g.run("deskfleet-apply.yml", ghEvent{name: "workflow_dispatch", sha: sha("main"), tree: tree(g.main),
				payload: map[string]any{"inputs": map[string]any{"pr": strconv.Itoa(tc.n)}}}), "apply", false, "the commented apply")
			if cmds := g.commands(t); !contains(cmds, fmt.Sprintf("0 apply --pr %d --auto-approve reviewed/plan.bin", tc.n)) {
				t.Errorf("the commented apply must apply the plan posted: %q", cmds)
			}
			if _, labels := g.live(t); labels["design"] != "design-"+tc.name[:4] {
				t.Errorf("after the commented apply design is labelled %q", labels["design"])
			}
			if res := runBin(t, g.dir, []string{"DESKFLEET_STATE=" + g.state, "DESKFLEET_ENDPOINT=sim:" + g.cloud}, "plan",
				"-f", writeSpec(t, g.main), "--detailed-exitcode"); res.code != exitOK {
				t.Errorf("plan again: want no changes, exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
		})
	}
}

// writeSpec writes spec to a folder of its own and returns the folder.
func writeSpec(t *testing.T, spec string) string {
	dir := filepath.Join(t.TempDir(), "fleet")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(spec), 0o644))
	return dir
}

func mapsKeys[V any](m map[string]V) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestGitOpsClaim: (c) a pull request's plan claims the fleet; a second pull request of the same fleet
// is refused naming the first, and says so on itself; closing the first ends its claim and the second
// plans.
func TestGitOpsClaim(t *testing.T) {
	t.Parallel()
	g := newGHTeam(t)
	g.open(4, "ana", "c4")
	mustJob(t, g.plan(4, "opened", relabel(g.main, "design-4")), "plan", false, "#4 plans first")
	g.open(5, "bo", "c5")
	jobs := g.plan(5, "opened", relabel(g.main, "design-5"))
	j := mustJob(t, jobs, "plan", true, "#5 of the same fleet is refused")
	if s := j.step("Claim the fleet for this pull request"); s == nil || s.code != exitLockHeld {
		t.Fatalf("the claim step must end with 4:\n%s", j.log())
	}
	if s := j.step("Plan"); s.ran {
		t.Error("#5 was planned although #4 claims the fleet")
	}
	c := g.comments(5)
	if len(c) != 1 || !strings.Contains(c[0], "fleet studio is claimed by pull request #4 (ana, c400000)") {
		t.Fatalf("#5 must be told who claims the fleet: %q", c)
	}
	if _, ok := g.artifacts["deskfleet-plan-pr5-"+sha("c5")]; ok {
		t.Error("a refused pull request's plan was kept: its merge would apply it")
	}
	g.commands(t)

	// #4 closes without merging: its claim ends; #5 plans.
	jobs = g.run("deskfleet-plan.yml", ghEvent{name: "pull_request", sha: sha("c4"), tree: tree(g.main),
		payload: map[string]any{"action": "closed", "pull_request": map[string]any{"number": 4, "merged": false}}})
	mustJob(t, jobs, "release", false, "closing #4 ends its claim")
	if jobs["plan"].ran || g.claim(t) != 0 {
		t.Fatalf("after #4 closed: plan ran %v, claim #%d", jobs["plan"].ran, g.claim(t))
	}
	mustJob(t, g.plan(5, "synchronize", relabel(g.main, "design-5")), "plan", false, "#5 plans once #4 closed")
	if g.claim(t) != 5 {
		t.Errorf("claim #%d, want #5", g.claim(t))
	}
	// The merge of #5 applies and ends the claim; a merged pull request's close runs no release.
	mustJob(t, g.merge(5, relabel(g.main, "design-5")), "apply", false, "#5 merges")
	if g.claim(t) != 0 {
		t.Errorf("after #5's merge: claim #%d", g.claim(t))
	}
	jobs = g.run("deskfleet-plan.yml", ghEvent{name: "pull_request", sha: sha("c5"), tree: tree(g.main),
		payload: map[string]any{"action": "closed", "pull_request": map[string]any{"number": 5, "merged": true}}})
	if jobs["release"].ran || jobs["plan"].ran {
		t.Error("closing a merged pull request ran a job")
	}
	g.commands(t)
}

// TestGitOpsBlockedDeletion: (d) a deletion is applied only with an approving review, of the commit
// planned, by the approvers' team; the label and a non-team approval do nothing. Without the team's
// approval the deletion is held back (the rest of the plan merges), and a deletion whose approval was
// dismissed after the plan is blocked at the merge (exit 5) without holding up the next pull request.
func TestGitOpsBlockedDeletion(t *testing.T) {
	t.Parallel()
	g := newGHTeam(t)
	g.open(1, "ana", "c1")
	g.plan(1, "opened", g.main)
	mustJob(t, g.merge(1, g.main), "apply", false, "the fleet is created")
	g.commands(t)
	noReview := removeReview(t, g.main)

	steps := []struct {
		name, reason string
		n            int
		spec         func() string
		reviews      [][2]string // before the plan: user, state
		after        [][2]string // after the plan, before the merge
		wantHeld     bool        // the plan comment holds the deletion back
		wantApply    int         // the apply step's exit code
		wantReview   int         // live desktops named review after the merge
		wantLabel    string      // design's label after the merge
	}{
		{"label only", "the old label, which anyone with triage rights sets, does not approve a deletion: held back, the rest merges",
			6, func() string { return relabel(noReview, "design-6") }, nil, nil, true, exitOK, 1, "design-6"},
		{"unrelated after", "the next pull request, unrelated, plans and merges: the held-back deletion holds up nothing",
			7, func() string { return relabel(noReview, "design-7") }, nil, nil, true, exitOK, 1, "design-7"},
		{"non-team approval", "an approval by someone outside the team does not count",
			8, func() string { return relabel(noReview, "design-8") }, [][2]string{{"triager", "APPROVED"}}, nil, true, exitOK, 1, "design-8"},
		{"approval dismissed", "approved at plan time, dismissed before the merge: the merge is blocked (5), nothing changes",
			9, func() string { return relabel(noReview, "design-9") }, [][2]string{{"lead", "APPROVED"}}, [][2]string{{"lead", "DISMISSED"}},
			false, exitGuard, 1, "design-8"},
		{"unrelated after a block", "the block was #9's: the next pull request merges",
			10, func() string { return relabel(noReview, "design-10") }, nil, nil, true, exitOK, 1, "design-10"},
		{"team approval", "an approval of the planned commit by the team deletes the desktop",
			11, func() string { return relabel(noReview, "design-11") }, [][2]string{{"triager", "APPROVED"}, {"lead", "APPROVED"}}, nil,
			false, exitOK, 0, "design-11"},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			spec := st.spec()
			g.open(st.n, "bo", fmt.Sprintf("c%d", st.n))
			for _, r := range st.reviews {
				g.review(st.n, r[0], r[1])
			}
			mustJob(t, g.plan(st.n, "opened", spec), "plan", false, st.reason+": the plan")
			c := g.comments(st.n)
			if held := strings.Contains(c[0], "**Held back**: `review`"); held != st.wantHeld {
				t.Fatalf("%s: the plan comment holds review back: %v, want %v\n%s", st.reason, held, st.wantHeld, c[0])
			}
			if !st.wantHeld && !strings.Contains(c[0], "Approved by lead") {
				t.Errorf("%s: the comment does not say who approved:\n%s", st.reason, c[0])
			}
			for _, r := range st.after {
				g.review(st.n, r[0], r[1])
			}
			j := g.merge(st.n, spec)
			apply := mustJob(t, j, "apply", st.wantApply != exitOK, st.reason)
			if s := apply.step("Apply the reviewed plan"); s.code != st.wantApply {
				t.Fatalf("%s: apply step exit %d, want %d\n%s", st.reason, s.code, st.wantApply, apply.log())
			}
			cmds := g.commands(t)
			destructive := contains(cmds, "--allow-delete")
			if destructive != (st.name == "team approval") {
				t.Errorf("%s: destructive flags passed: %v (%q)", st.reason, destructive, cmds)
			}
			if live, labels := g.live(t); live["review"] != st.wantReview || labels["design"] != st.wantLabel {
				t.Errorf("%s: review desktops %d, design labelled %q; want %d, %q", st.reason, live["review"], labels["design"], st.wantReview, st.wantLabel)
			}
			if g.claim(t) != 0 {
				t.Errorf("%s: the merge left the claim of #%d", st.reason, g.claim(t))
			}
			if st.wantApply == exitGuard {
				c := g.comments(st.n)
				if !strings.Contains(c[len(c)-1], "did not apply this merge") || !strings.Contains(c[len(c)-1], "@"+approversTeam) {
					t.Errorf("%s: the pull request is not told why:\n%s", st.reason, c[len(c)-1])
				}
			}
		})
		if !ok {
			t.FailNow()
		}
	}
	if res := runBin(t, g.dir, []string{"DESKFLEET_STATE=" + g.state, "DESKFLEET_ENDPOINT=sim:" + g.cloud}, "plan",
		"-f", writeSpec(t, g.main), "--detailed-exitcode"); res.code != exitOK {
		t.Errorf("plan again: want no changes, exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// glTeam drives the GitLab recipe as ghTeam drives the GitHub ones.
type glTeam struct {
	*ghTeam
	projectVars map[string]string
}

func newGLTeam(t *testing.T) *glTeam {
	g := &glTeam{ghTeam: newGHTeam(t), projectVars: map[string]string{"DESKFLEET_APPROVERS_GROUP": approversTeam}}
	g.put("groups/acme%2Ffleet-admins/members/all/7", map[string]any{"id": 7, "username": "lead"})
	g.put("projects/"+glProject+"/issues", []any{})
	g.put("projects/"+glProject+"/merge_requests?state=closed&order_by=updated_at&per_page=100", []any{})
	return g
}

func (g *glTeam) mrPath(n int) string {
	return fmt.Sprintf("projects/%s/merge_requests/%d", glProject, n)
}

func (g *glTeam) openMR(n int, author, head string) {
	g.put(g.mrPath(n), map[string]any{"iid": n, "sha": sha(head), "state": "opened", "author": map[string]any{"username": author}})
	g.put(g.mrPath(n)+"/notes", []any{})
	g.put(g.mrPath(n)+"/approvals", map[string]any{"approved_by": []any{}})
}

func (g *glTeam) approve(n int, id int, user string) {
	a := g.get(g.mrPath(n) + "/approvals").(map[string]any)
	a["approved_by"] = append(a["approved_by"].([]any), map[string]any{"user": map[string]any{"id": id, "username": user}})
	g.put(g.mrPath(n)+"/approvals", a)
}

func (g *glTeam) planMR(n int, spec string) map[string]*ghJob {
	mr := g.get(g.mrPath(n)).(map[string]any)
	return g.runGitLab(glPipeline{source: "merge_request_event", sha: mr["sha"].(string), mr: n, tree: tree(spec)}, g.projectVars)
}

func (g *glTeam) mergeMR(n int, spec string) map[string]*ghJob {
	mr := g.get(g.mrPath(n)).(map[string]any)
	mr["state"] = "merged"
	g.put(g.mrPath(n), mr)
	commit := sha(fmt.Sprintf("merge%d", n))
	g.put(fmt.Sprintf("projects/%s/repository/commits/%s/merge_requests", glProject, commit), []any{mr})
	g.main = spec
	return g.runGitLab(glPipeline{source: "push", sha: commit, branch: "main", tree: tree(spec)}, g.projectVars)
}

func (g *glTeam) notes(n int) []string {
	var out []string
	list, _ := g.get(g.mrPath(n) + "/notes").([]any)
	for _, c := range list {
		out = append(out, c.(map[string]any)["body"].(string))
	}
	return out
}

// TestGitOpsGitLab runs the GitLab recipe through the same story: (a) the merge request's saved plan
// is applied at its merge, deskfleet built once and cached; (c) a second merge request of the fleet is
// refused naming the first, whose close (seen by the schedule) ends its claim; (b) a merge whose plan
// went stale is planned again, said, and applied by hand from a pipeline with DESKFLEET_APPLY_MR after
// its plan was read; (d) a deletion is held back without a group member's approval, and applied with
// one, a non-member's approval counting for nothing.
func TestGitOpsGitLab(t *testing.T) {
	t.Parallel()
	g := newGLTeam(t)
	g.openMR(1, "ana", "c1")
	mustJob(t, g.planMR(1, g.main), "deskfleet-plan", false, "the plan of !1")
	mustJob(t, g.planMR(1, g.main), "deskfleet-plan", false, "the plan of !1 again")
	if n := g.notes(1); len(n) != 1 || !strings.Contains(n[0], "<!-- deskfleet-plan:studio -->") {
		t.Fatalf("!1 has %d notes, want one plan note updated in place: %q", len(n), n)
	}
	g.commands(t)
	jobs := g.mergeMR(1, g.main)
	mustJob(t, jobs, "deskfleet-apply", false, "the merge of !1 applies its saved plan")
	if jobs["deskfleet-plan"].ran || jobs["deskfleet-drift"].ran {
		t.Error("a push pipeline ran plan or drift")
	}
	if cmds := g.commands(t); !contains(cmds, "0 apply --pr 1 --auto-approve reviewed/plan.bin") || contains(cmds, " plan ") {
		t.Errorf("the apply of !1 must apply the fetched plan, planning nothing: %q", cmds)
	}
	if live, _ := g.live(t); live["review"] != 1 || g.claim(t) != 0 {
		t.Fatalf("after !1's merge: live %v, claim #%d", live, g.claim(t))
	}
	if installs := g.log("go-install.log"); len(installs) != 1 {
		t.Errorf("deskfleet was built %d times in 3 jobs, want once (the cache): %q", len(installs), installs)
	}

	t.Run("claim", func(t *testing.T) {
		g.openMR(2, "ana", "c2")
		mustJob(t, g.planMR(2, relabel(g.main, "design-2")), "deskfleet-plan", false, "!2 claims")
		g.openMR(3, "bo", "c3")
		mustJob(t, g.planMR(3, relabel(g.main, "design-3")), "deskfleet-plan", true, "!3 is refused")
		if n := g.notes(3); len(n) != 1 || !strings.Contains(n[0], "fleet studio is claimed by pull request #2 (ana, c200000)") {
			t.Fatalf("!3 must be told who claims the fleet: %q", n)
		}
		mr := g.get(g.mrPath(2)).(map[string]any)
		mr["state"] = "closed"
		g.put(g.mrPath(2), mr)
		g.put("projects/"+glProject+"/merge_requests?state=closed&order_by=updated_at&per_page=100", []any{mr})
		jobs := g.runGitLab(glPipeline{source: "schedule", sha: sha("main"), branch: "main", tree: tree(g.main)}, g.projectVars)
		mustJob(t, jobs, "deskfleet-release", false, "the schedule ends the claims of closed merge requests")
		mustJob(t, jobs, "deskfleet-drift", false, "the schedule checks drift")
		if g.claim(t) != 0 {
			t.Fatalf("after !2 closed and the schedule ran: claim #%d", g.claim(t))
		}
		mustJob(t, g.planMR(3, relabel(g.main, "design-3")), "deskfleet-plan", false, "!3 plans once !2 closed")
		g.commands(t)
	})

	t.Run("stale", func(t *testing.T) {
		s, err := sim.New(sim.Options{DataFile: g.cloud})
		must(t, err)
		d, _ := s.DesktopByName("review")
		must(t, s.ConsoleSetLabel(d.ID, "tmp"))
		must(t, s.Close())
		spec := relabel(g.main, "design-3")
		apply := mustJob(t, g.mergeMR(3, spec), "deskfleet-apply", true, "a stale plan is not applied")
		if !strings.Contains(apply.log(), "exit=7") && apply.steps[0].code != exitStalePlan {
			t.Fatalf("the apply job must end with 7:\n%s", apply.log())
		}
		if _, labels := g.live(t); labels["design"] != "design" {
			t.Fatalf("the stale plan was applied: design is labelled %q", labels["design"])
		}
		n := g.notes(3)
		if last := n[len(n)-1]; !strings.Contains(last, "did not apply this merge") || !strings.Contains(last, "DESKFLEET_APPLY_MR=3") {
			t.Fatalf("!3 is not told:\n%s", last)
		}
		g.commands(t)
		// Run pipeline with DESKFLEET_APPLY_MR=3: the plan first; the apply waits for a person.
		run := glPipeline{source: "web", sha: sha("main"), branch: "main", tree: tree(g.main), vars: map[string]string{"DESKFLEET_APPLY_MR": "3"}}
		jobs := g.runGitLab(run, g.projectVars)
		mustJob(t, jobs, "deskfleet-replan", false, "the plan to read")
		if jobs["deskfleet-apply"].ran || jobs["deskfleet-drift"].ran {
			t.Fatal("the manual apply ran unplayed, or drift ran")
		}
		run.play = []string{"deskfleet-apply"}
		jobs = g.runGitLab(run, g.projectVars)
		mustJob(t, jobs, "deskfleet-apply", false, "the played apply applies the plan of its pipeline")
		if cmds := g.commands(t); !contains(cmds, "0 apply --pr 3 --auto-approve reviewed/plan.bin") {
			t.Errorf("want the replanned plan applied: %q", cmds)
		}
		if _, labels := g.live(t); labels["design"] != "design-3" || labels["review"] != "" {
			t.Errorf("after the manual apply: labels %v", labels)
		}
	})

	t.Run("blocked deletion", func(t *testing.T) {
		spec := relabel(removeReview(t, g.main), "design-4")
		g.openMR(4, "bo", "c4")
		g.approve(4, 9, "triager") // not in the group
		mustJob(t, g.planMR(4, spec), "deskfleet-plan", false, "!4 plans")
		if n := g.notes(4); !strings.Contains(n[0], "**Held back**: `review`") {
			t.Fatalf("!4's note must hold the deletion back:\n%s", n[0])
		}
		mustJob(t, g.mergeMR(4, spec), "deskfleet-apply", false, "!4 merges without the deletion")
		if live, labels := g.live(t); live["review"] != 1 || labels["design"] != "design-4" {
			t.Fatalf("after !4: review %d, design %q; want the deletion held back and the label applied", live["review"], labels["design"])
		}
		spec = relabel(spec, "design-5")
		g.openMR(5, "bo", "c5")
		g.approve(5, 7, "lead")
		mustJob(t, g.planMR(5, spec), "deskfleet-plan", false, "!5 plans")
		if n := g.notes(5); !strings.Contains(n[0], "approved by lead") {
			t.Fatalf("!5's note must say who approved:\n%s", n[0])
		}
		mustJob(t, g.mergeMR(5, spec), "deskfleet-apply", false, "!5 merges with the deletion")
		if live, _ := g.live(t); live["review"] != 0 {
			t.Fatalf("after !5 (approved by a group member) review is still there")
		}
		g.commands(t)
		if res := runBin(t, g.dir, []string{"DESKFLEET_STATE=" + g.state, "DESKFLEET_ENDPOINT=sim:" + g.cloud}, "plan",
			"-f", writeSpec(t, g.main), "--detailed-exitcode"); res.code != exitOK {
			t.Errorf("plan again: want no changes, exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
	})
}

// TestGitOpsDrift: the drift recipes open one issue when a value changed in the console (exit 6),
// update it on the next run, and close it once the fleet is back in line (exit 0).
func TestGitOpsDrift(t *testing.T) {
	t.Parallel()
	g := newGHTeam(t)
	g.open(1, "ana", "c1")
	g.plan(1, "opened", g.main)
	mustJob(t, g.merge(1, g.main), "apply", false, "the fleet is created")
	g.put("repos/"+fakeRepo+"/issues", []any{})
	g.log("writes.log") // the pull request's comments
	drift := func() *ghJob {
		return g.run("deskfleet-drift.yml", ghEvent{name: "schedule", sha: sha("main"), tree: tree(g.main)})["drift"]
	}
	if j := drift(); j.failed || len(g.log("writes.log")) != 0 {
		t.Fatalf("no drift: the job must pass and write nothing\n%s", j.log())
	}
	s, err := sim.New(sim.Options{DataFile: g.cloud})
	must(t, err)
	d, _ := s.DesktopByName("design_001")
	must(t, s.ConsoleSetLabel(d.ID, "tmp"))
	must(t, s.Close())
	if j := drift(); j.failed {
		t.Fatalf("drift found must not fail the job:\n%s", j.log())
	}
	writes := g.log("writes.log")
	if len(writes) != 1 || !strings.HasPrefix(writes[0], "POST repos/"+fakeRepo+"/issues ") || !strings.Contains(writes[0], `"title":"deskfleet drift: studio"`) ||
		!strings.Contains(writes[0], "design_001") {
		t.Fatalf("drift found: want one issue opened naming design_001, got %q", writes)
	}
	// The open issue, as GitHub lists it: the next run with drift updates it, the run after the
	// apply closes it.
	g.put("repos/"+fakeRepo+"/issues", []any{map[string]any{"number": 31, "body": "...\n<!-- deskfleet-drift:studio -->\n"}})
	drift()
	if w := g.log("writes.log"); len(w) != 1 || !strings.HasPrefix(w[0], "PATCH repos/"+fakeRepo+"/issues/31 ") {
		t.Errorf("drift again: want issue 31 updated, got %q", w)
	}
	res := runBin(t, g.dir, []string{"DESKFLEET_STATE=" + g.state, "DESKFLEET_ENDPOINT=sim:" + g.cloud}, "apply", "-f", writeSpec(t, g.main), "--auto-approve")
	if res.code != exitOK {
		t.Fatalf("apply by hand: %d\n%s", res.code, res.stderr)
	}
	drift()
	w := g.log("writes.log")
	if len(w) != 2 || !strings.HasPrefix(w[0], "POST repos/"+fakeRepo+"/issues/31/comments ") || !strings.Contains(w[1], `"state":"closed"`) {
		t.Errorf("no drift any more: want issue 31 commented and closed, got %q", w)
	}
}

// TestGitOpsPower: the scheduled power recipe starts and stops desktops as the spec wants and
// changes nothing else: review (spec: off) started in the console is stopped again, and a label
// changed in the console stays for the next full apply.
func TestGitOpsPower(t *testing.T) {
	t.Parallel()
	g := newGHTeam(t)
	g.open(1, "ana", "c1")
	g.plan(1, "opened", g.main)
	mustJob(t, g.merge(1, g.main), "apply", false, "the fleet is created")
	s, err := sim.New(sim.Options{DataFile: g.cloud})
	must(t, err)
	review, _ := s.DesktopByName("review")
	design, _ := s.DesktopByName("design_001")
	must(t, s.ConsolePower(review.ID, true))
	must(t, s.ConsoleSetLabel(design.ID, "tmp"))
	must(t, s.Close())
	j := g.run("deskfleet-power.yml", ghEvent{name: "schedule", sha: sha("main"), tree: tree(g.main)})["power"]
	if j == nil || j.failed {
		t.Fatalf("the power job must pass:\n%v", j)
	}
	s, err = sim.New(sim.Options{DataFile: g.cloud})
	must(t, err)
	defer s.Close()
	review, _ = s.DesktopByName("review")
	design, _ = s.DesktopByName("design_001")
	if review.Status != sim.StatusStopped {
		t.Errorf("review is %s after the power job, want stopped (its spec says off)", review.Status)
	}
	if design.Label != "tmp" {
		t.Errorf("design_001's label is %q: a power-only job changed a label", design.Label)
	}
}
