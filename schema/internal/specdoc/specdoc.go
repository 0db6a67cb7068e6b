// Package specdoc renders the fleet JSON Schema as docs/spec.md, the spec's reference for users: the
// top level, then each object in the order a spec is written, one table per object, then a complete
// example included verbatim. It reads only the schema, so the page says what the schema says: the
// descriptions are the doc comments of package spec.
package specdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/invopop/jsonschema"
)

// Paths in the repository, from its root, with slashes.
const (
	SchemaPath  = "schema/fleet.schema.json"
	ExamplePath = "examples/studio/fleet.yaml" // the complete example the page includes
	DocPath     = "docs/spec.md"
)

// ReadInput reads the committed schema and the example from the repository at root.
func ReadInput(root string) (Input, error) {
	sch, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(SchemaPath)))
	if err != nil {
		return Input{}, err
	}
	ex, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ExamplePath)))
	if err != nil {
		return Input{}, err
	}
	return Input{Schema: sch, Example: ex, ExamplePath: ExamplePath}, nil
}

// Input is what the page is made of.
type Input struct {
	Schema      []byte // fleet.schema.json
	Example     []byte // a complete spec, included verbatim
	ExamplePath string // its path in the repository, as the page names it
}

// sectionTitles names the sections of the top-level keys; a key not listed is titled by its name.
var sectionTitles = map[string]string{
	"defaults": "Defaults",
	"billing":  "Billing plans",
	"profiles": "Profiles",
	"accounts": "Sub-accounts",
	"desktops": "Desktop groups",
	"bindings": "Bindings",
	"remove":   "Removing from the base",
}

// defTitles names the objects of $defs as the page calls them; one not listed is called by its name.
var defTitles = map[string]string{
	"Defaults":    "defaults",
	"Network":     "network",
	"BillingPlan": "billing plan",
	"Profile":     "profile",
	"Product":     "product",
	"Account":     "sub-account",
	"Group":       "desktop group",
	"Removals":    "removals",
}

func defTitle(name string) string {
	if t := defTitles[name]; t != "" {
		return t
	}
	return name
}

// Render writes the page. The output is deterministic: the same input gives the same bytes.
func Render(in Input) ([]byte, error) {
	var root jsonschema.Schema
	if err := json.Unmarshal(in.Schema, &root); err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	if root.Properties == nil || root.Properties.Len() == 0 {
		return nil, fmt.Errorf("the schema's top level has no properties")
	}
	r := &renderer{root: &root, uses: map[string][]string{}, anchors: map[string]string{}, done: map[string]bool{}}
	for p := root.Properties.Oldest(); p != nil; p = p.Next() {
		r.collectUses(p.Value, "`"+p.Key)
	}
	r.plan()
	for name := range root.Definitions {
		if r.uses[name] == nil {
			return nil, fmt.Errorf("$defs/%s is not used by the document", name)
		}
	}
	r.intro(in)
	r.contents()
	for _, s := range r.sections {
		s.render(r)
	}
	r.example(in)
	return r.out.Bytes(), nil
}

// section is one heading of the page and what goes under it.
type section struct {
	level  int
	title  string
	anchor string
	render func(*renderer)
}

type renderer struct {
	root     *jsonschema.Schema
	uses     map[string][]string // $defs name -> where the document uses it (`desktops[].network`), in order
	anchors  map[string]string   // $defs name -> the anchor of the section that shows it
	done     map[string]bool     // $defs shown in a section
	slugs    map[string]int
	sections []*section
	out      bytes.Buffer
}

// collectUses walks s, found at path (an open code span), and records where each $def is used.
func (r *renderer) collectUses(s *jsonschema.Schema, path string) {
	if s == nil {
		return
	}
	if name, ok := defName(s.Ref); ok {
		seen := slices.Contains(r.uses[name], path+"`")
		if !seen {
			r.uses[name] = append(r.uses[name], path+"`")
		}
		if def := r.root.Definitions[name]; def != nil && !seen && len(r.uses[name]) == 1 {
			r.collectUses(def, path)
		}
		return
	}
	r.collectUses(s.Items, path+"[]")
	r.collectUses(s.AdditionalProperties, path+".NAME")
	for _, o := range s.OneOf {
		r.collectUses(o, path)
	}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			r.collectUses(p.Value, path+"."+p.Key)
		}
	}
}

