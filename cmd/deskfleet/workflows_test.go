package main

// Tests of the CI recipes in examples/ci (GitHub Actions workflows and a GitLab CI file), read as
// they are written: what each kind of job must say and do (secrets only from the secret store, the
// comment marker, the claim, approvals instead of a label, the exit codes each deskfleet command can
// end with tested by the script around it). The recipes' jobs run end to end, under bash against the
// emulator and a fake forge, in workflows_gitops_test.go (runners: ghrun_test.go, glrun_test.go).
//
// The scripts are parsed with mvdan.cc/sh/v3/syntax and the deskfleet commands' words expanded with
// mvdan.cc/sh/v3/expand (parseShell, shConfig); TestWorkflowShellModel checks what is taken from them.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine/fleets"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// recipesDir holds the CI recipes, one folder per CI system.
const recipesDir = "../../examples/ci"

// What an approval unlocks. The apply recipes pass $guardFlagsVar to apply: empty, or the value of
// destructiveFlagsVar when the team (or a code owner, or the GitLab group) approved. The label the
// first recipes used, which anyone with triage rights can set, must not appear any more.
const (
	destructiveFlagsVar = "DESKFLEET_DESTRUCTIVE_FLAGS"
	guardFlagsVar       = "GUARD_FLAGS"
	oldLabel            = "deskfleet:allow-destructive"
)

// destructiveFlags are the flags an approval adds, and only those: never --force.
var destructiveFlags = []string{"--allow-delete", "--allow-replace", "--allow-rebuild", "--allow-prepay"}

// credentialVars must come from the CI system's secret store, never from the recipe's text.
var credentialVars = []string{"CDS_SECRET_ID", "CDS_SECRET_KEY", "DESKFLEET_STATE"}

// recipeExit says, per deskfleet subcommand, which exit codes a recipe accepts and must branch on.
type recipeExit struct {
	ok       []int            // codes the job goes on after
	withFlag map[string][]int // more codes accepted when the command has the flag
	branch   []int            // codes the recipe's script must test for explicitly (besides ok's non-zero ones)
	reason   string
}

var recipeExitRules = map[string]recipeExit{
	"version": {ok: []int{exitOK},
		reason: "prints what was installed; anything else is a broken install"},
	"validate": {ok: []int{exitOK},
		reason: "1 (an invalid spec) fails the job on purpose, and the example is valid"},
	"plan": {ok: []int{exitOK}, withFlag: map[string][]int{"--detailed-exitcode": {exitChanges}},
		reason: "0 is a plan; with --detailed-exitcode, 2 is a plan with changes, which the recipe must test for and post like 0; 1 fails the job"},
	"apply": {ok: []int{exitOK}, branch: []int{exitGuard, exitStalePlan},
		reason: "0 applied; every other code fails the job, and the recipe must test for 5 (blocked: tell the pull request) and 7 (not the reviewed plan: plan again, tell, apply nothing)"},
	"lock": {ok: []int{exitOK}, branch: []int{exitLockHeld},
		reason: "0 claimed; 4 is another pull request's claim, which the recipe must tell this pull request about"},
	"unlock": {ok: []int{exitOK},
		reason: "ends this pull request's claim; anything else fails the job"},
	"show": {ok: []int{exitOK},
		reason: "prints the plan just saved; anything else is a broken plan file"},
	"drift": {ok: []int{exitOK, exitDrift},
		reason: "0 closes the drift issue and 6 opens or updates it, so the recipe must test for 6; 1 fails the job"},
	"power": {ok: []int{exitOK, int(fleets.ExitPartial)},
		reason: "apply --only power: 0 started and stopped what the schedules want; 3 some desktops could not be, which the next run tries again (the recipe warns); 1 fails the job"},
	"report": {ok: []int{exitOK},
		reason: "0 wrote the page the next step uploads; 1 fails the job"},
}

// ---- recipes -----------------------------------------------------------------------------------

type envVar struct{ name, value string }

// recipe is one workflow file.
type recipe struct {
	path     string // relative to examples/ci, with slashes
	platform string // "github" or "gitlab"
	text     string
	root     *yaml.Node
	env      []envVar // the workflow's env (GitHub) or top-level variables (GitLab), in order, as written
	jobs     []*recipeJob
}

// recipeJob is one job of a recipe, its templates (GitLab extends) resolved.
type recipeJob struct {
	name    string
	node    *yaml.Node
	env     []envVar // the workflow's and the job's, as written
	scripts []*recipeScript
	// text is every script of the job, shell or JavaScript (actions/github-script), for the checks of
	// markers and labels.
	text string
}

// recipeScript is one shell: a GitHub step's run, or a GitLab job's before_script and script.
type recipeScript struct {
	where string
	text  string
	env   []envVar // the step's own env (GitHub)
}

