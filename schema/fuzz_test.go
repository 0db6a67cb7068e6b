package schema

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/deskfleet/deskfleet/spec"
)

// FuzzValidate feeds arbitrary bytes through spec.ParseSources (what ReadSources does with a file's
// bytes) to Validate. Neither may panic; every diagnostic must name the file, have a line >= 1 and a
// message; and the conversion stays bounded on alias and merge bombs (a slow input shows up as a
// stalled fuzzer). The seed corpus is the examples, the f.Add cases below and
// testdata/fuzz/FuzzValidate (run as ordinary tests by `go test`).
func FuzzValidate(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/*.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		head + "desktops:\n  - {name: a, power: on, product: e0997510, image: i}\n  - &b {name: b, count: 2}\n  - <<: *b\n    name: c\n",
		head + "desktops: [{name: a, count: three, lable: x}]\n",
		"version: 2\n---\nfleet: t\n",
		"*a",
		"a: &a [*a]\n",
		"<<: {version: 1}\nfleet: t\n",
		"? [a, b]\n: c\nversion: 1\nfleet: t\n",
		"version: 1\nfleet: t\nprofiles: {p: {<<: [*x]}}\n",
		"version: 0x1\nfleet: !!binary aGVsbG8=\ndesktops: !!map {}\n",
		"version: 1e400\nfleet: .nan\n",
		"\xff\xfe\x00v\x00e\x00r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fleet.yaml"
		srcs, parse := spec.ParseSources(file, data)
		for _, d := range parse {
			if d.Pos.File != file || d.Pos.Line < 1 || d.Message == "" {
				t.Errorf("parse diagnostic without a file, a line or a message: %s", d)
			}
		}
		for _, d := range Validate(srcs) {
			if d.Pos.File != file {
				t.Errorf("diagnostic not naming the file: %s", d)
			}
			if d.Pos.Line < 1 {
				t.Errorf("diagnostic without a line: %s", d)
			}
			if d.Message == "" {
				t.Errorf("diagnostic without a message at %s", d.Pos)
			}
		}
	})
}