// plan lays out the sections: the top level, then a section per top-level key that holds objects, each
// followed by the objects first used inside it.
func (r *renderer) plan() {
	r.slugs = map[string]int{}
	r.add(2, "The top level", func(r *renderer) { r.topLevel() })
	for p := r.root.Properties.Oldest(); p != nil; p = p.Next() {
		key, s := p.Key, p.Value
		if !holdsObjects(s) {
			continue
		}
		title := sectionTitles[key]
		if title == "" {
			title = key
		}
		sec := r.add(2, title+": `"+key+"`", func(r *renderer) { r.keySection(key, s) })
		if name, ok := defName(elem(s).Ref); ok {
			r.anchors[name] = sec.anchor
			r.done[name] = true
			r.planNested(r.root.Definitions[name])
		} else {
			r.planNested(elem(s))
		}
	}
}

// planNested adds a section after the current one for each $def that s uses and that has none yet.
func (r *renderer) planNested(s *jsonschema.Schema) {
	for _, sub := range children(s) {
		name, ok := defName(elem(sub).Ref)
		if !ok || r.done[name] {
			continue
		}
		r.done[name] = true
		def := r.root.Definitions[name]
		sec := r.add(3, capitalize(defTitle(name)), func(r *renderer) { r.defSection(name, def) })
		r.anchors[name] = sec.anchor
		r.planNested(def)
	}
}

func (r *renderer) add(level int, title string, render func(*renderer)) *section {
	s := &section{level: level, title: title, anchor: r.slug(title), render: render}
	r.sections = append(r.sections, s)
	return s
}

// slug is the anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens, a
// repeated heading suffixed -1, -2, ...
func (r *renderer) slug(title string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(title) {
		switch {
		case c == ' ':
			b.WriteByte('-')
		case c == '-' || c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c):
			b.WriteRune(c)
		}
	}
	s := b.String()
	if n := r.slugs[s]; n > 0 {
		r.slugs[s] = n + 1
		return s + "-" + strconv.Itoa(n)
	}
	r.slugs[s] = 1
	return s
}

func (r *renderer) printf(format string, args ...any) { fmt.Fprintf(&r.out, format, args...) }

// heading starts a section, one blank line after what precedes it.
func (r *renderer) heading(level int, title string) {
	r.out.Truncate(len(bytes.TrimRight(r.out.Bytes(), "\n")))
	r.printf("\n\n%s %s\n\n", strings.Repeat("#", level), title)
}

func (r *renderer) intro(in Input) {
	r.printf("# The fleet spec: reference\n\n")
	r.printf("<!-- Generated from schema/fleet.schema.json and %s by `go generate ./schema`: do not edit. -->\n\n", in.ExamplePath)
	r.printf("%s\n\n", oneLine(r.root.Description))
	r.printf("A spec is one or more YAML files: `-f` names a file or a folder (its `*.yaml` and `*.yml` files, not\n" +
		"recursing) and may be repeated, and a file may hold several documents. Write names as the console shows\n" +
		"them (sites, products, images, networks); an id is accepted too where the API has one.\n\n")
	r.printf("This page is generated from the JSON Schema of the spec (`deskfleet schema` prints it), whose\n" +
		"descriptions are the doc comments of the spec's Go types in `spec/`. To change it, edit those comments\n" +
		"and run `go generate ./schema`, which rewrites schema/fleet.schema.json and this page; a test fails\n" +
		"while the page is stale.\n\n")
	r.printf("How to read the tables:\n\n" +
		"- **Required**: a document without the field is an error.\n" +
		"- **Default / when omitted**: what a field left out means: a built-in default, a value inherited from\n" +
		"  `defaults`, or *not managed* (deskfleet leaves the live value alone). A field that is set is enforced,\n" +
		"  `label: \"\"` included.\n" +
		"- Keys not in the tables are errors. `deskfleet validate` reports every error as `file:line:col`, and also\n" +
		"  checks what no schema can: that the names of plans, profiles, desktops and accounts refer to\n" +
		"  something, and that no name is declared twice.\n" +
		"- With `# yaml-language-server: $schema=...` as a file's first line, editors complete keys and show these\n" +
		"  descriptions.\n")
	r.heading(2, "The schema next to a spec")
	r.printf("A spec kept outside this repository gets the schema from the `deskfleet` it is applied with, so\n" +
		"that the editor checks the spec against the grammar that deskfleet reads:\n\n" +
		"```sh\n" +
		"deskfleet schema > fleet.schema.json     # again after upgrading deskfleet\n" +
		"```\n\n" +
		"and starts each spec file with the modeline, the path relative to the spec file:\n\n" +
		"```yaml\n" +
		"# yaml-language-server: $schema=./fleet.schema.json\n" +
		"```\n")
	r.heading(2, "YAML 1.1 tools: quote on and off")
	r.printf("deskfleet reads YAML 1.2, where `on` and `off` are strings. YAML 1.1 readers (PyYAML, and the editors\n" +
		"and scripts built on them) read an unquoted `on` or `off` as a boolean and write it back as `true` or\n" +
		"`false`. Write `power: \"on\"` and `power: \"off\"`, quoted: every reader takes them as strings, and\n" +
		"`deskfleet import` writes them so. A spec that a YAML 1.1 tool rewrote still loads: `power: true` is\n" +
		"read as `\"on\"` and `power: false` as `\"off\"`, each with a warning, and the schema allows them.\n")
	r.environments()
}