func loadRecipes(t *testing.T) []*recipe {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(recipesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", recipesDir, err)
	}
	if len(paths) == 0 {
		t.Fatalf("no workflow file (*.yml, *.yaml) under %s", recipesDir)
	}
	sort.Strings(paths)
	var out []*recipe
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(recipesDir, p)
		r := &recipe{path: filepath.ToSlash(rel), text: string(b)}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", r.path, err)
		}
		r.root = yamlRoot(&doc)
		switch {
		case strings.HasPrefix(r.path, "github/"):
			r.platform = "github"
			err = parseGitHubRecipe(r)
		case strings.Contains(filepath.Base(p), "gitlab-ci"):
			r.platform = "gitlab"
			err = parseGitLabRecipe(r)
		default:
			err = errors.New("neither under github/ nor a *gitlab-ci* file: the test does not know how to read it")
		}
		if err != nil {
			t.Fatalf("%s: %v", r.path, err)
		}
		out = append(out, r)
	}
	return out
}

func parseGitHubRecipe(r *recipe) error {
	r.env = yamlEnv(yamlGet(r.root, "env"))
	jobs := yamlGet(r.root, "jobs")
	if jobs == nil {
		return errors.New("no jobs")
	}
	for _, jp := range yamlPairs(jobs) {
		job := &recipeJob{name: jp.key, node: jp.val, env: append(slices.Clone(r.env), yamlEnv(yamlGet(jp.val, "env"))...)}
		if yamlGet(yamlGet(jp.val, "defaults"), "run") != nil {
			return fmt.Errorf("job %s: defaults.run is not modelled by this test", jp.key)
		}
		steps := yamlGet(jp.val, "steps")
		if steps == nil {
			continue
		}
		for i, st := range steps.Content {
			name := yamlScalar(yamlGet(st, "name"))
			if name == "" {
				name = fmt.Sprintf("step %d", i+1)
			}
			if run := yamlGet(st, "run"); run != nil {
				if sh := yamlScalar(yamlGet(st, "shell")); sh != "" && sh != "bash" && sh != "sh" {
					return fmt.Errorf("job %s, %s: shell %q is not modelled by this test", jp.key, name, sh)
				}
				if yamlGet(st, "working-directory") != nil {
					return fmt.Errorf("job %s, %s: working-directory is not modelled by this test", jp.key, name)
				}
				job.scripts = append(job.scripts, &recipeScript{where: name, text: run.Value, env: yamlEnv(yamlGet(st, "env"))})
				job.text += run.Value + "\n"
			}
			if s := yamlGet(yamlGet(st, "with"), "script"); s != nil {
				job.text += s.Value + "\n"
			}
		}
		r.jobs = append(r.jobs, job)
	}
	return nil
}

// gitlabReserved are the top-level keys of a GitLab CI file that are not jobs.
var gitlabReserved = map[string]bool{"default": true, "include": true, "stages": true, "variables": true,
	"workflow": true, "image": true, "services": true, "cache": true, "before_script": true, "after_script": true}

func parseGitLabRecipe(r *recipe) error {
	if yamlGet(r.root, "include") != nil {
		return errors.New("include: is not followed by this test; keep the recipe in one file")
	}
	r.env = yamlEnv(yamlGet(r.root, "variables"))
	all := map[string]*yaml.Node{}
	for _, p := range yamlPairs(r.root) {
		all[p.key] = p.val
	}
	def := yamlGet(r.root, "default")
	for _, p := range yamlPairs(r.root) {
		if gitlabReserved[p.key] || strings.HasPrefix(p.key, ".") {
			continue
		}
		merged, err := gitlabResolve(p.val, all, 0)
		if err != nil {
			return fmt.Errorf("job %s: %v", p.key, err)
		}
		job := &recipeJob{name: p.key, node: merged, env: append(slices.Clone(r.env), yamlEnv(yamlGet(merged, "variables"))...)}
		// before_script and script run in one shell; after_script in another.
		inherit := func(key string) *yaml.Node {
			if n := yamlGet(merged, key); n != nil {
				return n
			}
			if n := yamlGet(def, key); n != nil {
				return n
			}
			return yamlGet(r.root, key)
		}
		before, err := gitlabScript(inherit("before_script"))
		if err != nil {
			return fmt.Errorf("job %s: before_script: %v", p.key, err)
		}
		script, err := gitlabScript(yamlGet(merged, "script"))
		if err != nil {
			return fmt.Errorf("job %s: script: %v", p.key, err)
		}
		after, err := gitlabScript(inherit("after_script"))
		if err != nil {
			return fmt.Errorf("job %s: after_script: %v", p.key, err)
		}
		if len(script) == 0 {
			return fmt.Errorf("job %s has no script", p.key)
		}
		job.scripts = append(job.scripts, &recipeScript{where: "before_script and script", text: strings.Join(append(before, script...), "\n")})
		if len(after) > 0 {
			job.scripts = append(job.scripts, &recipeScript{where: "after_script", text: strings.Join(after, "\n")})
		}
		for _, s := range job.scripts {
			job.text += s.text + "\n"
		}
		r.jobs = append(r.jobs, job)
	}
	return nil
}

