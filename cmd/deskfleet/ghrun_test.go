package main

// A runner for the GitHub Actions recipes (examples/ci/github): it runs a workflow's jobs as GitHub
// would for one event, each job in a fresh workspace, each `run:` step under bash -e with the
// workflow's, job's and step's env (${{ }} evaluated by ghexpr_test.go), GITHUB_OUTPUT, GITHUB_PATH and
// GITHUB_STEP_SUMMARY, step and job `if:`, `needs:` and job outputs. The forge is fake (ghForge): `gh`
// is a script answering `gh api` from files and logging what it writes, `go` answers only `go list -m`
// (the version to cache under), and `deskfleet` is this test binary, run against the emulator and a
// state file shared by all the runs of a test. The actions the recipes use are modelled: checkout (the
// test's tree for the event), setup-go (nothing), cache (a hit: the binary is there), upload-artifact
// and download-artifact (kept by the forge, between runs).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

const fakeRepo = "acme/fleets"

// fakeForge answers the API calls of the fake gh and curl: `forge METHOD PATH [BODYFILE]`. A GET
// prints the file api/PATH.json (PATH with its query, else without), or fails with "Not Found"; a
// later page (page=2...) is empty. A write is logged in writes.log (METHOD PATH BODY), and comments and
// notes are kept: a POST to an issue's or merge request's comments or notes adds one, a PATCH or PUT
// of one changes its body, so that a recipe finds its comment again.
const fakeForge = `#!/usr/bin/env bash
set -euo pipefail
method=$1 path=${2#/} bodyfile=${3:-}
api=$FAKE_GH/api
key=${path%%\?*}
if [ "$method" = GET ]; then
  case "$path" in *[?\&]page=[2-9]*) echo '[]'; exit 0 ;; esac
  for f in "$api/$path.json" "$api/$key.json"; do
    if [ -f "$f" ]; then cat "$f"; exit 0; fi
  done
  echo "Not Found (HTTP 404): $path" >&2
  exit 1
fi
body='{}'
[ -z "$bodyfile" ] || body=$(jq -c . "$bodyfile")
printf '%s %s %s\n' "$method" "$path" "$body" >> "$FAKE_GH/writes.log"
case "$method $key" in
  "POST "repos/*/issues/*/comments|"POST "projects/*/merge_requests/*/notes)
    f="$api/$key.json"
    mkdir -p "$(dirname "$f")"
    [ -f "$f" ] || echo '[]' > "$f"
    n=$(( $(cat "$FAKE_GH/next-id" 2> /dev/null || echo 1000) + 1 ))
    echo "$n" > "$FAKE_GH/next-id"
    jq --argjson id "$n" --argjson b "$body" '. + [{id: $id, system: false, user: {login: "github-actions[bot]", type: "Bot"}, body: $b.body}]' "$f" > "$f.new"
    mv "$f.new" "$f"
    echo "{\"id\": $n}"
    ;;
  "PATCH "repos/*/issues/comments/*|"PUT "projects/*/merge_requests/*/notes/*)
    id=${key##*/}
    for f in "$api"/repos/*/*/issues/*/comments.json "$api"/projects/*/merge_requests/*/notes.json; do
      [ -f "$f" ] || continue
      jq --argjson id "$id" --argjson b "$body" 'map(if .id == $id then .body = $b.body else . end)' "$f" > "$f.new"
      mv "$f.new" "$f"
    done
    echo '{}'
    ;;
  *) echo '{}' ;;
esac
`

// fakeGH is gh as the recipes' runs see it: only ` + "`gh api`" + `, answered by the forge.
const fakeGH = `#!/usr/bin/env bash
set -euo pipefail
if [ "${1:-}" != api ]; then echo "fake gh: only 'gh api' is modelled, not: gh $*" >&2; exit 2; fi
shift
method="" input="" path="" fields=()
while [ $# -gt 0 ]; do
  case "$1" in
    -X|--method) method=$2; shift 2 ;;
    --input) input=$2; shift 2 ;;
    -f|-F|--raw-field|--field) fields+=("$2"); shift 2 ;;
    --paginate) shift ;;
    -*) echo "fake gh: flag $1 is not modelled" >&2; exit 2 ;;
    *) [ -z "$path" ] || { echo "fake gh: two paths: $path $1" >&2; exit 2; }; path=$1; shift ;;
  esac
done
[ -n "${GH_TOKEN:-}" ] || { echo "fake gh: GH_TOKEN is not set" >&2; exit 4; }
if [ -z "$method" ]; then
  if [ ${#fields[@]} -gt 0 ] || [ -n "$input" ]; then method=POST; else method=GET; fi
fi
if [ ${#fields[@]} -gt 0 ]; then
  input=$(mktemp)
  jq -cn '$ARGS.positional | map(capture("^(?<k>[^=]*)=(?<v>.*)$") | {(.k): .v}) | add' --args "${fields[@]}" > "$input"
fi
exec "$FAKE_GH/bin/forge" "$method" "$path" "$input"
`