// environments writes the section on bases and overlays (extends and remove, spec/overlay.go).
func (r *renderer) environments() {
	r.heading(2, "Environments: a base and overlays")
	r.printf("One base can serve several fleets (staging and production, one per site or course): each\n" +
		"environment is a spec that `extends` the base and states only what differs, as a kustomize overlay\n" +
		"or a Helm values file does (examples/environments):\n\n" +
		"```yaml\n" +
		"# staging/fleet.yaml\n" +
		"version: 1\n" +
		"fleet: course-staging          # a fleet of its own: its own state record and lock\n" +
		"extends: ../base/fleet.yaml    # a file or folder, relative to this file; it may be outside the fleet's folder\n" +
		"defaults:\n" +
		"  bandwidth: 2                 # replaces the base's; the other defaults stay the base's\n" +
		"desktops:\n" +
		"  - name: lab                  # the base's group lab, field by field: only count changes\n" +
		"    count: 1\n" +
		"remove:\n" +
		"  desktops: [teacher]          # the base's group teacher is not in staging\n" +
		"```\n\n" +
		"`deskfleet validate -f staging` reads base/fleet.yaml, then staging's files. A base may extend a base of\n" +
		"its own (at most 31 deep). A spec has one base: its files set `extends` once (a second one is an error,\n" +
		"and so is a list). The extending spec's values override the base's by this rule:\n\n" +
		"| Key | Rule |\n" +
		"| --- | --- |\n" +
		"| `fleet`, `version` | replaced |\n" +
		"| `defaults` | key by key: a key the spec sets replaces the base's value |\n" +
		"| `billing`, `profiles` | by name: a new name is added; a name the base has is overridden field by field |\n" +
		"| `accounts` | by email, in any case: a new account is added after the base's; one the base has is overridden field by field |\n" +
		"| `desktops` | by group name: a new group is added after the base's; one the base has is overridden field by field |\n" +
		"| `bindings` | desktop by desktop; bindings are managed when the base or the spec has the key |\n" +
		"| a value | replaced whole: a scalar, and a `network` or `product` mapping (their keys mean something only together: a subnet belongs to its VPC) |\n" +
		"| `remove` | deletes entries of the base before the spec's values apply; an entry removed and declared again is replaced whole |\n\n" +
		"An entry that overrides one of the base's still has the keys each entry requires in every file (a billing\n" +
		"plan's `cycle`, an account's `name`): the schema checks each file on its own, as an editor does. There are\n" +
		"no variables: values stay literal YAML that the schema checks where they are written.\n\n" +
		"Every error names the `file:line:col` of the value that won: the overlay's when the overlay set it, the\n" +
		"base's when the base's was kept. A base that cannot be read, that is not a spec (its name does not end in\n" +
		"`.yaml` or `.yml`, or a document has no `version`), that makes a cycle, and a name under `remove` that\n" +
		"the base does not have are errors at the value that names them.\n\n" +
		"Without `extends` nothing changes: the files of one spec merge, and a key set in two of them is an error\n" +
		"(`defaults.bandwidth is set twice`). A file named with `-f` that another file named extends is read as\n" +
		"a base only, so `-f` may name a folder holding a base and its overlay. The spec's files, bases included,\n" +
		"are what a saved plan records and what its digest covers: a change to the base makes the overlay's saved\n" +
		"plan stale.\n")
}

