package state

import (
	"encoding/json"
	"reflect"
	"slices"
	"unsafe"
)

// Writing a record: change sets. A store keeps a record as one value per object (desktop, account,
// intent, run, step outcome of a run), so that an Update costs what it changed, not the size of the
// record. Update's fn therefore changes the record through its methods (PutDesktop, DeleteDesktop,
// PutAccount, DeleteAccount, AppendIntent, SetIntent, AppendRun, SetRun, AppendRunStep), which note
// the objects they change; the store writes those only (Changes).
//
// Writing a field directly (rec.Desktops[id] = d, rec.Intents[i].Status = s) bypasses that
// bookkeeping. What can be noticed cheaply is noticed and makes the store rewrite the whole record (a
// map or slice replaced, a length that the methods did not leave, the whole *rec assigned): correct,
// but O(size). A direct change in place (an existing map entry or slice element overwritten) cannot
// be noticed cheaply: it is lost. state/memory checks every Update for it (Options.Check), and the
// engine's tests run on it.

// Changes is what an Update's fn changed, for the store to write. Keys name objects of the record:
// a key listed in Desktops (or Accounts) whose object is no longer in the record was deleted.
type Changes struct {
	// Whole: the record must be written whole (it was replaced, or changed behind its methods' back).
	Whole bool
	// Desktops (vmIds) and Accounts (emails) put or deleted.
	Desktops []string
	Accounts []string
	// Intents are the ids of intents put (appended or changed), in no particular order.
	Intents []string
	// Runs are the ids of runs whose own fields changed (not their steps); RunSteps the runs whose
	// step outcomes changed, each with the first position changed: the steps from there on are
	// written, and stored steps beyond the run's length removed.
	Runs     []string
	RunSteps map[string]int
	// DroppedIntents and DroppedRuns are what Trim removed (with their sequence numbers; a run with
	// its number of steps).
	DroppedIntents []Dropped
	DroppedRuns    []Dropped
}

// Dropped is an intent or a run removed from the record by Trim.
type Dropped struct {
	ID    string
	Seq   int64
	Steps int
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return !c.Whole && len(c.Desktops) == 0 && len(c.Accounts) == 0 && len(c.Intents) == 0 && len(c.Runs) == 0 &&
		len(c.RunSteps) == 0 && len(c.DroppedIntents) == 0 && len(c.DroppedRuns) == 0
}

// tracker notes the changes made through a record's methods, and what they left (to notice direct
// writes).
type tracker struct {
	rec                *Record
	desktops, accounts map[string]struct{}
	intents, runs      map[string]struct{}
	runSteps           map[string]int
	droppedIntents     []Dropped
	droppedRuns        []Dropped
	whole              bool
	// What the methods left: a map or slice replaced, or a length changed, behind their back means
	// the record must be written whole.
	desktopsMap, accountsMap unsafe.Pointer
	nDesktops, nAccounts     int
	intents0, runs0          unsafe.Pointer
	nIntents, nRuns          int
}

// index is what a record keeps to find objects by key in O(1), and the order of its intents and runs
// in a store (sequence numbers, increasing; assigned at append).
type index struct {
	intentPos  map[string]int // id -> position in Intents + posBase (nil: to rebuild)
	posBase    int
	intentSeq  map[string]int64
	runSeq     map[string]int64
	nextSeq    int64
	byName     map[string][]string // desktop name -> vmIds (nil: to rebuild)
	intentsLen int                 // len(Intents) when intentPos was last right
}

func mapPtr[M ~map[K]V, K comparable, V any](m M) unsafe.Pointer {
	if m == nil {
		return nil
	}
	return reflect.ValueOf(m).UnsafePointer()
}

func slicePtr[S ~[]E, E any](s S) unsafe.Pointer {
	if cap(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(s))
}

// Track starts noting r's changes (stores call it before Update's fn); Changes ends it. Indexes
// kept from an earlier Track (a store keeps the record of a held lock between Updates) stay.
func (r *Record) Track() {
	r.tr = &tracker{rec: r}
	r.tr.sync()
	if r.idx == nil || r.idx.intentSeq == nil {
		r.reindex()
	}
}