// gitlabResolve merges a job with the templates it extends, as GitLab does: mappings deeply, anything
// else replaced by the job's own.
func gitlabResolve(job *yaml.Node, all map[string]*yaml.Node, depth int) (*yaml.Node, error) {
	if depth > 10 {
		return nil, errors.New("extends nests too deep")
	}
	merged := &yaml.Node{Kind: yaml.MappingNode}
	if ext := yamlGet(job, "extends"); ext != nil {
		var parents []string
		if ext.Kind == yaml.SequenceNode {
			for _, n := range ext.Content {
				parents = append(parents, n.Value)
			}
		} else {
			parents = []string{ext.Value}
		}
		for _, name := range parents {
			parent, ok := all[name]
			if !ok {
				return nil, fmt.Errorf("extends unknown %q", name)
			}
			resolved, err := gitlabResolve(parent, all, depth+1)
			if err != nil {
				return nil, err
			}
			merged = yamlMerge(merged, resolved)
		}
	}
	own := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range yamlPairs(job) {
		if p.key != "extends" {
			own.Content = append(own.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p.key}, p.val)
		}
	}
	return yamlMerge(merged, own), nil
}

func gitlabScript(n *yaml.Node) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!reference" {
			return nil, errors.New("!reference is not modelled by this test")
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		if n.Tag == "!reference" {
			return nil, errors.New("!reference is not modelled by this test")
		}
		var out []string
		for _, c := range n.Content {
			lines, err := gitlabScript(c)
			if err != nil {
				return nil, err
			}
			out = append(out, lines...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("a script is a string or a list of strings, not a YAML kind %d", n.Kind)
}

// deskfleetCommands parses the job's shell scripts and returns the deskfleet commands in them, each
// with the subcommand (its first argument as written) and the text of the script around it.
func (j *recipeJob) deskfleetCommands(t *testing.T) []jobCommand {
	t.Helper()
	var out []jobCommand
	for _, s := range j.scripts {
		cmds, err := parseShell(s.text)
		if err != nil {
			t.Fatalf("job %s, %s: parsing the shell: %v", j.name, s.where, err)
		}
		for _, c := range cmds {
			if c.invokesDeskfleet() {
				sub := ""
				if len(c.argv) > 1 {
					sub = c.argv[1]
				}
				jc := jobCommand{cmd: c, sub: sub, script: s}
				if sub == "apply" && jc.hasFlag("--only") {
					jc.sub = "power" // apply --only power: a scheduled job that starts and stops desktops only
				}
				out = append(out, jc)
			}
		}
	}
	return out
}

type jobCommand struct {
	cmd    *shCommand
	sub    string
	script *recipeScript
}

// hasFlag reports whether the command line, as written, has the flag.
func (c jobCommand) hasFlag(flag string) bool {
	for _, w := range c.cmd.argv[1:] {
		if w == flag || strings.HasPrefix(w, flag+"=") {
			return true
		}
	}
	return false
}

// kinds says what a job is, from the deskfleet commands it runs: it plans for a review (it claims the
// fleet for a pull request: deskfleet lock), it applies, or it checks drift.
func (j *recipeJob) kinds(t *testing.T) (plans, applies, drifts bool) {
	for _, c := range j.deskfleetCommands(t) {
		switch c.sub {
		case "power":
			if !strings.Contains(c.cmd.raw, "--only power") || !c.hasFlag("--auto-approve") || c.hasFlag("--pr") ||
				strings.Contains(c.cmd.raw, "$"+guardFlagsVar) || strings.HasSuffix(c.cmd.argv[len(c.cmd.argv)-1], ".bin") {
				t.Errorf("job %s: `%s`: a scheduled power job runs `apply --only power --auto-approve` on the spec, never with --pr, guard flags or a saved plan", j.name, c.cmd.raw)
			}
		case "lock":
			plans = true
		case "apply":
			applies = true
		case "drift":
			drifts = true
		}
	}
	return plans, applies, drifts
}

// envValue is the value the recipe gives a variable in the job's env (the last one written).
func (j *recipeJob) envValue(name string) (string, bool) {
	v, ok := "", false
	for _, e := range j.env {
		if e.name == name {
			v, ok = e.value, true
		}
	}
	return v, ok
}

// ---- YAML helpers ------------------------------------------------------------------------------

type yamlPair struct {
	key string
	val *yaml.Node
}

func yamlRoot(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

func yamlDeref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func yamlPairs(m *yaml.Node) []yamlPair {
	m = yamlDeref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out []yamlPair
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, yamlPair{m.Content[i].Value, yamlDeref(m.Content[i+1])})
	}
	return out
}

func yamlGet(m *yaml.Node, key string) *yaml.Node {
	for _, p := range yamlPairs(m) {
		if p.key == key {
			return p.val
		}
	}
	return nil
}