func (r *renderer) contents() {
	r.heading(2, "Contents")
	for _, s := range r.sections {
		r.printf("%s- [%s](#%s)\n", strings.Repeat("  ", s.level-2), s.title, s.anchor)
	}
	r.printf("- [A complete example](#a-complete-example)\n")
}

func (r *renderer) topLevel() {
	r.heading(2, r.sections[0].title)
	r.printf("Each document of a spec is a YAML mapping with these keys, usually written in this order.\n\n")
	r.table(r.root)
}

// keySection shows a top-level key that holds objects: a map of them, a list of them, or one object.
func (r *renderer) keySection(key string, s *jsonschema.Schema) {
	sec := r.sectionFor(key)
	r.heading(2, sec.title)
	r.printf("%s\n\n", oneLine(s.Description))
	e := elem(s)
	name, isDef := defName(e.Ref)
	var def *jsonschema.Schema
	what := "an object with these fields" // a list's item or a map's value
	if isDef {
		def = r.root.Definitions[name]
		if d, ok := strings.CutPrefix(oneLine(def.Description), name+" is "); ok {
			what = strings.TrimSuffix(d, ".") + "; its fields"
		}
	} else if e.Type != "object" {
		what = withArticle(typeText(r, e))
		if d := oneLine(e.Description); d != "" {
			what += ". " + d
		}
	}
	switch {
	case s.Type == "array":
		r.printf("`%s` is a list; each item is %s:\n\n", key, what)
	case s.AdditionalProperties != nil && (isDef || e.Type == "object"):
		r.printf("`%s` is a map: each key is a name of your choice, each value is %s:\n\n", key, what)
	case s.AdditionalProperties != nil:
		r.printf("`%s` is a map; each value is %s\n\n", key, what)
	}
	switch {
	case isDef && s == e:
		r.object("", def) // a single object: the key's description says what it is
	case isDef:
		r.table(def)
	case e.Type == "object" && e.Properties != nil:
		r.table(e)
	}
	r.examples(s.Examples)
}

// sectionFor returns the section of a top-level key.
func (r *renderer) sectionFor(key string) *section {
	for _, s := range r.sections {
		if strings.HasSuffix(s.title, ": `"+key+"`") {
			return s
		}
	}
	panic("no section for " + key)
}

// defSection shows a $def first used inside another object.
func (r *renderer) defSection(name string, def *jsonschema.Schema) {
	r.heading(3, capitalize(defTitle(name)))
	r.printf("Used at %s.\n\n", strings.Join(r.uses[name], ", "))
	r.object(name, def)
	r.examples(def.Examples)
}

// object shows a $def (named name) or an inline object (name ""): its description, its shape and its
// fields.
func (r *renderer) object(name string, s *jsonschema.Schema) {
	if d := docText(name, s.Description); d != "" && name != "" {
		r.printf("%s\n\n", d)
	}
	if len(s.OneOf) > 0 {
		r.printf("Either:\n\n")
		for _, o := range s.OneOf {
			r.printf("- %s: %s%s\n", typeText(r, o), oneLine(o.Description), exampleText(o.Examples))
		}
		r.printf("\n")
		for _, o := range s.OneOf {
			if o.Properties != nil && o.Properties.Len() > 0 {
				r.printf("The fields of the object form:\n\n")
				r.table(o)
			}
		}
		return
	}
	r.table(s)
}

