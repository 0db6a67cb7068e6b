package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/deskfleet/deskfleet/schema"
)

func TestSchemaCommandPrintsTheSchema(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"deskfleet", "schema"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), schema.JSON()) {
		t.Error("deskfleet schema must print the committed fleet.schema.json unchanged")
	}
	var v map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil || v["$id"] != schema.ID {
		t.Errorf("want a JSON Schema with $id %q, got error %v", schema.ID, err)
	}
}
