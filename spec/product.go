package spec

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
	"gopkg.in/yaml.v3"
)

// Product chooses a product (QueryProducts). In YAML it is either a string, a productId, or a mapping
// of selector fields that must match exactly one product at the desktop's site. Exactly one of ID and
// the selector fields is set.
type Product struct {
	// ID is the productId when the product is given as a string.
	ID string `yaml:"-" json:"-"`
	// GPU model, as QueryProducts' gpuModel.
	GPU string `yaml:"gpu,omitempty" json:"gpu,omitempty" jsonschema:"minLength=1,example=NVIDIA A5000"`
	// GPU memory in GB (gpuRam).
	GPURam *int `yaml:"gpuRam,omitempty" json:"gpuRam,omitempty" jsonschema:"minimum=1,example=24"`
	// CPU cores (cpuCores).
	CPU *int `yaml:"cpu,omitempty" json:"cpu,omitempty" jsonschema:"minimum=1,example=14"`
	// Memory in GB (memorySize).
	Memory *int `yaml:"memory,omitempty" json:"memory,omitempty" jsonschema:"minimum=1,example=25"`
	// System disk in GB (systemDiskSize).
	Disk *int `yaml:"disk,omitempty" json:"disk,omitempty" jsonschema:"minimum=1,example=150"`
	// Operating system (os).
	OS string `yaml:"os,omitempty" json:"os,omitempty" jsonschema:"minLength=1,example=windows"`

	// Pos is where the product value starts.
	Pos Pos `yaml:"-" json:"-"`
}

// IsZero reports whether no product is set.
func (p Product) IsZero() bool {
	return p.ID == "" && p.GPU == "" && p.GPURam == nil && p.CPU == nil && p.Memory == nil && p.Disk == nil && p.OS == ""
}

// String renders the product as its id, or as its selector fields in declaration order, each as
// key=value ("gpu=NVIDIA A5000 os=windows").
func (p Product) String() string {
	if p.ID != "" {
		return p.ID
	}
	var parts []string
	v := reflect.ValueOf(p)
	for _, f := range grammarOf(v.Type()).fields {
		fv := v.Field(f.index)
		switch {
		case fv.Kind() == reflect.String && fv.String() != "":
			parts = append(parts, f.key+"="+fv.String())
		case fv.Kind() == reflect.Pointer && !fv.IsNil():
			parts = append(parts, f.key+"="+fmt.Sprint(fv.Elem().Interface()))
		}
	}
	return strings.Join(parts, " ")
}

// UnmarshalYAML decodes a product from a string or a selector mapping, strictly (unknown keys are
// errors): it is checked against the product's part of the fleet schema, then decoded as Load decodes
// it. The error names the line and column of the first problem; Load reports all of them instead.
func (p *Product) UnmarshalYAML(n *yaml.Node) error {
	sch, err := ownSchema()
	if err != nil {
		return err
	}
	w := walkDocument("", n)
	if w.tooLarge() || w.cycle != nil {
		return fmt.Errorf("line %d, column %d: product too large, or an alias that contains itself", n.Line, n.Column)
	}
	root := place{g: grammarOf(reflect.TypeFor[Product]()), key: keyGroupProduct}
	diags := w.flawDiagnostics(root)
	ds, bad := w.explain(sch.product, sch.source, root)
	diags = append(diags, ds...)
	if len(diags) > 0 {
		diags.Sort()
		return fmt.Errorf("line %d, column %d: %s", diags[0].Pos.Line, diags[0].Pos.Col, diags[0].Message)
	}
	var v Product
	d := &decoder{w: w, bad: bad, budget: maxNodes, keyPos: map[string]Pos{}, valPos: map[string]Pos{}}
	d.decode(w.root, "", keyGroupProduct, reflect.ValueOf(&v).Elem(), "")
	*p = v
	return nil
}

// MarshalYAML writes a product as its id, or as its selector mapping.
func (p Product) MarshalYAML() (any, error) {
	if p.ID != "" {
		return p.ID, nil
	}
	type selector Product // without the methods
	return selector(p), nil
}

func (p *Product) setID(id string, at Pos) { *p = Product{ID: id, Pos: at} }

func (Product) noun() string { return "product selector" }

func (Product) oneOfWant() string {
	return "a productId string or a selector like {gpu: NVIDIA A5000, os: windows}"
}

// JSONSchemaExtend turns the reflected selector object into "a productId string, or a selector object".
func (Product) JSONSchemaExtend(s *jsonschema.Schema) {
	obj := &jsonschema.Schema{
		Type:                 "object",
		Description:          "Selector over QueryProducts at the site; must match exactly one product.",
		Properties:           s.Properties,
		AdditionalProperties: jsonschema.FalseSchema,
		MinProperties:        ptr(uint64(1)),
	}
	id := &jsonschema.Schema{Type: "string", MinLength: ptr(uint64(1)), Description: "A productId.",
		Examples: []any{"e0997510-1b69-4de8-85a8-cc44b2dd28f8"}}
	s.Type, s.Properties, s.AdditionalProperties, s.Required = "", nil, nil, nil
	s.OneOf = []*jsonschema.Schema{id, obj}
	s.Examples = []any{map[string]any{"gpu": "NVIDIA A5000", "os": "windows"}}
}

func ptr[T any](v T) *T { return &v }