func yamlScalar(n *yaml.Node) string {
	if n = yamlDeref(n); n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// yamlEnv reads an env: or variables: mapping; a GitLab variable may be {value: ..., description: ...}.
func yamlEnv(m *yaml.Node) []envVar {
	var out []envVar
	for _, p := range yamlPairs(m) {
		v := p.val
		if v.Kind == yaml.MappingNode {
			v = yamlGet(v, "value")
		}
		out = append(out, envVar{p.key, yamlScalar(v)})
	}
	return out
}

// yamlMerge returns a merged with b over it: mappings merged key by key, anything else replaced.
func yamlMerge(a, b *yaml.Node) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode}
	index := map[string]int{}
	for _, p := range yamlPairs(a) {
		index[p.key] = len(out.Content) + 1
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p.key}, p.val)
	}
	for _, p := range yamlPairs(b) {
		i, ok := index[p.key]
		switch {
		case !ok:
			index[p.key] = len(out.Content) + 1
			out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p.key}, p.val)
		case out.Content[i].Kind == yaml.MappingNode && p.val.Kind == yaml.MappingNode:
			out.Content[i] = yamlMerge(out.Content[i], p.val)
		default:
			out.Content[i] = p.val
		}
	}
	return out
}

// ---- the shell ---------------------------------------------------------------------------------

// The scripts are parsed by mvdan.cc/sh/v3/syntax (bash) and their words expanded by
// mvdan.cc/sh/v3/expand. What is left here is what the library cannot know: which commands run
// whenever the script runs (topLevel), where the test's variables come from (shEnv), and that the
// output of a command substitution is not known (errCmdSubst).

// shCommand is one simple command of a script: a call (`deskfleet plan ...`, `code=0`) or a
// declaration (`export NAME=value`).
type shCommand struct {
	assigns []*syntax.Assign   // NAME=value before the words, or a declaration's arguments
	words   []*syntax.Word     // the program and its arguments, unexpanded
	argv    []string           // the words as written in the script
	redirs  []*syntax.Redirect // the enclosing statement's redirections
	export  bool               // `export ...`
	// topLevel: the command runs whenever the script runs: not inside if/case/a loop/a group/a
	// subshell/a function/$(...), and not after && or ||.
	topLevel bool
	raw      string // the command as written, blanks and `\` continuations folded to one space
}

// invokesDeskfleet reports whether the command runs deskfleet (by that name, or a path ending in it).
func (c *shCommand) invokesDeskfleet() bool {
	if len(c.argv) == 0 {
		return false
	}
	raw := strings.Trim(c.argv[0], `"'`)
	return raw == "deskfleet" || strings.HasSuffix(raw, "/deskfleet")
}

// args expands the command's arguments (without the program) as the shell does.
func (c *shCommand) args(cfg *expand.Config) ([]string, error) {
	if len(c.words) < 2 {
		return nil, nil
	}
	return expand.Fields(cfg, c.words[1:]...)
}

var continuation = regexp.MustCompile(`\\\r?\n`)

// parseShell returns the simple commands of a shell script in the order they start.
func parseShell(src string) ([]*shCommand, error) {
	if strings.Contains(src, "${{") {
		return nil, errors.New("a ${{ }} expression is left in the script")
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		return nil, err
	}
	// The statements that run whenever the script runs: the script's own, and through them the
	// left side of && and ||, both sides of a pipe, and what `time` runs.
	top := map[*syntax.Stmt]bool{}
	var markTop func(s *syntax.Stmt)
	markTop = func(s *syntax.Stmt) {
		top[s] = true
		switch x := s.Cmd.(type) {
		case *syntax.BinaryCmd:
			markTop(x.X)
			if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
				markTop(x.Y)
			}
		case *syntax.TimeClause:
			if x.Stmt != nil {
				markTop(x.Stmt)
			}
		}
	}
	for _, s := range f.Stmts {
		markTop(s)
	}
	text := func(from, to syntax.Pos) string { return src[from.Offset():to.Offset()] }
	var cmds []*shCommand
	syntax.Walk(f, func(n syntax.Node) bool {
		s, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		c := &shCommand{redirs: s.Redirs, topLevel: top[s]}
		switch x := s.Cmd.(type) {
		case *syntax.CallExpr:
			c.assigns, c.words = x.Assigns, x.Args
		case *syntax.DeclClause:
			c.assigns, c.export = x.Args, x.Variant.Value == "export"
		default:
			return true
		}
		for _, w := range c.words {
			c.argv = append(c.argv, text(w.Pos(), w.End()))
		}
		// The command's text, from its first word, assignment or redirection to its last (a
		// here-document's body left out).
		start, end := s.Cmd.Pos(), s.Cmd.End()
		for _, r := range s.Redirs {
			if r.Pos().Offset() < start.Offset() {
				start = r.Pos()
			}
			if r.Word != nil && r.Word.End().Offset() > end.Offset() {
				end = r.Word.End()
			}
		}
		c.raw = strings.Join(strings.Fields(continuation.ReplaceAllString(text(start, end), "")), " ")
		cmds = append(cmds, c)
		return true
	})
	return cmds, nil
}

