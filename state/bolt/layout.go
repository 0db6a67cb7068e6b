package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/deskfleet/deskfleet/state"
)

// The per-object layout (format deskfleet-state/2). Bucket "fleets" holds a bucket per fleet:
//
//	head                      {"fleet":NAME,"serial":N,"write":ID} (ID: random, new at each write)
//	desktops/VMID             a state.Desktop
//	accounts/EMAIL            a state.Account
//	intents/SEQ               a state.Intent (SEQ: 8 bytes, big-endian: the journal's order)
//	runs/SEQ                  a state.Run without its steps
//	steps/RUNSEQ+POS          a state.StepOutcome of run RUNSEQ at position POS (4 bytes, big-endian)
//
// Every value is sealed (state.Seal: a checksum of its JSON), so damage is found per object and
// refused with the fleet named. An Update writes the objects it changed (state.Changes) and the head,
// so its cost does not grow with the number of desktops.
//
// Format deskfleet-state/1 kept a fleet's whole record as one value in bucket "records". A file in
// that format is read as it is, and converted to this layout by the first write transaction of a
// deskfleet that knows it (migrateFormat1), in that transaction.

var (
	bucketFleets   = []byte("fleets")
	keyHead        = []byte("head")
	bucketDesktops = []byte("desktops")
	bucketAccounts = []byte("accounts")
	bucketIntents  = []byte("intents")
	bucketRuns     = []byte("runs")
	bucketSteps    = []byte("steps")
	objectBuckets  = [][]byte{bucketDesktops, bucketAccounts, bucketIntents, bucketRuns, bucketSteps}
)

// head is a fleet's own fields, and an id of the write that stored them (so that a Store keeping the
// record knows whether the file still holds what it wrote: the serial alone goes back on Restore).
type head struct {
	Fleet  string `json:"fleet"`
	Serial int64  `json:"serial"`
	Write  string `json:"write,omitempty"`
}

func seqKey(seq int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(seq)) }

func stepKey(runSeq int64, pos int) []byte {
	return binary.BigEndian.AppendUint32(seqKey(runSeq), uint32(pos))
}

// fleetBucket returns fleet's bucket, nil when it has none.
func fleetBucket(tx *bbolt.Tx, fleet string) *bbolt.Bucket {
	if b := tx.Bucket(bucketFleets); b != nil {
		return b.Bucket([]byte(fleet))
	}
	return nil
}

// errDamaged is what a sealed value that cannot be read back is (wrapped with what it is).
type damagedValue struct {
	what string
	err  error
}

func (e *damagedValue) Error() string { return e.what + ": " + e.err.Error() }
func (e *damagedValue) Unwrap() error { return e.err }

func unseal(v []byte, into any, what string) error {
	if _, err := state.Unseal(v, into); err != nil {
		return &damagedValue{what: what, err: err}
	}
	return nil
}

// readHead returns the head of fleet's bucket (zero when there is no bucket).
func readHead(fb *bbolt.Bucket) (head, error) {
	var h head
	if fb == nil {
		return h, nil
	}
	v := fb.Get(keyHead)
	if v == nil {
		return h, &damagedValue{what: "its head", err: errors.New("missing")}
	}
	err := unseal(v, &h, "its head")
	return h, err
}

// loadFleet reads fleet's record from its bucket (format 2), every value checked.
func loadFleet(fb *bbolt.Bucket, fleet string) (*state.Record, error) {
	rec := &state.Record{Fleet: fleet}
	h, err := readHead(fb)
	if err != nil || fb == nil {
		return rec, err
	}
	rec.Serial = h.Serial
	err = forEach(fb, bucketDesktops, func(k, v []byte) error {
		var d state.Desktop
		if err := unseal(v, &d, "desktop "+string(k)); err != nil {
			return err
		}
		if rec.Desktops == nil {
			rec.Desktops = map[string]state.Desktop{}
		}
		rec.Desktops[string(k)] = d
		return nil
	})
	if err == nil {
		err = forEach(fb, bucketAccounts, func(k, v []byte) error {
			var a state.Account
			if err := unseal(v, &a, "account "+string(k)); err != nil {
				return err
			}
			if rec.Accounts == nil {
				rec.Accounts = map[string]state.Account{}
			}
			rec.Accounts[string(k)] = a
			return nil
		})
	}
	if err == nil {
		err = forEach(fb, bucketIntents, func(k, v []byte) error {
			var in state.Intent
			if len(k) != 8 {
				return &damagedValue{what: "an intent", err: fmt.Errorf("key %x", k)}
			}
			if err := unseal(v, &in, "an intent"); err != nil {
				return err
			}
			rec.LoadIntent(int64(binary.BigEndian.Uint64(k)), in)
			return nil
		})
	}
	if err == nil {
		err = loadRuns(fb, rec)
	}
	return rec, err
}