// fakeCurl is curl as the GitLab recipe calls it: -fsS, --header, -X, --data @FILE, -o FILE and a URL
// under $CI_API_V4_URL, answered by the forge; an error is curl -f's exit 22.
const fakeCurl = `#!/usr/bin/env bash
set -uo pipefail
method=GET data="" out="" url="" token=""
while [ $# -gt 0 ]; do
  case "$1" in
    -fsS) shift ;;
    -X) method=$2; shift 2 ;;
    --header|-H) case "$2" in "PRIVATE-TOKEN: "*) token=${2#PRIVATE-TOKEN: } ;; esac; shift 2 ;;
    --data|-d) data=$2; shift 2 ;;
    -o|--output) out=$2; shift 2 ;;
    -*) echo "fake curl: flag $1 is not modelled" >&2; exit 2 ;;
    *) url=$1; shift ;;
  esac
done
[ -n "$token" ] || { echo "fake curl: no PRIVATE-TOKEN header" >&2; exit 22; }
case "$url" in
  "$CI_API_V4_URL"/*) path=${url#"$CI_API_V4_URL"/} ;;
  *) echo "fake curl: $url is not under CI_API_V4_URL" >&2; exit 6 ;;
esac
[ -z "$method" ] || [ -z "$data" ] || [ "$method" != GET ] || method=POST
if [ -n "$out" ]; then
  "$FAKE_GH/bin/forge" "$method" "$path" "${data#@}" > "$out" || exit 22
else
  "$FAKE_GH/bin/forge" "$method" "$path" "${data#@}" || exit 22
fi
`

// fakeGo answers the recipes' `go list -m -f '{{.Version}}' MODULE@VERSION`, and `go install` into
// GOBIN puts a deskfleet there that runs the test's (logged in go-install.log).
const fakeGo = `#!/usr/bin/env bash
if [ "$1 $2" = "list -m" ]; then echo "v0.0.0-test"; exit 0; fi
if [ "$1" = install ] && [ -n "${GOBIN:-}" ]; then
  mkdir -p "$GOBIN"
  printf '#!/usr/bin/env bash\nexec "$FAKE_GH/bin/deskfleet" "$@"\n' > "$GOBIN/deskfleet"
  chmod +x "$GOBIN/deskfleet"
  echo "$*" >> "$FAKE_GH/go-install.log"
  exit 0
fi
echo "fake go: only 'go list -m' and 'go install' with GOBIN are modelled, not: go $*" >&2
exit 2
`

// deskfleetShim runs this test binary as deskfleet and logs each command's exit code and arguments.
const deskfleetShim = `#!/usr/bin/env bash
code=0
"$DESKFLEET_TEST_BIN" "$@" || code=$?
printf '%s\t%s\n' "$code" "$*" >> "$FAKE_GH/deskfleet.log"
exit "$code"
`

// ghForge is a fake GitHub for a test: the API's answers (files under dir/api, one per path, .json),
// what was written through it (writes.log), the artifacts of the runs, the commands deskfleet ran
// (deskfleet.log), an emulated cloud and a state, shared by the runs.
type ghForge struct {
	t         *testing.T
	dir       string
	bin       string
	cloud     string
	state     string
	runs      int
	artifacts map[string]ghArtifact
	vars      map[string]string
}

type ghArtifact struct {
	run   int
	files map[string][]byte
}

func newGHForge(t *testing.T) *ghForge {
	t.Helper()
	dir := t.TempDir()
	f := &ghForge{t: t, dir: dir, bin: filepath.Join(dir, "bin"), cloud: filepath.Join(dir, "cloud.json"),
		state: filepath.Join(dir, "state.db"), artifacts: map[string]ghArtifact{}, vars: map[string]string{}}
	must(t, os.MkdirAll(f.bin, 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "api"), 0o755))
	for name, text := range map[string]string{"forge": fakeForge, "gh": fakeGH, "curl": fakeCurl, "go": fakeGo, "deskfleet": deskfleetShim} {
		must(t, os.WriteFile(filepath.Join(f.bin, name), []byte(text), 0o755))
	}
	return f
}

