package main

// GitHub Actions expressions (${{ ... }}), as the recipes' runs (workflows_run_test.go) evaluate them:
// context paths, string and number literals, ==, !=, !, &&, || (which return an operand, as GitHub's
// do), parentheses, and the functions startsWith, contains, success, failure, always and cancelled.
// Anything else is an error naming it, so a recipe cannot use what the test does not model.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// ghContext is what an expression reads: the contexts by name (github, env, secrets, vars, inputs,
// steps, needs, runner, job) and whether the job has failed so far (success(), failure()).
type ghContext struct {
	values map[string]any
	failed bool
}

var ghTemplate = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// substitute replaces every ${{ }} of s by its value's string form.
func (c *ghContext) substitute(s string) (string, error) {
	var err error
	out := ghTemplate.ReplaceAllStringFunc(s, func(m string) string {
		v, e := c.eval(ghTemplate.FindStringSubmatch(m)[1])
		if e != nil && err == nil {
			err = e
		}
		return ghString(v)
	})
	return out, err
}

// condition evaluates an `if:` (with or without ${{ }}); without a status function it is
// `success() && (...)`, as on GitHub.
func (c *ghContext) condition(s string) (bool, error) {
	s = strings.TrimSpace(s)
	if m := ghTemplate.FindStringSubmatch(s); m != nil && m[0] == s {
		s = m[1]
	}
	if s == "" {
		s = "success()"
	}
	if !regexp.MustCompile(`\b(success|failure|always|cancelled)\(\)`).MatchString(s) {
		s = "success() && (" + s + ")"
	}
	v, err := c.eval(s)
	return ghTruthy(v), err
}

func ghString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func ghTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	case float64:
		return x != 0
	}
	return true
}

type ghParser struct {
	c    *ghContext
	toks []string
	pos  int
}

var ghToken = regexp.MustCompile(`\s*('(?:[^']|'')*'|==|!=|&&|\|\||[!(),]|[A-Za-z_][A-Za-z0-9_.\-]*|-?[0-9]+(?:\.[0-9]+)?)`)

func (c *ghContext) eval(expr string) (any, error) {
	p := &ghParser{c: c}
	rest := expr
	for strings.TrimSpace(rest) != "" {
		m := ghToken.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			return nil, fmt.Errorf("expression %q: cannot read %q", expr, rest)
		}
		p.toks = append(p.toks, rest[m[2]:m[3]])
		rest = rest[m[1]:]
	}
	v, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("expression %q: unexpected %q", expr, p.toks[p.pos])
	}
	return v, err
}

func (p *ghParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *ghParser) or() (any, error) {
	v, err := p.and()
	for err == nil && p.peek() == "||" {
		p.pos++
		var r any
		r, err = p.and()
		if !ghTruthy(v) {
			v = r
		}
	}
	return v, err
}

func (p *ghParser) and() (any, error) {
	v, err := p.cmp()
	for err == nil && p.peek() == "&&" {
		p.pos++
		var r any
		r, err = p.cmp()
		if ghTruthy(v) {
			v = r
		}
	}
	return v, err
}

func (p *ghParser) cmp() (any, error) {
	v, err := p.unary()
	if err != nil || (p.peek() != "==" && p.peek() != "!=") {
		return v, err
	}
	op := p.toks[p.pos]
	p.pos++
	r, err := p.unary()
	eq := strings.EqualFold(ghString(v), ghString(r))
	return eq == (op == "=="), err
}

func (p *ghParser) unary() (any, error) {
	if p.peek() == "!" {
		p.pos++
		v, err := p.unary()
		return !ghTruthy(v), err
	}
	return p.primary()
}

func (p *ghParser) primary() (any, error) {
	t := p.peek()
	p.pos++
	switch {
	case t == "":
		return nil, fmt.Errorf("expression ends early")
	case t == "(":
		v, err := p.or()
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return v, err
	case strings.HasPrefix(t, "'"):
		return strings.ReplaceAll(t[1:len(t)-1], "''", "'"), nil
	case t == "true" || t == "false":
		return t == "true", nil
	case t == "null":
		return nil, nil
	case t[0] == '-' || unicode.IsDigit(rune(t[0])):
		return strconv.ParseFloat(t, 64)
	case p.peek() == "(":
		return p.call(t)
	}
	var cur any = p.c.values
	for _, part := range strings.Split(t, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, nil
		}
		cur = m[part]
	}
	return cur, nil
}

func (p *ghParser) call(name string) (any, error) {
	p.pos++ // (
	var args []any
	for p.peek() != ")" {
		v, err := p.or()
		if err != nil {
			return nil, err
		}
		args = append(args, v)
		if p.peek() == "," {
			p.pos++
		} else if p.peek() != ")" {
			return nil, fmt.Errorf("%s(: expected , or )", name)
		}
	}
	p.pos++
	switch {
	case name == "success" && len(args) == 0:
		return !p.c.failed, nil
	case name == "failure" && len(args) == 0:
		return p.c.failed, nil
	case name == "always" && len(args) == 0:
		return true, nil
	case name == "cancelled" && len(args) == 0:
		return false, nil
	case name == "startsWith" && len(args) == 2:
		return strings.HasPrefix(strings.ToLower(ghString(args[0])), strings.ToLower(ghString(args[1]))), nil
	case name == "contains" && len(args) == 2:
		return strings.Contains(strings.ToLower(ghString(args[0])), strings.ToLower(ghString(args[1]))), nil
	}
	return nil, fmt.Errorf("function %s with %d arguments is not modelled by this test", name, len(args))
}

// TestGitHubExpressions checks the evaluator on the forms the recipes use.
func TestGitHubExpressions(t *testing.T) {
	c := &ghContext{values: map[string]any{
		"github": map[string]any{"event": map[string]any{"action": "closed",
			"pull_request": map[string]any{"number": 12.0, "merged": false}, "comment": map[string]any{"body": "deskfleet plan"}}},
		"inputs": map[string]any{"pr": ""},
		"steps":  map[string]any{"apply": map[string]any{"outputs": map[string]any{"exit": "7"}}},
	}}
	cases := []struct {
		expr, want, reason string
		failed             bool
	}{
		{"github.event.pull_request.number || inputs.pr", "12", "|| returns the first truthy operand", false},
		{"inputs.pr || github.event.pull_request.number", "12", "an empty string is falsy", false},
		{"github.event.action == 'closed' && !github.event.pull_request.merged", "true", "! of false, && of two trues", false},
		{"github.event.action != 'closed'", "false", "!= compares strings", false},
		{"startsWith(github.event.comment.body, 'deskfleet ')", "true", "startsWith", false},
		{"always() && steps.apply.outputs.exit == '7'", "true", "a step's output", false},
		{"failure()", "true", "failure() after a failed step", true},
		{"steps.nope.outputs.x", "", "a step never run gives an empty value", false},
	}
	for _, tc := range cases {
		c.failed = tc.failed
		v, err := c.eval(tc.expr)
		if err != nil || ghString(v) != tc.want {
			t.Errorf("%s: %s = %q, %v; want %q", tc.reason, tc.expr, ghString(v), err, tc.want)
		}
	}
	c.failed = true
	if ok, err := c.condition("steps.apply.outputs.exit == '7'"); ok || err != nil {
		t.Errorf("an if without a status function is success() && ...: after a failure it is false (%v)", err)
	}
	if _, err := c.eval("format('{0}', 1)"); err == nil {
		t.Error("a function the test does not model must be an error")
	}
}