// table writes the fields of an object, then its conditional rules.
func (r *renderer) table(s *jsonschema.Schema) {
	r.printf("| Field | Type | Required | Default / when omitted | Description |\n")
	r.printf("| --- | --- | --- | --- | --- |\n")
	for p := s.Properties.Oldest(); p != nil; p = p.Next() {
		desc, def := splitDefault(p.Value.Description)
		if p.Value.Default != nil {
			def = "`" + valueText(p.Value.Default) + "`"
		}
		required := "no"
		if slices.Contains(s.Required, p.Key) {
			required = "**yes**"
		}
		r.printf("| `%s` | %s | %s | %s | %s |\n", p.Key, cell(typeText(r, p.Value)), required, cell(def),
			cell(desc+exampleText(p.Value.Examples)))
	}
	r.printf("\n")
	if s.If != nil && s.Then != nil && s.Then.Properties != nil {
		for p := s.Then.Properties.Oldest(); p != nil; p = p.Next() {
			r.printf("When %s: `%s` %s. %s\n\n", condText(s.If), p.Key, constraintText(p.Value), oneLine(p.Value.Description))
		}
	}
}

func (r *renderer) examples(ex []any) {
	if len(ex) > 0 {
		r.printf("Example: %s\n", strings.TrimPrefix(strings.TrimSuffix(exampleText(ex), "."), " Example: "))
	}
}

func (r *renderer) example(in Input) {
	r.heading(2, "A complete example")
	r.printf("%s, as it is in the repository:\n\n", in.ExamplePath)
	fence := "```"
	for strings.Contains(string(in.Example), fence) {
		fence += "`"
	}
	r.printf("%syaml\n%s", fence, in.Example)
	if !bytes.HasSuffix(in.Example, []byte("\n")) {
		r.printf("\n")
	}
	r.printf("%s\n", fence)
}

// typeText is the Type cell: the JSON type with its enum, format and bounds, or a link to the object.
func typeText(r *renderer, s *jsonschema.Schema) string {
	if name, ok := defName(s.Ref); ok {
		return fmt.Sprintf("[%s](#%s)", defTitle(name), r.anchors[name])
	}
	if len(s.OneOf) > 0 {
		var alts []string
		for _, o := range s.OneOf {
			alts = append(alts, typeText(r, o))
		}
		return strings.Join(alts, " or ")
	}
	if len(s.Enum) > 0 {
		var vals []string
		for _, v := range s.Enum {
			vals = append(vals, "`"+valueText(v)+"`")
		}
		prefix := ""
		if s.Type != "" {
			prefix = s.Type + ": "
		}
		if len(vals) == 1 {
			return prefix + vals[0]
		}
		return prefix + strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
	}
	switch s.Type {
	case "array":
		return "list of " + typeText(r, s.Items)
	case "object":
		if s.AdditionalProperties != nil && (s.Properties == nil || s.Properties.Len() == 0) {
			return "map of names to " + typeText(r, s.AdditionalProperties)
		}
		if s.MinProperties != nil && *s.MinProperties > 0 {
			return fmt.Sprintf("object (at least %d field)", *s.MinProperties)
		}
		return "object"
	}
	t := s.Type
	if s.MinLength != nil && *s.MinLength == 1 {
		t = "non-empty " + t
	}
	var extra []string
	if s.Format != "" {
		extra = append(extra, s.Format)
	}
	if c := boundsText(s); c != "" {
		extra = append(extra, c)
	}
	if s.Pattern != "" {
		extra = append(extra, "matching `"+s.Pattern+"`")
	}
	if len(extra) > 0 {
		t += " (" + strings.Join(extra, ", ") + ")"
	}
	return t
}

