package state

import "slices"

// Trim drops the oldest journal entries beyond the record's limits: runs beyond the newest MaxRuns,
// and closed intents (done, failed) while more than MaxIntents remain. Open intents are never dropped,
// however many there are, since the next apply must settle them. Every Store calls Trim in Update,
// after fn, so callers append to Runs and Intents without trimming.
//
// Cost: O(what it drops) when the oldest intents are closed (the usual case); when open intents are
// the oldest, it skips them (O(open ones)) and the position index is rebuilt at the next lookup
// (O(MaxIntents)). The drops are noted for the store (Changes) when the record is tracked.
func (r *Record) Trim() {
	if r == nil {
		return
	}
	t := r.tr
	if t != nil && t.bypassed(r) {
		t.whole = true
	}
	r.ensureIndex()
	ix := r.idx
	for len(r.Runs) > MaxRuns {
		run := r.Runs[0]
		if t != nil {
			t.droppedRuns = append(t.droppedRuns, Dropped{ID: run.ID, Seq: ix.runSeq[run.ID], Steps: len(run.Steps)})
			delete(t.runs, run.ID)
			delete(t.runSteps, run.ID)
		}
		delete(ix.runSeq, run.ID)
		r.Runs[0] = Run{}
		r.Runs = r.Runs[1:]
	}
	excess := len(r.Intents) - MaxIntents
	for i := 0; excess > 0; excess-- {
		for i < len(r.Intents) && r.Intents[i].Open() {
			i++
		}
		if i == len(r.Intents) {
			break
		}
		in := r.Intents[i]
		if t != nil {
			t.droppedIntents = append(t.droppedIntents, Dropped{ID: in.ID, Seq: ix.intentSeq[in.ID]})
			delete(t.intents, in.ID)
		}
		delete(ix.intentSeq, in.ID)
		if i == 0 && ix.intentPos != nil && ix.intentsLen == len(r.Intents) {
			delete(ix.intentPos, in.ID)
			ix.posBase++
			r.Intents[0] = Intent{}
			r.Intents = r.Intents[1:]
			ix.intentsLen--
			continue
		}
		r.Intents = slices.Delete(r.Intents, i, i+1)
		ix.intentPos = nil
	}
	if t != nil {
		t.sync()
	}
}