// errCmdSubst is what expanding $(...) or `...` gives: its output is a value the test does not know
// (the scripts call gh, curl and jq against a forge that is not here).
var errCmdSubst = errors.New("a command substitution")

// shEnv gives expand the variables a script sees: lookup's, and the special parameters of a script
// run without arguments whose last command succeeded. A name lookup does not know is unset.
type shEnv struct {
	lookup func(name string) (string, bool)
}

func shString(s string) expand.Variable {
	return expand.Variable{Set: true, Kind: expand.String, Str: s}
}

func (e shEnv) Get(name string) expand.Variable {
	switch name {
	case "?", "#", "!", "$":
		return shString("0")
	case "@", "*":
		return expand.Variable{Set: true, Kind: expand.Indexed}
	case "-":
		return shString("")
	}
	if name[0] >= '0' && name[0] <= '9' {
		return shString("")
	}
	if v, ok := e.lookup(name); ok {
		return shString(v)
	}
	return expand.Variable{}
}

func (shEnv) Each(func(name string, vr expand.Variable) bool) {}

// shConfig expands words as `set -u` does: a variable lookup does not know is an error (unless the
// expansion gives a default for it, ${NAME:-x}), and so is a command substitution.
func shConfig(lookup func(name string) (string, bool)) *expand.Config {
	return &expand.Config{
		Env:       shEnv{lookup: lookup},
		NoUnset:   true,
		CmdSubst:  func(io.Writer, *syntax.CmdSubst) error { return errCmdSubst },
		ProcSubst: func(*syntax.ProcSubst) (string, error) { return "", errors.New("a process substitution") },
	}
}

// unknownValue names what made an expansion fail: "$NAME" for a variable the script never sets, "a
// command substitution", or the library's error.
func unknownValue(err error) string {
	var unset expand.UnsetParameterError
	if errors.As(err, &unset) {
		return "$" + unset.Node.Param.Value
	}
	if errors.Is(err, errCmdSubst) {
		return errCmdSubst.Error()
	}
	return err.Error()
}

// ---- the forge and the exit codes ------------------------------------------------------------

// recipeSecrets are the test's values for what a recipe takes from the secret store (GitHub secrets,
// GitLab CI/CD variables); DESKFLEET_STATE is set per run.
var recipeSecrets = map[string]string{
	"CDS_SECRET_ID":          "ci-test-id",
	"CDS_SECRET_KEY":         "ci-test-secret-5e2b",
	"DESKFLEET_GITLAB_TOKEN": "ci-test-gitlab-token",
	"GITHUB_TOKEN":           "ci-test-github-token",
}

// branchesOn reports whether a script tests for the exit code: `-eq 6`, `= "6"`, or a case arm `6)`.
func branchesOn(script string, code int) bool {
	re := regexp.MustCompile(fmt.Sprintf(`(-eq|-ne|==|!=|=)\s*["']?%d["']?(\s|;|\]|$)|(^|[\s(|])%d\)`, code, code))
	return re.MatchString(script)
}

// ---- the tests ---------------------------------------------------------------------------------

