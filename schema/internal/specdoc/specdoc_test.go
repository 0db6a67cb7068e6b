package specdoc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
)

func TestSplitDefault(t *testing.T) {
	tests := []struct {
		reason, desc, rest, def string
	}{
		{"Default X.", "Number of desktops, 1 to 1000. Default 1.", "Number of desktops, 1 to 1000.", "1"},
		{"Built-in default: X.", "Public bandwidth in Mbps. Built-in default: 5.", "Public bandwidth in Mbps.", "5"},
		{"Omitted: X. in the middle, over a line break", "Network. Omitted: defaults.network, else the\nsite's VPC. Changing it replaces the desktops.",
			"Network. Changing it replaces the desktops.", "defaults.network, else the site's VPC"},
		{"a period inside a sentence does not end it", "Omitted: defaults.site.", "", "defaults.site"},
		{"no default sentence", "Operating system (os).", "Operating system (os).", ""},
		{"\"default\" as a word is not a default sentence", "The default VPC, or a vpcName.", "The default VPC, or a vpcName.", ""},
	}
	for _, tt := range tests {
		rest, def := splitDefault(tt.desc)
		if rest != tt.rest || def != tt.def {
			t.Errorf("%s: splitDefault(%q) = %q, %q; want %q, %q", tt.reason, tt.desc, rest, def, tt.rest, tt.def)
		}
	}
}

func TestTypeText(t *testing.T) {
	r := &renderer{anchors: map[string]string{"Group": "desktop-groups-desktops"}}
	tests := []struct {
		reason, schema, want string
	}{
		{"an enum lists its values", `{"type":"string","enum":["on","off"]}`, "string: `on` or `off`"},
		{"a one-value enum", `{"type":"integer","enum":[1]}`, "integer: `1`"},
		{"a format", `{"type":"string","format":"email"}`, "string (email)"},
		{"minLength 1 reads as non-empty", `{"type":"string","minLength":1}`, "non-empty string"},
		{"bounds", `{"type":"integer","minimum":1,"maximum":1000}`, "integer (1 to 1000)"},
		{"a length limit", `{"type":"string","maxLength":30}`, "string (at most 30 characters)"},
		{"a reference links to its section, by the name the page uses", `{"$ref":"#/$defs/Group"}`,
			"[desktop group](#desktop-groups-desktops)"},
		{"a list", `{"type":"array","items":{"$ref":"#/$defs/Group"}}`, "list of [desktop group](#desktop-groups-desktops)"},
		{"a map", `{"type":"object","additionalProperties":{"type":"string"}}`, "map of names to string"},
		{"alternatives", `{"oneOf":[{"type":"string"},{"type":"object","minProperties":1}]}`,
			"string or object (at least 1 field)"},
	}
	for _, tt := range tests {
		var s jsonschema.Schema
		if err := json.Unmarshal([]byte(tt.schema), &s); err != nil {
			t.Fatalf("%s: %v", tt.reason, err)
		}
		if got := typeText(r, &s); got != tt.want {
			t.Errorf("%s: typeText(%s) = %q, want %q", tt.reason, tt.schema, got, tt.want)
		}
	}
}

func TestDocText(t *testing.T) {
	tests := []struct {
		reason, name, desc, want string
	}{
		{"\"X is a ...\" loses the Go name", "Group", "Group is a desktop group.", "A desktop group."},
		{"\"X verbs ...\" starts with the verb", "Network", "Network selects the VPC.", "Selects the VPC."},
		{"a description not about the name stays", "Network", "Networking is hard.", "Networking is hard."},
		{"an inline object has no name", "", "Group is a desktop group.", "Group is a desktop group."},
	}
	for _, tt := range tests {
		if got := docText(tt.name, tt.desc); got != tt.want {
			t.Errorf("%s: docText(%q, %q) = %q, want %q", tt.reason, tt.name, tt.desc, got, tt.want)
		}
	}
}

func TestRender(t *testing.T) {
	const small = `{"properties":{"version":{"type":"integer","enum":[1]},
		"items":{"type":"array","items":{"$ref":"#/$defs/Item"}}},
		"required":["version"],
		"$defs":{"Item":{"type":"object","properties":{"name":{"type":"string","description":"Its name | a pipe."},
			"part":{"$ref":"#/$defs/Part"}},"required":["name"],"description":"Item is a thing."},
			"Part":{"type":"object","properties":{"size":{"type":"integer","description":"Size. Default 2."}}}}}`
	tests := []struct {
		reason  string
		schema  string
		example string
		want    []string // substrings of the page, or of the error
		wantErr bool
	}{
		{"the top level, a section per key, a nested object after its user", small, "version: 1\n", []string{
			"| `version` | integer: `1` | **yes** | — |",
			"## items: `items`",
			"`items` is a list; each item is a thing; its fields:",
			"| `name` | string | **yes** | — | Its name \\| a pipe. |",
			"### Part\n\nUsed at `items[].part`.",
			"| `size` | integer | no | 2 | Size. |",
			"```yaml\nversion: 1\n```\n",
		}, false},
		{"an example holding a fence gets a longer one", small, "a: |\n  ```\n", []string{"````yaml\na: |\n  ```\n````\n"}, false},
		{"a $def nothing uses is an error, not a silent gap", strings.Replace(small, `"$defs":{`, `"$defs":{"Lost":{"type":"string"},`, 1),
			"", []string{"$defs/Lost is not used"}, true},
		{"no properties at the top level", `{"type":"object"}`, "", []string{"no properties"}, true},
	}
	for _, tt := range tests {
		out, err := Render(Input{Schema: []byte(tt.schema), Example: []byte(tt.example), ExamplePath: "ex.yaml"})
		got := string(out)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.reason)
				continue
			}
			got = err.Error()
		} else if err != nil {
			t.Errorf("%s: %v", tt.reason, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the output lacks %q:\n%s", tt.reason, w, got)
			}
		}
	}
}
