package main

// A runner for the GitLab recipe (examples/ci/gitlab/.gitlab-ci.yml), as ghrun_test.go is for the
// GitHub ones: a pipeline of one source (merge_request_event, push, web, schedule) runs the jobs whose
// rules match (workflow rules first), stage by stage, each in a fresh workspace holding the tree, the
// earlier jobs' artifacts and the cache; before_script and script run as one bash -eo pipefail
// script, with the project's CI/CD variables, the file's variables and GitLab's predefined ones. A
// manual job runs only when the test plays it. What a job keeps is what the forge's API gives later
// (the merge request's pipelines, their jobs, a job's artifact files).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const glProject = "42"

// glPipeline is what starts a pipeline.
type glPipeline struct {
	source string            // CI_PIPELINE_SOURCE
	sha    string            // CI_COMMIT_SHA
	branch string            // CI_COMMIT_BRANCH ("" in a merge-request pipeline)
	mr     int               // CI_MERGE_REQUEST_IID, 0 none
	vars   map[string]string // the variables of "Run pipeline"
	tree   map[string]string
	play   []string // manual jobs to start
}

// glRule evaluates a rules `if:` by GitLab's CI/CD variable expression rules, as far as the recipe
// uses them: $VAR, "literal", null, ==, !=, &&, || and parentheses (through ghexpr's evaluator).
func glRule(expr string, vars map[string]string) (bool, error) {
	values := map[string]any{}
	for k, v := range vars {
		values[k] = v
	}
	e := regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`).ReplaceAllString(expr, "v.$1")
	e = regexp.MustCompile(`"([^"]*)"`).ReplaceAllString(e, "'$1'")
	if strings.Contains(e, "=~") {
		return false, fmt.Errorf("%q: =~ is not modelled by this test", expr)
	}
	v, err := (&ghContext{values: map[string]any{"v": values}}).eval(e)
	return ghTruthy(v), err
}

// glRules returns whether the rules include the job, and its `when`.
func glRules(rules *yaml.Node, vars map[string]string) (bool, string, error) {
	if rules == nil {
		return true, "on_success", nil
	}
	for _, r := range yamlDeref(rules).Content {
		cond := yamlScalar(yamlGet(r, "if"))
		ok := true
		if cond != "" {
			var err error
			if ok, err = glRule(cond, vars); err != nil {
				return false, "", err
			}
		}
		if ok { // `changes:` is taken as true: the tests' merge requests touch the spec
			when := yamlScalar(yamlGet(r, "when"))
			if when == "" {
				when = "on_success"
			}
			return when != "never", when, nil
		}
	}
	return false, "", nil
}

// runGitLab runs a pipeline of the GitLab recipe and returns its jobs by name.
func (f *ghForge) runGitLab(p glPipeline, projectVars map[string]string) map[string]*ghJob {
	t := f.t
	t.Helper()
	r := loadRecipe(t, "gitlab/.gitlab-ci.yml")
	f.runs++
	pipelineID := 7000 + f.runs
	vars := map[string]string{"CI_PIPELINE_SOURCE": p.source, "CI_COMMIT_SHA": p.sha, "CI_DEFAULT_BRANCH": "main",
		"CI_PROJECT_ID": glProject, "CI_API_V4_URL": "https://gitlab.invalid/api/v4", "CI_PIPELINE_ID": strconv.Itoa(pipelineID)}
	if p.branch != "" {
		vars["CI_COMMIT_BRANCH"] = p.branch
	}
	if p.mr > 0 {
		vars["CI_MERGE_REQUEST_IID"] = strconv.Itoa(p.mr)
	}
	for _, e := range r.env {
		vars[e.name] = e.value
	}
	for k, v := range projectVars { // project variables take precedence over the file's
		vars[k] = v
	}
	for k, v := range p.vars {
		vars[k] = v
	}
	if ok, _, err := glRules(yamlGet(yamlGet(r.root, "workflow"), "rules"), vars); err != nil || !ok {
		if err != nil {
			t.Fatalf("workflow rules: %v", err)
		}
		return nil
	}
	stages := yamlStrings(yamlGet(r.root, "stages"))
	jobs := slices.Clone(r.jobs)
	slices.SortStableFunc(jobs, func(a, b *recipeJob) int {
		return slices.Index(stages, yamlScalar(yamlGet(a.node, "stage"))) - slices.Index(stages, yamlScalar(yamlGet(b.node, "stage")))
	})
	out := map[string]*ghJob{}
	kept := map[string][]byte{} // the pipeline's artifacts so far
	var listed []any
	failed := false
	for _, j := range jobs {
		job := &ghJob{name: j.name, outputs: map[string]string{}}
		out[j.name] = job
		ok, when, err := glRules(yamlGet(j.node, "rules"), vars)
		if err != nil {
			t.Fatalf("job %s: rules: %v", j.name, err)
		}
		if !ok || failed || (when == "manual" && !slices.Contains(p.play, j.name)) {
			continue
		}
		f.runs++
		jobID := 9000 + f.runs
		files := f.runGitLabJob(r, j, job, vars, p, kept, jobID)
		status := "success"
		if job.failed {
			status, failed = "failed", true
		}
		for name, b := range files {
			kept[name] = b
			f.put(fmt.Sprintf("projects/%s/jobs/%d/artifacts/%s", glProject, jobID, name), nil)
			must(t, os.WriteFile(filepath.Join(f.dir, "api", "projects", glProject, "jobs", strconv.Itoa(jobID), "artifacts", name+".json"), b, 0o644))
		}
		listed = append(listed, map[string]any{"id": jobID, "name": j.name, "status": status})
	}
	f.put(fmt.Sprintf("projects/%s/pipelines/%d/jobs", glProject, pipelineID), listed)
	if p.mr > 0 {
		path := fmt.Sprintf("projects/%s/merge_requests/%d/pipelines", glProject, p.mr)
		prev, _ := f.get(path).([]any)
		f.put(path, append([]any{map[string]any{"id": pipelineID, "sha": p.sha}}, prev...))
	}
	return out
}