// TestWorkflowShellModel checks what the test takes from a script (parseShell, shCommand.args) on the
// constructs the recipes use: which commands are deskfleet's, whether they run whenever the script
// does, their text, and their arguments as the shell expands them.
func TestWorkflowShellModel(t *testing.T) {
	env := map[string]string{"FLEET_DIR": "fleet dir", "FLAGS": "--allow-delete --allow-replace", "EMPTY": ""}
	cases := []struct {
		name, reason, script string
		// want is the deskfleet commands' arguments after expansion; an expansion that fails gives
		// "!" and what it could not know.
		want    [][]string
		wantTop []bool
		wantRaw []string // the commands' text, when checked
	}{
		{"continuation", "a `\\` line continuation joins the lines of one command",
			"deskfleet plan \\\n  -f \"$FLEET_DIR\" \\\n  --detailed-exitcode\n",
			[][]string{{"plan", "-f", "fleet dir", "--detailed-exitcode"}}, []bool{true},
			[]string{`deskfleet plan -f "$FLEET_DIR" --detailed-exitcode`}},
		{"or and redirect", "`|| code=$?` and `> file` are not arguments; the assignment after || is conditional",
			"code=0\ndeskfleet drift --format markdown > drift.md || code=$?\n",
			[][]string{{"drift", "--format", "markdown"}}, []bool{true},
			[]string{"deskfleet drift --format markdown > drift.md"}},
		{"substitution", "a deskfleet command inside $(...) is found, and is not top-level",
			`out="$(deskfleet plan -f "$FLEET_DIR" --format json)"; echo "$out"`,
			[][]string{{"plan", "-f", "fleet dir", "--format", "json"}}, []bool{false}, nil},
		{"splitting", "an unquoted variable splits into several flags, an empty one gives none",
			"deskfleet apply --auto-approve $FLAGS $EMPTY plan.bin",
			[][]string{{"apply", "--auto-approve", "--allow-delete", "--allow-replace", "plan.bin"}}, []bool{true}, nil},
		{"case arms", "commands in case arms are found; `0|2)` is a pattern, not a pipeline",
			"case \"$code\" in\n  0|2) deskfleet plan --format json > plan.json ;;\n  *) echo no ;;\nesac\ndeskfleet version",
			[][]string{{"plan", "--format", "json"}, {"version"}}, []bool{false, true},
			[]string{"deskfleet plan --format json > plan.json", "deskfleet version"}},
		{"if and semicolons", "commands after ; and inside if are found",
			"if true; then deskfleet validate -f x; fi; deskfleet version",
			[][]string{{"validate", "-f", "x"}, {"version"}}, []bool{false, true}, nil},
		{"default", "${X:-default} and ${X:+alt} expand",
			`deskfleet drift -f "${NOPE:-fleet}" ${FLAGS:+--x}`,
			[][]string{{"drift", "-f", "fleet", "--x"}}, []bool{true}, nil},
		{"not deskfleet", "words that merely contain deskfleet are not commands",
			`go install "github.com/deskfleet/deskfleet/cmd/deskfleet@latest"; echo deskfleet plan; grep -o 'deskfleet-plan:' x`,
			nil, nil, nil},
		{"unknown values", "the output of a command substitution and a variable never set are not known: expanding them fails and names them",
			`deskfleet plan -f "$(pwd)/fleet"; deskfleet drift -f $NOPE; deskfleet apply ${NOPE:?unset} plan.bin`,
			[][]string{{"!a command substitution"}, {"!$NOPE"}, {"!$NOPE"}}, []bool{true, true, true}, nil},
		{"pipes and groups", "both sides of a pipe run whenever the script does; a group, a subshell, a function's body and what follows && do not",
			"deskfleet plan --format json | jq . > plan.json; { deskfleet version; } > v.txt; (deskfleet validate)\nf() { deskfleet drift; }; true && deskfleet show plan.bin",
			[][]string{{"plan", "--format", "json"}, {"version"}, {"validate"}, {"drift"}, {"show", "plan.bin"}},
			[]bool{true, false, false, false, false},
			[]string{"deskfleet plan --format json", "deskfleet version", "deskfleet validate", "deskfleet drift", "deskfleet show plan.bin"}},
		{"here-document", "a here-document is standard input, not arguments, and its body is not the command's text",
			"deskfleet validate -f x <<EOF\nspec: 1\nEOF\ndeskfleet version",
			[][]string{{"validate", "-f", "x"}, {"version"}}, []bool{true, true},
			[]string{"deskfleet validate -f x <<EOF", "deskfleet version"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmds, err := parseShell(tc.script)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			var got [][]string
			var top []bool
			var raw []string
			for _, c := range cmds {
				if !c.invokesDeskfleet() {
					continue
				}
				args, err := c.args(shConfig(func(n string) (string, bool) { v, ok := env[n]; return v, ok }))
				if err != nil {
					args = []string{"!" + unknownValue(err)}
				}
				got = append(got, args)
				top = append(top, c.topLevel)
				raw = append(raw, c.raw)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: deskfleet's arguments (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantTop, top, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: which commands are top-level (-want +got):\n%s", tc.reason, diff)
			}
			if tc.wantRaw != nil && !slices.Equal(raw, tc.wantRaw) {
				t.Errorf("%s: the commands' text\ngot  %q\nwant %q", tc.reason, raw, tc.wantRaw)
			}
		})
	}
}

// TestWorkflowRecipes reads every recipe under examples/ci, checks what it must say (secrets only from
// the secret store, the comment marker, the label, the drift branch), and runs every deskfleet
// command of each recipe, job by job, in order, against the emulator.
func TestWorkflowRecipes(t *testing.T) {
	recipes := loadRecipes(t)
	kinds := map[string]map[string]bool{} // platform -> kinds found
	for _, r := range recipes {
		if kinds[r.platform] == nil {
			kinds[r.platform] = map[string]bool{}
		}
		for _, job := range r.jobs {
			plans, applies, drifts := job.kinds(t)
			kinds[r.platform]["plan"] = kinds[r.platform]["plan"] || plans
			kinds[r.platform]["apply"] = kinds[r.platform]["apply"] || applies
			kinds[r.platform]["drift"] = kinds[r.platform]["drift"] || drifts
		}
	}
	for _, platform := range []string{"github", "gitlab"} {
		for _, kind := range []string{"plan", "apply", "drift"} {
			if !kinds[platform][kind] {
				t.Errorf("no %s recipe has a %s job", platform, kind)
			}
		}
	}

	for _, r := range recipes {
		t.Run(r.path, func(t *testing.T) {
			t.Parallel()
			t.Run("secrets", func(t *testing.T) { checkRecipeSecrets(t, r) })
			t.Run("jobs", func(t *testing.T) { checkRecipeJobs(t, r) })
		})
	}
}

