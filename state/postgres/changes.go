package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/deskfleet/deskfleet/state"
)

// Change sets (migration 3). A fleet's record is its base, the row of deskfleet_records (the whole
// record as jsonb, as every earlier version wrote it), followed by the change sets of the Updates
// since, in table deskfleet_changes: one row per object changed (a desktop, an account, an intent,
// a run, a step outcome of a run), with the serial of its Update and its position in it. A row's
// body is the object's JSON, NULL for an object deleted (or dropped from the journal); its checksum
// covers its kind, key, position and body. So an Update writes what it changed, whatever the size of
// the record.
//
// Compaction: Unlock folds the change sets of the lock's Updates into the base (writing the record
// the lock kept); so does the first Update under a lock, when change sets are pending (a holder that
// ended without Unlock), and an Update that finds more change rows than the record has objects (so
// they cost O(1) per Update, amortised). A record written whole (fn replaced it) is written as a new
// base. The base replaced becomes the previous generation (Restore): the record as it was at the
// previous lock's first write, roughly; when the first Update of a lock folds pending change sets,
// the record as it was before that Update.
//
// A database of schema version 2 or earlier migrates by adding the table: its records are bases
// without changes, read as they were.

var migration3 = migration{3, []string{
	`CREATE TABLE deskfleet_changes (
		fleet    text    NOT NULL,
		serial   bigint  NOT NULL,
		seq      integer NOT NULL,
		kind     text    NOT NULL,
		key      text    NOT NULL,
		pos      bigint  NOT NULL,
		body     jsonb,
		checksum text    NOT NULL,
		PRIMARY KEY (fleet, serial, seq)
	)`,
}}

// Kinds of change rows.
const (
	kindDesktop = "desktop"
	kindAccount = "account"
	kindIntent  = "intent"
	kindRun     = "run"  // the whole run, steps included
	kindStep    = "step" // key: the run's id; pos: the step's position in it
)

// changeChecksum is the SQL expression of a change row's checksum (of table alias t); checksumOf of
// changeText is the same in Go.
const changeChecksum = `encode(sha256(convert_to(t.kind || E'\n' || t.key || E'\n' || t.pos::text || E'\n' ||
	coalesce(t.body::jsonb::text, ''), 'UTF8')), 'hex')`

func changeText(kind, key string, pos int64, body *string) string {
	b := ""
	if body != nil {
		b = *body
	}
	return kind + "\n" + key + "\n" + strconv.FormatInt(pos, 10) + "\n" + b
}

// changeRow is one row of a change set.
type changeRow struct {
	kind, key string
	pos       int64
	body      *string
}

// damagedChange is a change row that does not match its checksum, or cannot be decoded.
type damagedChange struct {
	serial int64
	what   string
	err    error
}

func (e *damagedChange) Error() string {
	return fmt.Sprintf("its change of serial %d (%s): %v", e.serial, e.what, e.err)
}
func (e *damagedChange) Unwrap() error { return e.err }