func (t *tracker) sync() {
	r := t.rec
	t.desktopsMap, t.nDesktops = mapPtr(r.Desktops), len(r.Desktops)
	t.accountsMap, t.nAccounts = mapPtr(r.Accounts), len(r.Accounts)
	t.intents0, t.nIntents = slicePtr(r.Intents), len(r.Intents)
	t.runs0, t.nRuns = slicePtr(r.Runs), len(r.Runs)
}

// bypassed reports whether r was changed behind its methods' back in a way that can be noticed.
func (t *tracker) bypassed(r *Record) bool {
	return t.rec != r || t.desktopsMap != mapPtr(r.Desktops) || t.nDesktops != len(r.Desktops) ||
		t.accountsMap != mapPtr(r.Accounts) || t.nAccounts != len(r.Accounts) ||
		t.intents0 != slicePtr(r.Intents) || t.nIntents != len(r.Intents) ||
		t.runs0 != slicePtr(r.Runs) || t.nRuns != len(r.Runs)
}

// Changes ends the tracking Track started and returns what changed; Whole when r was replaced or
// changed behind its methods' back (then its indexes are rebuilt). Without Track, Whole.
func (r *Record) Changes() Changes {
	t := r.tr
	r.tr = nil
	if t == nil || t.whole || t.bypassed(r) {
		r.reindex()
		return Changes{Whole: true}
	}
	c := Changes{Desktops: keys(t.desktops), Accounts: keys(t.accounts), Intents: keys(t.intents), Runs: keys(t.runs),
		RunSteps: t.runSteps, DroppedIntents: t.droppedIntents, DroppedRuns: t.droppedRuns}
	return c
}