func loadRuns(fb *bbolt.Bucket, rec *state.Record) error {
	pos := map[int64]int{} // run seq -> position in rec.Runs
	err := forEach(fb, bucketRuns, func(k, v []byte) error {
		var run state.Run
		if len(k) != 8 {
			return &damagedValue{what: "a run", err: fmt.Errorf("key %x", k)}
		}
		if err := unseal(v, &run, "a run"); err != nil {
			return err
		}
		seq := int64(binary.BigEndian.Uint64(k))
		pos[seq] = len(rec.Runs)
		rec.LoadRun(seq, run)
		return nil
	})
	if err != nil {
		return err
	}
	return forEach(fb, bucketSteps, func(k, v []byte) error {
		var so state.StepOutcome
		if len(k) != 12 {
			return &damagedValue{what: "a step outcome", err: fmt.Errorf("key %x", k)}
		}
		if err := unseal(v, &so, "a step outcome"); err != nil {
			return err
		}
		i, ok := pos[int64(binary.BigEndian.Uint64(k))]
		if !ok {
			return nil // of a run trimmed meanwhile: ignored
		}
		rec.Runs[i].Steps = append(rec.Runs[i].Steps, so)
		return nil
	})
}

func forEach(fb *bbolt.Bucket, name []byte, fn func(k, v []byte) error) error {
	b := fb.Bucket(name)
	if b == nil {
		return nil
	}
	return b.ForEach(fn)
}

// putSealed stores v sealed under key in b.
func putSealed(b *bbolt.Bucket, key []byte, v any) error {
	data, err := state.Seal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	return b.Put(key, data)
}

// writeWhole replaces fleet's bucket by rec, every object written; write identifies the write.
func writeWhole(tx *bbolt.Tx, fleet string, rec *state.Record, write string) error {
	fleets, err := tx.CreateBucketIfNotExists(bucketFleets)
	if err != nil {
		return err
	}
	if fleets.Bucket([]byte(fleet)) != nil {
		if err := fleets.DeleteBucket([]byte(fleet)); err != nil {
			return err
		}
	}
	fb, err := fleetBuckets(fleets, fleet)
	if err != nil {
		return err
	}
	ch := state.Changes{RunSteps: map[string]int{}}
	for id := range rec.Desktops {
		ch.Desktops = append(ch.Desktops, id)
	}
	for e := range rec.Accounts {
		ch.Accounts = append(ch.Accounts, e)
	}
	for _, in := range rec.Intents {
		ch.Intents = append(ch.Intents, in.ID)
	}
	for _, run := range rec.Runs {
		ch.Runs = append(ch.Runs, run.ID)
		ch.RunSteps[run.ID] = 0
	}
	return writeChanges(fb, rec, ch, write)
}

// fleetBuckets creates fleet's bucket and its object buckets.
func fleetBuckets(fleets *bbolt.Bucket, fleet string) (*bbolt.Bucket, error) {
	fb, err := fleets.CreateBucketIfNotExists([]byte(fleet))
	if err != nil {
		return nil, err
	}
	for _, name := range objectBuckets {
		if _, err := fb.CreateBucketIfNotExists(name); err != nil {
			return nil, err
		}
	}
	return fb, nil
}