// checkRecipeSecrets: credentials and the state come from the secret store and from nowhere else.
func checkRecipeSecrets(t *testing.T, r *recipe) {
	sensitive := append(slices.Clone(credentialVars), "DESKFLEET_GITLAB_TOKEN", "DESKFLEET_TEAM_TOKEN")
	// No literal value anywhere: NAME=value or NAME: value with anything but a reference.
	var text strings.Builder
	for _, line := range strings.Split(r.text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			text.WriteString(line + "\n")
		}
	}
	for _, name := range sensitive {
		re := regexp.MustCompile(`\b` + name + `\s*[:=]\s*["']?([^\s"'$][^\s"']*)`)
		for _, m := range re.FindAllStringSubmatch(text.String(), -1) {
			t.Errorf("%s gives %s the literal value %q: it must come from the secret store", r.path, name, m[1])
		}
	}
	switch r.platform {
	case "github":
		var maps []*yaml.Node
		maps = append(maps, yamlGet(r.root, "env"))
		for _, jp := range yamlPairs(yamlGet(r.root, "jobs")) {
			maps = append(maps, yamlGet(jp.val, "env"))
			if steps := yamlGet(jp.val, "steps"); steps != nil {
				for _, st := range steps.Content {
					maps = append(maps, yamlGet(st, "env"))
				}
			}
		}
		for _, m := range maps {
			for _, e := range yamlEnv(m) {
				if slices.Contains(sensitive, e.name) && strings.TrimSpace(e.value) != "${{ secrets."+e.name+" }}" {
					t.Errorf("%s: env %s is %q, want ${{ secrets.%s }}", r.path, e.name, e.value, e.name)
				}
			}
		}
		for _, job := range r.jobs {
			if plans, applies, drifts := job.kinds(t); plans || applies || drifts {
				for _, name := range credentialVars {
					if v, _ := job.envValue(name); v != "${{ secrets."+name+" }}" {
						t.Errorf("%s, job %s: reads the API and the state, so its env needs %s: ${{ secrets.%s }} (has %q)", r.path, job.name, name, name, v)
					}
				}
			}
		}
	case "gitlab":
		var maps []*yaml.Node
		maps = append(maps, yamlGet(r.root, "variables"))
		for _, p := range yamlPairs(r.root) {
			maps = append(maps, yamlGet(p.val, "variables"))
		}
		for _, m := range maps {
			for _, e := range yamlEnv(m) {
				if slices.Contains(sensitive, e.name) {
					t.Errorf("%s defines the variable %s: it belongs in the project's masked CI/CD variables", r.path, e.name)
				}
			}
		}
	}
	// Nor on a command line: no deskfleet command passes --state or a key.
	for _, job := range r.jobs {
		for _, c := range job.deskfleetCommands(t) {
			for _, flag := range []string{"--state", "--key"} {
				if c.hasFlag(flag) {
					t.Errorf("%s, job %s: `%s` passes %s on the command line; it comes from the secret store through the environment", r.path, job.name, c.cmd.raw, flag)
				}
			}
			for _, a := range c.cmd.assigns {
				if a.Name != nil && slices.Contains(sensitive, a.Name.Value) {
					t.Errorf("%s, job %s: `%s` sets %s itself", r.path, job.name, c.cmd.raw, a.Name.Value)
				}
			}
		}
	}
}

