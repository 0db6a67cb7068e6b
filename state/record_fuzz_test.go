package state_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/state"
)

// fuzzRecord is a record with every field set.
func fuzzRecord() *state.Record {
	label, account, remark := "team-a", "alice@example.com", "设计部"
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	return &state.Record{Fleet: "studio", Serial: 7,
		Desktops: map[string]state.Desktop{"vm-1": {VmID: "vm-1", Name: "render", ImageID: "img-1", AutoRenew: true,
			Protect: true, Label: &label, Account: &account, Power: "on", AppliedAt: at}},
		Accounts: map[string]state.Account{"alice@example.com": {Email: "alice@example.com", AccountID: "acc-1",
			Name: "alice", Remark: &remark}},
		Intents: []state.Intent{{ID: "run-1/1", RunID: "run-1", Step: 1, Op: "create_desktops", Action: "CreateVm",
			RequestID: "req-1", Targets: []string{"render"}, VmIDs: []string{"vm-1"}, TaskID: "task-1",
			Params: []byte(`{"op":"create_desktops"}`), Status: state.IntentDone, StartedAt: at, EndedAt: at}},
		Runs: []state.Run{{ID: "run-1", User: "ana", Host: "ci-1", Command: "deskfleet apply", StartedAt: at, EndedAt: at,
			SpecDigest: "sha256:abc", GitCommit: "0123abc", Outcome: "done",
			Steps: []state.StepOutcome{{Step: 1, Action: "CreateVm", Targets: "render", Status: "done"}}}},
	}
}

// FuzzUnsealRecord feeds arbitrary bytes to UnsealRecord, the decoder of every stored record. It must
// not panic; it fails with ErrChecksum or a decoding error, or gives a record that SealRecord encodes
// as bytes that unseal, verified, to a record that seals to the same bytes. The seed corpus is a
// sealed and an unsealed record and state/testdata/fuzz/FuzzUnsealRecord (run as ordinary tests).
func FuzzUnsealRecord(f *testing.F) {
	sealed, err := state.SealRecord(fuzzRecord())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	plain, _ := json.Marshal(fuzzRecord())
	f.Add(plain)
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec state.Record
		verified, err := state.UnsealRecord(data, &rec)
		if err != nil {
			if verified && errors.Is(err, state.ErrChecksum) {
				t.Errorf("a checksum error reported as verified")
			}
			return
		}
		if !bytes.HasPrefix(data, []byte(`{"checksum":"sha256:`)) && verified {
			t.Errorf("a record without a checksum reported as verified")
		}
		once, err := state.SealRecord(&rec)
		if err != nil {
			t.Fatalf("a decoded record does not seal: %v", err)
		}
		var again state.Record
		v, err := state.UnsealRecord(once, &again)
		if err != nil || !v {
			t.Fatalf("a sealed record does not unseal verified (%v, %v):\n%s", v, err, once)
		}
		twice, err := state.SealRecord(&again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Errorf("the round trip changed the record:\n%s\n%s", once, twice)
		}
	})
}