// writeChanges writes the head and the objects ch names, as rec holds them now; write identifies
// the write.
func writeChanges(fb *bbolt.Bucket, rec *state.Record, ch state.Changes, write string) error {
	if err := putSealed(fb, keyHead, head{Fleet: rec.Fleet, Serial: rec.Serial, Write: write}); err != nil {
		return err
	}
	desktops, accounts := fb.Bucket(bucketDesktops), fb.Bucket(bucketAccounts)
	intents, runs, steps := fb.Bucket(bucketIntents), fb.Bucket(bucketRuns), fb.Bucket(bucketSteps)
	for _, id := range ch.Desktops {
		var err error
		if d, ok := rec.Desktops[id]; ok {
			err = putSealed(desktops, []byte(id), d)
		} else {
			err = desktops.Delete([]byte(id))
		}
		if err != nil {
			return err
		}
	}
	for _, e := range ch.Accounts {
		var err error
		if a, ok := rec.Accounts[e]; ok {
			err = putSealed(accounts, []byte(e), a)
		} else {
			err = accounts.Delete([]byte(e))
		}
		if err != nil {
			return err
		}
	}
	for _, d := range ch.DroppedIntents {
		if err := intents.Delete(seqKey(d.Seq)); err != nil {
			return err
		}
	}
	for _, id := range ch.Intents {
		if in, ok := rec.Intent(id); ok {
			if err := putSealed(intents, seqKey(rec.IntentSeq(id)), in); err != nil {
				return err
			}
		}
	}
	for _, d := range ch.DroppedRuns {
		if err := runs.Delete(seqKey(d.Seq)); err != nil {
			return err
		}
		if err := deleteSteps(steps, d.Seq, 0); err != nil {
			return err
		}
	}
	for _, id := range ch.Runs {
		if run, ok := rec.Run(id); ok {
			run.Steps = nil
			if err := putSealed(runs, seqKey(rec.RunSeq(id)), run); err != nil {
				return err
			}
		}
	}
	for id, from := range ch.RunSteps {
		run, ok := rec.Run(id)
		if !ok {
			continue
		}
		seq := rec.RunSeq(id)
		for i := from; i < len(run.Steps); i++ {
			if err := putSealed(steps, stepKey(seq, i), run.Steps[i]); err != nil {
				return err
			}
		}
		if err := deleteSteps(steps, seq, len(run.Steps)); err != nil {
			return err
		}
	}
	return nil
}

// deleteSteps removes run seq's stored step outcomes from position from on.
func deleteSteps(steps *bbolt.Bucket, seq int64, from int) error {
	c := steps.Cursor()
	prefix := seqKey(seq)
	var doomed [][]byte
	for k, _ := c.Seek(stepKey(seq, from)); len(k) == 12 && string(k[:8]) == string(prefix); k, _ = c.Next() {
		doomed = append(doomed, append([]byte(nil), k...))
	}
	for _, k := range doomed {
		if err := steps.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// migrateFormat1 converts a file of format deskfleet-state/1 (bucket "records": one value per fleet)
// to this layout, in tx: each record is written whole into its fleet's bucket, then bucket "records"
// is removed and the format set. A damaged record is an error (the file is not converted; Restore
// first).
func migrateFormat1(tx *bbolt.Tx, path string) error {
	old := tx.Bucket(bucketRecords)
	if old != nil {
		recs := map[string]*state.Record{}
		err := old.ForEach(func(k, v []byte) error {
			rec := &state.Record{Fleet: string(k)}
			if _, err := state.UnsealRecord(v, rec); err != nil {
				return corruptRecord(path, string(k), err.Error(), err)
			}
			recs[string(k)] = rec
			return nil
		})
		if err != nil {
			return err
		}
		for fleet, rec := range recs {
			rec.Fleet = fleet
			if err := writeWhole(tx, fleet, rec, ""); err != nil {
				return fmt.Errorf("converting the record of %s: %w", fleet, err)
			}
		}
		if err := tx.DeleteBucket(bucketRecords); err != nil {
			return err
		}
	}
	if _, err := tx.CreateBucketIfNotExists(bucketFleets); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyFormat, []byte(Format))
}