// boundsText is the numeric and length bounds of s, "" if none (a minLength of 1 is shown as non-empty).
func boundsText(s *jsonschema.Schema) string {
	var parts []string
	switch {
	case s.Minimum != "" && s.Maximum != "":
		parts = append(parts, string(s.Minimum)+" to "+string(s.Maximum))
	case s.Minimum != "":
		parts = append(parts, "at least "+string(s.Minimum))
	case s.Maximum != "":
		parts = append(parts, "at most "+string(s.Maximum))
	}
	if s.MinLength != nil && *s.MinLength > 1 {
		parts = append(parts, fmt.Sprintf("at least %d characters", *s.MinLength))
	}
	if s.MaxLength != nil {
		parts = append(parts, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	return strings.Join(parts, ", ")
}

// constraintText is a conditional rule's constraint on a field, as words.
func constraintText(s *jsonschema.Schema) string {
	if c := boundsText(s); c != "" {
		return "is " + c
	}
	if len(s.Enum) > 0 {
		return "is " + typeText(nil, s)
	}
	return "has further rules"
}

// condText is an if-schema as words: "`a` is set".
func condText(s *jsonschema.Schema) string {
	var keys []string
	for _, k := range s.Required {
		keys = append(keys, "`"+k+"`")
	}
	if len(keys) == 0 {
		return "a further condition holds"
	}
	return strings.Join(keys, " and ") + " is set"
}

// defaultSentence matches the sentences of a description that say what omitting the field means: the
// doc comments of package spec write them as "Default X.", "Built-in default: X." or "Omitted: X.".
var defaultSentence = regexp.MustCompile(`^(?:Default:? |Built-in default: |Omitted: )(.*)\.$`)

// splitDefault takes the sentences about the default out of a description: the rest, and the default.
func splitDefault(desc string) (rest, def string) {
	var keep, defs []string
	for _, s := range sentences(oneLine(desc)) {
		if m := defaultSentence.FindStringSubmatch(s); m != nil {
			defs = append(defs, m[1])
		} else {
			keep = append(keep, s)
		}
	}
	return strings.Join(keep, " "), strings.Join(defs, "; ")
}

// sentences splits text after each period that is followed by a space.
func sentences(text string) []string {
	var out []string
	for text != "" {
		i := strings.Index(text, ". ")
		if i < 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:i+1])
		text = text[i+2:]
	}
	return out
}

// exampleText is " Example: `x`." (or "Examples: ...") for a description, "" without examples.
func exampleText(ex []any) string {
	if len(ex) == 0 {
		return ""
	}
	var vals []string
	for _, v := range ex {
		vals = append(vals, "`"+valueText(v)+"`")
	}
	label := " Example: "
	if len(vals) > 1 {
		label = " Examples: "
	}
	return label + strings.Join(vals, ", ") + "."
}

// valueText writes a JSON value as YAML's flow style would: {gpu: NVIDIA A5000, os: windows}.
func valueText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+": "+valueText(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		var parts []string
		for _, e := range v {
			parts = append(parts, valueText(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return fmt.Sprint(v)
	}
}

// docText is a type's doc comment as a user reads it: "Group is a desktop group: ..." becomes "A desktop
// group: ...", "Network selects ..." becomes "Selects ...".
func docText(name, desc string) string {
	d := oneLine(desc)
	rest, ok := strings.CutPrefix(d, name+" ")
	if name == "" || !ok || rest == "" {
		return d
	}
	return capitalize(strings.TrimPrefix(rest, "is "))
}

// withArticle puts "a" or "an" before a type's name.
func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func capitalize(s string) string {
	first, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(first)) + s[size:]
}

// oneLine joins a description's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cell makes text safe in a table cell: one line, pipes escaped (GitHub honours \| in code spans too).
func cell(s string) string {
	s = strings.ReplaceAll(oneLine(s), "|", `\|`)
	if s == "" {
		return "—"
	}
	return s
}

// defName is the $defs name of a "#/$defs/Name" reference.
func defName(ref string) (string, bool) {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	return name, ok && name != ""
}

// elem is what a list or map holds, or s itself.
func elem(s *jsonschema.Schema) *jsonschema.Schema {
	switch {
	case s.Items != nil:
		return s.Items
	case s.AdditionalProperties != nil:
		return s.AdditionalProperties
	}
	return s
}

// holdsObjects reports whether a top-level key holds objects (one, or a list or map of them), or a map.
func holdsObjects(s *jsonschema.Schema) bool {
	e := elem(s)
	_, isDef := defName(e.Ref)
	return isDef || e.Type == "object" || s.AdditionalProperties != nil
}

// children are the schemas directly inside s: its properties, and those of its alternatives.
func children(s *jsonschema.Schema) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	if s == nil {
		return nil
	}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			out = append(out, p.Value)
		}
	}
	for _, o := range s.OneOf {
		out = append(out, children(o)...)
	}
	return out
}