// put sets the answer of GET path.
func (f *ghForge) put(path string, v any) {
	f.t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	must(f.t, err)
	p := filepath.Join(f.dir, "api", filepath.FromSlash(path)+".json")
	must(f.t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(f.t, os.WriteFile(p, b, 0o644))
}

// get reads the answer of GET path (nil when none).
func (f *ghForge) get(path string) any {
	b, err := os.ReadFile(filepath.Join(f.dir, "api", filepath.FromSlash(path)+".json"))
	if err != nil {
		return nil
	}
	var v any
	must(f.t, json.Unmarshal(b, &v))
	return v
}

// log returns the lines of one of the forge's logs, and empties it.
func (f *ghForge) log(name string) []string {
	p := filepath.Join(f.dir, name)
	b, _ := os.ReadFile(p)
	os.Remove(p)
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// ghEvent is what starts a run: the event's name and payload, the commit, and the tree checkout gives.
type ghEvent struct {
	name    string
	payload map[string]any
	sha     string
	tree    map[string]string // path -> content
}

// ghStep and ghJob are what a run did.
type ghStep struct {
	name    string
	ran     bool
	code    int // a run step's exit code
	outputs map[string]string
	output  string // stdout and stderr
	with    map[string]string
}

type ghJob struct {
	name    string
	ran     bool
	failed  bool
	steps   []*ghStep
	outputs map[string]string
}

func (j *ghJob) step(name string) *ghStep {
	for _, s := range j.steps {
		if s.name == name {
			return s
		}
	}
	return nil
}

// log is the job's steps' output, for a failure message.
func (j *ghJob) log() string {
	var b strings.Builder
	for _, s := range j.steps {
		fmt.Fprintf(&b, "--- step %q ran=%v exit=%d outputs=%v\n%s", s.name, s.ran, s.code, s.outputs, s.output)
	}
	return b.String()
}

// run runs the workflow file (under examples/ci/github) for the event and returns its jobs by name.
func (f *ghForge) run(file string, ev ghEvent) map[string]*ghJob {
	f.t.Helper()
	r := loadRecipe(f.t, "github/"+file)
	f.runs++
	runID := 5000 + f.runs
	payload := ev.payload
	if payload == nil {
		payload = map[string]any{}
	}
	inputs, _ := payload["inputs"].(map[string]any)
	github := map[string]any{"event": payload, "event_name": ev.name, "repository": fakeRepo, "sha": ev.sha,
		"token": "ghs-test-token", "server_url": "https://github.invalid", "run_id": strconv.Itoa(runID)}
	secrets := map[string]any{}
	for k, v := range recipeSecrets {
		secrets[k] = v
	}
	secrets["DESKFLEET_STATE"], secrets["DESKFLEET_TEAM_TOKEN"] = f.state, "ghs-team-token"
	vars := map[string]any{}
	for k, v := range f.vars {
		vars[k] = v
	}
	needs := map[string]any{}
	jobs := map[string]*ghJob{}
	for _, jp := range yamlPairs(yamlGet(r.root, "jobs")) {
		job := &ghJob{name: jp.key, outputs: map[string]string{}}
		jobs[jp.key] = job
		ctx := &ghContext{values: map[string]any{"github": github, "secrets": secrets, "vars": vars, "inputs": inputs,
			"needs": needs, "runner": map[string]any{"os": "Linux"}, "steps": map[string]any{}}}
		for _, n := range yamlStrings(yamlGet(jp.val, "needs")) {
			if d := jobs[n]; d == nil || !d.ran || d.failed {
				ctx.failed = true // a needed job failed or was skipped: this one is skipped (no always())
			}
		}
		ok, err := ctx.condition(yamlScalar(yamlGet(jp.val, "if")))
		if err != nil {
			f.t.Fatalf("%s, job %s: if: %v", file, jp.key, err)
		}
		if !ok {
			needs[jp.key] = map[string]any{"outputs": map[string]any{}, "result": "skipped"}
			continue
		}
		f.runJob(r, jp.val, job, ctx, ev, runID)
		outs := map[string]any{}
		for _, o := range yamlPairs(yamlGet(jp.val, "outputs")) {
			v, err := ctx.substitute(o.val.Value)
			if err != nil {
				f.t.Fatalf("%s, job %s, output %s: %v", file, jp.key, o.key, err)
			}
			job.outputs[o.key], outs[o.key] = v, v
		}
		needs[jp.key] = map[string]any{"outputs": outs}
	}
	return jobs
}

func loadRecipe(t *testing.T, path string) *recipe {
	t.Helper()
	for _, r := range loadRecipes(t) {
		if r.path == path {
			return r
		}
	}
	t.Fatalf("no recipe %s", path)
	return nil
}

func yamlStrings(n *yaml.Node) []string {
	n = yamlDeref(n)
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// runJob runs the job's steps in a fresh workspace.
func (f *ghForge) runJob(r *recipe, node *yaml.Node, job *ghJob, ctx *ghContext, ev ghEvent, runID int) {
	t := f.t
	t.Helper()
	job.ran = true
	ws := filepath.Join(f.dir, fmt.Sprintf("run%d-%s", runID, job.name))
	tmp := ws + ".tmp"
	must(t, os.MkdirAll(ws, 0o755))
	must(t, os.MkdirAll(tmp, 0o755))
	eventPath := filepath.Join(tmp, "event.json")
	b, _ := json.Marshal(ev.payload)
	must(t, os.WriteFile(eventPath, b, 0o644))
	env := map[string]any{}
	ctx.values["env"] = env
	addEnv := func(m *yaml.Node, where string) {
		for _, e := range yamlPairs(m) {
			v, err := ctx.substitute(e.val.Value)
			if err != nil {
				t.Fatalf("%s, job %s, %s env %s: %v", r.path, job.name, where, e.key, err)
			}
			env[e.key] = v
		}
	}
	addEnv(yamlGet(r.root, "env"), "workflow")
	addEnv(yamlGet(node, "env"), "job")
	var paths []string
	for i, st := range yamlGet(node, "steps").Content {
		s := &ghStep{name: yamlScalar(yamlGet(st, "name")), outputs: map[string]string{}, with: map[string]string{}}
		if s.name == "" {
			s.name = yamlScalar(yamlGet(st, "uses"))
		}
		if s.name == "" {
			s.name = fmt.Sprintf("step %d", i+1)
		}
		job.steps = append(job.steps, s)
		ok, err := ctx.condition(yamlScalar(yamlGet(st, "if")))
		if err != nil {
			t.Fatalf("%s, job %s, %s: if: %v", r.path, job.name, s.name, err)
		}
		if !ok {
			continue
		}
		s.ran = true
		stepEnv := map[string]any{}
		for k, v := range env {
			stepEnv[k] = v
		}
		ctx.values["env"] = stepEnv
		for _, e := range yamlPairs(yamlGet(st, "env")) {
			v, err := ctx.substitute(e.val.Value)
			if err != nil {
				t.Fatalf("%s, job %s, %s, env %s: %v", r.path, job.name, s.name, e.key, err)
			}
			stepEnv[e.key] = v
		}
		for _, w := range yamlPairs(yamlGet(st, "with")) {
			v, err := ctx.substitute(w.val.Value)
			if err != nil {
				t.Fatalf("%s, job %s, %s, with %s: %v", r.path, job.name, s.name, w.key, err)
			}
			s.with[w.key] = v
		}
		if run := yamlGet(st, "run"); run != nil {
			f.runStep(r, job, s, run.Value, stepEnv, ws, tmp, eventPath, ev.sha, runID, &paths)
		} else {
			f.useAction(r, job, s, yamlScalar(yamlGet(st, "uses")), ws, ev, runID)
		}
		ctx.values["env"] = env
		if s.code != 0 {
			job.failed, ctx.failed = true, true
		}
		if id := yamlScalar(yamlGet(st, "id")); id != "" {
			outs := map[string]any{}
			for k, v := range s.outputs {
				outs[k] = v
			}
			ctx.values["steps"].(map[string]any)[id] = map[string]any{"outputs": outs}
		}
	}
}

// runStep runs a `run:` script under bash -e, as GitHub's default shell does.
func (f *ghForge) runStep(r *recipe, job *ghJob, s *ghStep, script string, env map[string]any, ws, tmp, eventPath, sha string, runID int, paths *[]string) {
	t := f.t
	if strings.Contains(script, "${{") {
		t.Fatalf("%s, job %s, %s: a ${{ }} in a script: pass values through env:, never into the script's text", r.path, job.name, s.name)
	}
	out := filepath.Join(tmp, "output")
	pathFile := filepath.Join(tmp, "path")
	os.Remove(out)
	scriptFile := filepath.Join(tmp, "step.sh")
	must(t, os.WriteFile(scriptFile, []byte(script), 0o644))
	vars := []string{
		"PATH=" + strings.Join(append(append([]string{f.bin}, *paths...), os.Getenv("PATH")), string(os.PathListSeparator)),
		"HOME=" + tmp, "CI=true", "GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=" + fakeRepo, "GITHUB_SHA=" + sha,
		"GITHUB_RUN_ID=" + strconv.Itoa(runID), "GITHUB_SERVER_URL=https://github.invalid", "GITHUB_WORKSPACE=" + ws,
		"GITHUB_OUTPUT=" + out, "GITHUB_PATH=" + pathFile, "GITHUB_STEP_SUMMARY=" + filepath.Join(tmp, "summary.md"),
		"GITHUB_EVENT_PATH=" + eventPath, "RUNNER_TEMP=" + tmp, "RUNNER_OS=Linux",
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range env {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		vars = append(vars, k+"="+ghString(env[k]))
	}
	// The emulator and the test binary, over whatever the recipe says (it names no endpoint).
	vars = append(vars, "DESKFLEET_ENDPOINT=sim:"+f.cloud, "FAKE_GH="+f.dir, "DESKFLEET_TEST_BIN="+recipeBin())
	vars = append(vars, fastSim...)
	cmd := exec.Command("bash", "-e", scriptFile)
	cmd.Dir, cmd.Env = ws, vars
	b, err := cmd.CombinedOutput()
	s.output = string(b)
	if ee, ok := err.(*exec.ExitError); ok {
		s.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", s.name, err)
	}
	if data, err := os.ReadFile(out); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				s.outputs[k] = v
			}
		}
	}
	if data, err := os.ReadFile(pathFile); err == nil {
		*paths = strings.Fields(string(data))
	}
}

// useAction models the actions the recipes use.
func (f *ghForge) useAction(r *recipe, job *ghJob, s *ghStep, uses string, ws string, ev ghEvent, runID int) {
	t := f.t
	action, _, _ := strings.Cut(uses, "@")
	switch action {
	case "actions/checkout":
		for p, text := range ev.tree {
			full := filepath.Join(ws, filepath.FromSlash(p))
			must(t, os.MkdirAll(filepath.Dir(full), 0o755))
			must(t, os.WriteFile(full, []byte(text), 0o644))
		}
	case "actions/setup-go":
	case "actions/cache":
		if !strings.Contains(s.with["key"], "v0.0.0-test") {
			t.Errorf("%s, job %s: the cache key %q does not name the resolved deskfleet version", r.path, job.name, s.with["key"])
		}
		s.outputs["cache-hit"] = "true"
	case "actions/upload-artifact":
		files := map[string][]byte{}
		for _, p := range strings.Fields(s.with["path"]) {
			full := filepath.Join(ws, p)
			info, err := os.Stat(full)
			if err != nil {
				continue // if-no-files-found: ignore (the recipes say so)
			}
			if !info.IsDir() {
				b, _ := os.ReadFile(full)
				files[filepath.Base(p)] = b
				continue
			}
			entries, _ := os.ReadDir(full)
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(full, e.Name()))
				files[e.Name()] = b
			}
		}
		if len(files) == 0 {
			return
		}
		name := s.with["name"]
		f.artifacts[name] = ghArtifact{run: runID, files: files}
		f.put("repos/"+fakeRepo+"/actions/artifacts?name="+name+"&per_page=1", map[string]any{"artifacts": []any{
			map[string]any{"name": name, "expired": false, "created_at": fmt.Sprintf("2026-12-06T10:%02d:00Z", f.runs),
				"workflow_run": map[string]any{"id": runID}}}})
	case "actions/download-artifact":
		a, ok := f.artifacts[s.with["name"]]
		if !ok || strconv.Itoa(a.run) != s.with["run-id"] {
			t.Errorf("%s, job %s: download of artifact %q of run %q: no such artifact", r.path, job.name, s.with["name"], s.with["run-id"])
			s.code = 1
			return
		}
		for name, b := range a.files {
			full := filepath.Join(ws, s.with["path"], name)
			must(t, os.MkdirAll(filepath.Dir(full), 0o755))
			must(t, os.WriteFile(full, b, 0o644))
		}
	default:
		t.Fatalf("%s, job %s: the action %s is not modelled by this test", r.path, job.name, uses)
	}
}

// recipeBinOnce builds the deskfleet the recipes' scripts run under the race detector.
var recipeBinOnce = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(filepath.Dir(binPath), "plain") // removed with TestMain's folder
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, filepath.Base(binPath))
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return path, nil
})

// recipeBin is the deskfleet the recipes' scripts run: the test binary, or, under the race detector
// (whose binary starts and runs several times slower, and the recipes run it hundreds of times), the
// same command built once without it. The race detector still covers every command in-process and
// through the CLI tests.
func recipeBin() string {
	if !raceEnabled {
		return binPath
	}
	path, err := recipeBinOnce()
	if err != nil {
		return binPath
	}
	return path
}