// checkRecipeJobs: each kind of job says what it must (the marker, the claim, the approvals, the drift
// branch), and every deskfleet command's script tests for the codes it can end with.
func checkRecipeJobs(t *testing.T, r *recipe) {
	for _, job := range r.jobs {
		plans, applies, drifts := job.kinds(t)
		cmds := job.deskfleetCommands(t)
		checkRecipeExits(t, r, job, cmds)
		if strings.Contains(job.text, oldLabel) {
			t.Errorf("%s, job %s reads the label %s, which anyone with triage rights sets: destructive changes need an approval", r.path, job.name, oldLabel)
		}
		if plans {
			if !strings.Contains(job.text, "deskfleet-plan:") {
				t.Errorf("%s, job %s posts a plan but does not look for its comment by the marker deskfleet-plan:", r.path, job.name)
			}
			if !strings.Contains(job.text, "-X PATCH") && !strings.Contains(job.text, "-X PUT") {
				t.Errorf("%s, job %s never updates an existing comment (one comment per pull request, updated in place)", r.path, job.name)
			}
			markdown := false
			for _, c := range cmds {
				markdown = markdown || c.sub == "plan" && c.hasFlag("--format") && strings.Contains(c.cmd.raw, "--format markdown")
			}
			if !markdown {
				t.Errorf("%s, job %s plans for a review without --format markdown", r.path, job.name)
			}
		}
		if applies {
			if !strings.Contains(job.text, "/approvals") && !strings.Contains(job.text, "/reviews") {
				t.Errorf("%s, job %s applies without reading the approvals (reviews) of the pull request", r.path, job.name)
			}
			flags, ok := job.envValue(destructiveFlagsVar)
			if !ok || !slices.Equal(strings.Fields(flags), destructiveFlags) {
				t.Errorf("%s, job %s: %s is %q, want exactly %q (never --force)", r.path, job.name, destructiveFlagsVar, flags, strings.Join(destructiveFlags, " "))
			}
			if strings.Count(job.text, destructiveFlagsVar) < 1 {
				t.Errorf("%s, job %s: no script uses %s", r.path, job.name, destructiveFlagsVar)
			}
			for _, c := range cmds {
				if c.sub != "apply" {
					continue
				}
				if !c.hasFlag("--auto-approve") || !c.hasFlag("--pr") || !strings.Contains(c.cmd.raw, "$"+guardFlagsVar) {
					t.Errorf("%s, job %s: `%s` must have --auto-approve, --pr (the merge of a claiming pull request) and $%s", r.path, job.name, c.cmd.raw, guardFlagsVar)
				}
				if len(c.cmd.argv) < 2 || !strings.HasSuffix(c.cmd.argv[len(c.cmd.argv)-1], ".bin") {
					t.Errorf("%s, job %s: `%s` must apply a saved plan (the one reviewed), not plan afresh", r.path, job.name, c.cmd.raw)
				}
			}
			switch r.platform {
			case "github":
				conc := yamlGet(job.node, "concurrency")
				if conc == nil {
					conc = yamlGet(r.root, "concurrency")
				}
				if yamlScalar(yamlGet(conc, "group")) == "" || yamlScalar(yamlGet(conc, "cancel-in-progress")) == "true" {
					t.Errorf("%s, job %s: an apply needs a concurrency group that never cancels a running apply", r.path, job.name)
				}
			case "gitlab":
				if yamlScalar(yamlGet(job.node, "resource_group")) == "" {
					t.Errorf("%s, job %s: an apply needs a resource_group (one apply at a time)", r.path, job.name)
				}
			}
		}
		if drifts {
			if !strings.Contains(job.text, "deskfleet-drift:") {
				t.Errorf("%s, job %s does not look for its issue by the marker deskfleet-drift:", r.path, job.name)
			}
			for _, c := range cmds {
				if c.sub == "drift" && !branchesOn(c.script.text, exitDrift) {
					t.Errorf("%s, job %s: the script of `%s` does not branch on exit 6 (drift found)", r.path, job.name, c.cmd.raw)
				}
			}
		}
	}
	if r.platform == "github" && yamlGet(r.root, "permissions") == nil {
		for _, job := range r.jobs {
			if yamlGet(job.node, "permissions") == nil {
				t.Errorf("%s, job %s: no permissions: (the token would get the repository's defaults)", r.path, job.name)
			}
		}
	}
}

// checkRecipeExits: every deskfleet command is one recipeExitRules knows, and its script tests for each
// non-zero code it accepts or must branch on.
func checkRecipeExits(t *testing.T, r *recipe, job *recipeJob, cmds []jobCommand) {
	for _, c := range cmds {
		rule, ok := recipeExitRules[c.sub]
		if !ok {
			t.Errorf("%s, job %s runs `%s`, which recipeExitRules does not know: add it, with the codes the recipe accepts and why", r.path, job.name, c.cmd.raw)
			continue
		}
		codes := append(slices.Clone(rule.ok), rule.branch...)
		for flag, more := range rule.withFlag {
			if c.hasFlag(flag) {
				codes = append(codes, more...)
			}
		}
		for _, code := range codes {
			if code != exitOK && !branchesOn(c.script.text, code) {
				t.Errorf("%s, job %s: `%s` can exit %d, and the script does not test for it (%s)", r.path, job.name, c.cmd.raw, code, rule.reason)
			}
		}
	}
}

// exitAllowed reports whether a deskfleet command (its arguments) of a recipe may end with code.
func exitAllowed(args []string, code int) bool {
	if len(args) == 0 {
		return false
	}
	rule, ok := recipeExitRules[args[0]]
	if !ok {
		return false
	}
	codes := append(slices.Clone(rule.ok), rule.branch...)
	for flag, more := range rule.withFlag {
		if slices.Contains(args, flag) {
			codes = append(codes, more...)
		}
	}
	return slices.Contains(codes, code)
}

// removeReview removes the review desktop (and its binding) from the studio spec: a guarded deletion.
func removeReview(t *testing.T, spec string) string {
	t.Helper()
	out := regexp.MustCompile(`(?m)^  - name: review\n(    .*\n)+`).ReplaceAllString(spec, "")
	out = regexp.MustCompile(`(?m)^  review: .*\n`).ReplaceAllString(out, "")
	if out == spec || regexp.MustCompile(`(?m)^\s+(- name: review|review:)`).MatchString(out) {
		t.Fatalf("examples/studio/fleet.yaml changed: the test cannot remove the review desktop from it")
	}
	return out
}