func keys(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func note(m *map[string]struct{}, k string) {
	if *m == nil {
		*m = map[string]struct{}{}
	}
	(*m)[k] = struct{}{}
}

// reindex rebuilds r's indexes from its content: sequence numbers by position.
func (r *Record) reindex() {
	ix := &index{intentSeq: make(map[string]int64, len(r.Intents)), runSeq: make(map[string]int64, len(r.Runs))}
	for i, in := range r.Intents {
		ix.intentSeq[in.ID] = int64(i + 1)
	}
	for i, run := range r.Runs {
		ix.runSeq[run.ID] = int64(i + 1)
	}
	ix.nextSeq = int64(max(len(r.Intents), len(r.Runs)) + 1)
	r.idx = ix
}

// IntentSeq and RunSeq are the sequence numbers that order the record's intents and runs in a store:
// increasing in the order of Intents (Runs). 0 for an unknown id.
func (r *Record) IntentSeq(id string) int64 { r.ensureIndex(); return r.idx.intentSeq[id] }
func (r *Record) RunSeq(id string) int64    { r.ensureIndex(); return r.idx.runSeq[id] }

func (r *Record) ensureIndex() {
	if r.idx == nil || r.idx.intentSeq == nil {
		r.reindex()
	}
}

// LoadIntent and LoadRun append a stored intent (run) with its sequence number: stores build the
// record they read with them, in increasing order of seq. Nothing is tracked.
func (r *Record) LoadIntent(seq int64, in Intent) {
	if r.idx == nil {
		r.idx = &index{intentSeq: map[string]int64{}, runSeq: map[string]int64{}, nextSeq: 1}
	}
	r.Intents = append(r.Intents, in)
	r.idx.intentSeq[in.ID] = seq
	r.idx.nextSeq = max(r.idx.nextSeq, seq+1)
	r.idx.intentPos = nil
}

func (r *Record) LoadRun(seq int64, run Run) {
	if r.idx == nil {
		r.idx = &index{intentSeq: map[string]int64{}, runSeq: map[string]int64{}, nextSeq: 1}
	}
	r.Runs = append(r.Runs, run)
	r.idx.runSeq[run.ID] = seq
	r.idx.nextSeq = max(r.idx.nextSeq, seq+1)
}

// PutDesktop records d, by its VmID (a new desktop, or a change to one).
func (r *Record) PutDesktop(d Desktop) {
	r.ensureIndex()
	if r.Desktops == nil {
		r.Desktops = map[string]Desktop{}
	}
	if r.idx.byName != nil {
		if old, ok := r.Desktops[d.VmID]; ok && old.Name != d.Name {
			r.unname(old.Name, d.VmID)
		}
		if !slices.Contains(r.idx.byName[d.Name], d.VmID) {
			r.idx.byName[d.Name] = append(r.idx.byName[d.Name], d.VmID)
		}
	}
	r.Desktops[d.VmID] = d
	if t := r.tr; t != nil {
		note(&t.desktops, d.VmID)
		t.desktopsMap, t.nDesktops = mapPtr(r.Desktops), len(r.Desktops)
	}
}

// DeleteDesktop removes the desktop with this id (nothing when there is none).
func (r *Record) DeleteDesktop(vmID string) {
	old, ok := r.Desktops[vmID]
	if !ok {
		return
	}
	r.ensureIndex()
	if r.idx.byName != nil {
		r.unname(old.Name, vmID)
	}
	delete(r.Desktops, vmID)
	if t := r.tr; t != nil {
		note(&t.desktops, vmID)
		t.nDesktops = len(r.Desktops)
	}
}

func (r *Record) unname(name, vmID string) {
	ids := slices.DeleteFunc(r.idx.byName[name], func(s string) bool { return s == vmID })
	if len(ids) == 0 {
		delete(r.idx.byName, name)
	} else {
		r.idx.byName[name] = ids
	}
}

// DesktopsNamed returns the ids of the managed desktops with this name, sorted (usually one, or
// none). O(1) after the first call on a record (an index kept by PutDesktop and DeleteDesktop).
func (r *Record) DesktopsNamed(name string) []string {
	if r == nil {
		return nil
	}
	r.ensureIndex()
	if r.idx.byName == nil {
		r.idx.byName = make(map[string][]string, len(r.Desktops))
		for id, d := range r.Desktops {
			r.idx.byName[d.Name] = append(r.idx.byName[d.Name], id)
		}
	}
	ids := slices.Clone(r.idx.byName[name])
	slices.Sort(ids)
	return ids
}

// PutAccount records a, by its Email.
func (r *Record) PutAccount(a Account) {
	if r.Accounts == nil {
		r.Accounts = map[string]Account{}
	}
	r.Accounts[a.Email] = a
	if t := r.tr; t != nil {
		note(&t.accounts, a.Email)
		t.accountsMap, t.nAccounts = mapPtr(r.Accounts), len(r.Accounts)
	}
}

// DeleteAccount removes the account with this email (nothing when there is none).
func (r *Record) DeleteAccount(email string) {
	if _, ok := r.Accounts[email]; !ok {
		return
	}
	delete(r.Accounts, email)
	if t := r.tr; t != nil {
		note(&t.accounts, email)
		t.nAccounts = len(r.Accounts)
	}
}

// intentAt returns the position of the intent with this id in Intents, -1 when there is none. O(1)
// (an index rebuilt after Trim removed an intent other than the oldest).
func (r *Record) intentAt(id string) int {
	if r == nil {
		return -1
	}
	r.ensureIndex()
	ix := r.idx
	if ix.intentPos == nil || ix.intentsLen != len(r.Intents) {
		ix.intentPos = make(map[string]int, len(r.Intents))
		for i, in := range r.Intents {
			ix.intentPos[in.ID] = i
		}
		ix.intentsLen, ix.posBase = len(r.Intents), 0
	}
	i, ok := ix.intentPos[id]
	i -= ix.posBase
	if !ok || i < 0 || i >= len(r.Intents) || r.Intents[i].ID != id {
		return -1
	}
	return i
}

// Intent returns the intent with this id.
func (r *Record) Intent(id string) (Intent, bool) {
	if i := r.intentAt(id); i >= 0 {
		return r.Intents[i], true
	}
	return Intent{}, false
}

// AppendIntent appends in (its ID must be new to the record).
func (r *Record) AppendIntent(in Intent) {
	r.ensureIndex()
	pos := r.intentAt(in.ID) // builds the position index before the append
	if pos >= 0 {
		r.Intents[pos] = in
	} else {
		r.Intents = append(r.Intents, in)
		r.idx.intentPos[in.ID] = len(r.Intents) - 1 + r.idx.posBase
		r.idx.intentsLen = len(r.Intents)
		r.idx.intentSeq[in.ID] = r.idx.nextSeq
		r.idx.nextSeq++
	}
	if t := r.tr; t != nil {
		note(&t.intents, in.ID)
		t.intents0, t.nIntents = slicePtr(r.Intents), len(r.Intents)
	}
}

// SetIntent replaces the intent of in's ID; false when the record has none.
func (r *Record) SetIntent(in Intent) bool {
	i := r.intentAt(in.ID)
	if i < 0 {
		return false
	}
	r.Intents[i] = in
	if t := r.tr; t != nil {
		note(&t.intents, in.ID)
	}
	return true
}

// runAt returns the position of the run with this id, -1 when there is none (the newest are looked at
// first; the journal holds MaxRuns at most).
func (r *Record) runAt(id string) int {
	if r == nil {
		return -1
	}
	for i := len(r.Runs) - 1; i >= 0; i-- {
		if r.Runs[i].ID == id {
			return i
		}
	}
	return -1
}

// Run returns the journal's run with this id.
func (r *Record) Run(id string) (Run, bool) {
	if i := r.runAt(id); i >= 0 {
		return r.Runs[i], true
	}
	return Run{}, false
}

// AppendRun appends run to the journal (its ID must be new to the record).
func (r *Record) AppendRun(run Run) {
	r.ensureIndex()
	if i := r.runAt(run.ID); i >= 0 {
		r.SetRun(run)
		return
	}
	r.Runs = append(r.Runs, run)
	r.idx.runSeq[run.ID] = r.idx.nextSeq
	r.idx.nextSeq++
	if t := r.tr; t != nil {
		note(&t.runs, run.ID)
		t.noteSteps(run.ID, 0)
		t.runs0, t.nRuns = slicePtr(r.Runs), len(r.Runs)
	}
}

// SetRun replaces the run of run's ID, its steps included; false when the journal has none.
func (r *Record) SetRun(run Run) bool {
	i := r.runAt(run.ID)
	if i < 0 {
		return false
	}
	r.Runs[i] = run
	if t := r.tr; t != nil {
		note(&t.runs, run.ID)
		t.noteSteps(run.ID, 0)
	}
	return true
}

// AppendRunStep appends a step's outcome to the run with this id; false when the journal has none.
func (r *Record) AppendRunStep(runID string, s StepOutcome) bool {
	i := r.runAt(runID)
	if i < 0 {
		return false
	}
	r.Runs[i].Steps = append(r.Runs[i].Steps, s)
	if t := r.tr; t != nil {
		t.noteSteps(runID, len(r.Runs[i].Steps)-1)
	}
	return true
}

func (t *tracker) noteSteps(runID string, from int) {
	if t.runSteps == nil {
		t.runSteps = map[string]int{}
	}
	if cur, ok := t.runSteps[runID]; !ok || from < cur {
		t.runSteps[runID] = from
	}
}

// Clone returns a deep copy of r's content (untracked, with indexes of its own).
func (r *Record) Clone() *Record {
	b, err := json.Marshal(r)
	c := &Record{}
	if err == nil {
		err = json.Unmarshal(b, c)
	}
	if err != nil {
		panic("state: a record that does not survive JSON: " + err.Error())
	}
	return c
}

// Replace makes r's content other's (a deep copy): the store writes the record whole. It is what
// *r = *other does, without sharing other's maps and slices.
func (r *Record) Replace(other *Record) {
	c := other.Clone()
	c.tr = r.tr
	*r = *c
	if r.tr != nil {
		r.tr.whole = true
	}
}