// applyChanges reads fleet's change rows after the base's serial and applies them to rec (the base,
// decoded: its index is not built yet, and is left to be built). It returns how many rows there are.
func applyChanges(ctx context.Context, q querier, fleet string, rec *state.Record) (int, error) {
	rows, err := q.Query(ctx, `SELECT serial, kind, key, pos, body::text, checksum FROM deskfleet_changes
		WHERE fleet = $1 ORDER BY serial, seq`, fleet)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	intentAt := map[string]int{}
	for i, in := range rec.Intents {
		intentAt[in.ID] = i
	}
	dropped := map[string]bool{}
	base, n := rec.Serial, 0
	for rows.Next() {
		var (
			serial, pos int64
			kind, key   string
			body        *string
			sum         string
		)
		if err := rows.Scan(&serial, &kind, &key, &pos, &body, &sum); err != nil {
			return 0, err
		}
		n++
		if serial <= base {
			continue // folded into the base already
		}
		what := kind + " " + key
		if checksumOf(changeText(kind, key, pos, body)) != sum {
			return 0, &damagedChange{serial: serial, what: what, err: state.ErrChecksum}
		}
		if err := applyChange(rec, kind, key, pos, body, intentAt, dropped); err != nil {
			return 0, &damagedChange{serial: serial, what: what, err: err}
		}
		rec.Serial = serial
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(dropped) > 0 {
		kept := rec.Intents[:0]
		for _, in := range rec.Intents {
			if !dropped[in.ID] {
				kept = append(kept, in)
			}
		}
		rec.Intents = kept
	}
	return n, nil
}

func applyChange(rec *state.Record, kind, key string, pos int64, body *string, intentAt map[string]int, dropped map[string]bool) error {
	decode := func(v any) error { return json.Unmarshal([]byte(*body), v) }
	switch kind {
	case kindDesktop:
		if body == nil {
			delete(rec.Desktops, key)
			return nil
		}
		var d state.Desktop
		if err := decode(&d); err != nil {
			return err
		}
		if rec.Desktops == nil {
			rec.Desktops = map[string]state.Desktop{}
		}
		rec.Desktops[key] = d
	case kindAccount:
		if body == nil {
			delete(rec.Accounts, key)
			return nil
		}
		var a state.Account
		if err := decode(&a); err != nil {
			return err
		}
		if rec.Accounts == nil {
			rec.Accounts = map[string]state.Account{}
		}
		rec.Accounts[key] = a
	case kindIntent:
		if body == nil {
			dropped[key] = true
			return nil
		}
		var in state.Intent
		if err := decode(&in); err != nil {
			return err
		}
		if i, ok := intentAt[key]; ok {
			rec.Intents[i] = in
		} else {
			intentAt[key] = len(rec.Intents)
			rec.Intents = append(rec.Intents, in)
		}
	case kindRun:
		i := runAt(rec, key)
		if body == nil {
			if i >= 0 {
				rec.Runs = append(rec.Runs[:i], rec.Runs[i+1:]...)
			}
			return nil
		}
		var run state.Run
		if err := decode(&run); err != nil {
			return err
		}
		if i >= 0 {
			rec.Runs[i] = run
		} else {
			rec.Runs = append(rec.Runs, run)
		}
	case kindStep:
		i := runAt(rec, key)
		if i < 0 || body == nil {
			return nil // of a run dropped since
		}
		var so state.StepOutcome
		if err := decode(&so); err != nil {
			return err
		}
		steps := rec.Runs[i].Steps
		switch {
		case pos < int64(len(steps)):
			steps[pos] = so
		case pos == int64(len(steps)):
			rec.Runs[i].Steps = append(steps, so)
		default:
			return fmt.Errorf("step %d of a run of %d steps", pos, len(steps))
		}
	default:
		return fmt.Errorf("unknown kind %q", kind)
	}
	return nil
}

// runAt finds a run by id, newest first (the journal holds state.MaxRuns at most).
func runAt(rec *state.Record, id string) int {
	for i := len(rec.Runs) - 1; i >= 0; i-- {
		if rec.Runs[i].ID == id {
			return i
		}
	}
	return -1
}

// changeRows are the rows of ch, as rec holds its objects now: drops first, then puts.
func changeRows(rec *state.Record, ch state.Changes) ([]changeRow, error) {
	var out []changeRow
	var err error
	add := func(kind, key string, pos int64, v any, present bool) {
		if err != nil {
			return
		}
		r := changeRow{kind: kind, key: key, pos: pos}
		if present {
			var b []byte
			if b, err = json.Marshal(v); err != nil {
				return
			}
			s := string(b)
			r.body = &s
		}
		out = append(out, r)
	}
	for _, d := range ch.DroppedIntents {
		add(kindIntent, d.ID, 0, nil, false)
	}
	for _, d := range ch.DroppedRuns {
		add(kindRun, d.ID, 0, nil, false)
	}
	for _, id := range ch.Desktops {
		d, ok := rec.Desktops[id]
		add(kindDesktop, id, 0, d, ok)
	}
	for _, e := range ch.Accounts {
		a, ok := rec.Accounts[e]
		add(kindAccount, e, 0, a, ok)
	}
	for _, id := range ch.Intents {
		in, ok := rec.Intent(id)
		add(kindIntent, id, 0, in, ok)
	}
	whole := map[string]bool{}
	for _, id := range ch.Runs {
		whole[id] = true
		run, ok := rec.Run(id)
		add(kindRun, id, 0, run, ok)
	}
	for id, from := range ch.RunSteps {
		run, ok := rec.Run(id)
		if whole[id] || !ok {
			continue
		}
		if from == 0 {
			add(kindRun, id, 0, run, true)
			continue
		}
		for i := from; i < len(run.Steps); i++ {
			add(kindStep, id, int64(i), run.Steps[i], true)
		}
	}
	return out, err
}

// insertChanges writes rows as the change set of serial.
func insertChanges(ctx context.Context, tx pgx.Tx, fleet string, serial int64, rows []changeRow) error {
	if len(rows) == 0 {
		return nil
	}
	seqs := make([]int32, len(rows))
	kinds := make([]string, len(rows))
	keys := make([]string, len(rows))
	poss := make([]int64, len(rows))
	bodies := make([]*string, len(rows))
	for i, r := range rows {
		seqs[i], kinds[i], keys[i], poss[i], bodies[i] = int32(i), r.kind, r.key, r.pos, r.body
	}
	_, err := tx.Exec(ctx, `INSERT INTO deskfleet_changes (fleet, serial, seq, kind, key, pos, body, checksum)
		SELECT $1, $2, t.seq, t.kind, t.key, t.pos, t.body::jsonb, `+changeChecksum+`
		FROM unnest($3::integer[], $4::text[], $5::text[], $6::bigint[], $7::text[]) AS t(seq, kind, key, pos, body)`,
		fleet, serial, seqs, kinds, keys, poss, bodies)
	return err
}