// runGitLabJob runs one job and returns its artifacts (name -> content).
func (f *ghForge) runGitLabJob(r *recipe, j *recipeJob, job *ghJob, pvars map[string]string, p glPipeline, kept map[string][]byte, jobID int) map[string][]byte {
	t := f.t
	job.ran = true
	ws := filepath.Join(f.dir, fmt.Sprintf("job%d", jobID))
	for path, text := range p.tree {
		full := filepath.Join(ws, filepath.FromSlash(path))
		must(t, os.MkdirAll(filepath.Dir(full), 0o755))
		must(t, os.WriteFile(full, []byte(text), 0o644))
	}
	for name, b := range kept {
		full := filepath.Join(ws, name)
		must(t, os.MkdirAll(filepath.Dir(full), 0o755))
		must(t, os.WriteFile(full, b, 0o644))
	}
	cache := filepath.Join(f.dir, "gitlab-cache")
	if yamlGet(j.node, "cache") != nil {
		copyTree(t, cache, ws)
	}
	vars := map[string]string{}
	for k, v := range pvars {
		vars[k] = v
	}
	for _, e := range yamlEnv(yamlGet(j.node, "variables")) {
		vars[e.name] = e.value
	}
	vars["CI_PROJECT_DIR"], vars["CI_JOB_ID"] = ws, strconv.Itoa(jobID)
	vars["CI_JOB_URL"] = fmt.Sprintf("https://gitlab.invalid/acme/fleets/-/jobs/%d", jobID)
	for k, v := range recipeSecrets {
		vars[k] = v
	}
	vars["DESKFLEET_STATE"] = f.state
	env := []string{"PATH=" + f.bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + ws,
		"DESKFLEET_ENDPOINT=sim:" + f.cloud, "FAKE_GH=" + f.dir, "DESKFLEET_TEST_BIN=" + recipeBin()}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	env = append(env, fastSim...)
	for _, s := range j.scripts {
		if s.where != "before_script and script" {
			continue
		}
		step := &ghStep{name: "script", ran: true, outputs: map[string]string{}}
		job.steps = append(job.steps, step)
		cmd := exec.Command("bash", "-eo", "pipefail", "-c", s.text)
		cmd.Dir, cmd.Env = ws, env
		b, err := cmd.CombinedOutput()
		step.output = string(b)
		if ee, ok := err.(*exec.ExitError); ok {
			step.code, job.failed = ee.ExitCode(), true
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if c := yamlGet(j.node, "cache"); c != nil {
		for _, p := range yamlStrings(yamlGet(c, "paths")) {
			copyTree(t, filepath.Join(ws, p), filepath.Join(cache, p))
		}
	}
	files := map[string][]byte{}
	a := yamlGet(j.node, "artifacts")
	if a != nil && (!job.failed || yamlScalar(yamlGet(a, "when")) == "always") {
		for _, p := range yamlStrings(yamlGet(a, "paths")) {
			if b, err := os.ReadFile(filepath.Join(ws, p)); err == nil {
				files[p] = b
			}
		}
	}
	return files
}

// copyTree copies the files under from to to (nothing when from does not exist).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(from, p)
		b, err := os.ReadFile(p)
		must(t, err)
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(to, rel)), 0o755))
		must(t, os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm()))
		return nil
	})
}
