package state

// Trim drops the oldest journal entries beyond the record's limits: runs beyond the newest MaxRuns,
// and closed intents (done, failed) while more than MaxIntents remain. Open intents are never dropped,
// however many there are, since the next apply must settle them. Every Store calls Trim in Update,
// after fn, so callers append to Runs and Intents without trimming.
func (r *Record) Trim() {
	if r == nil {
		return
	}
	if n := len(r.Runs) - MaxRuns; n > 0 {
		r.Runs = append([]Run(nil), r.Runs[n:]...)
	}
	excess := len(r.Intents) - MaxIntents
	if excess <= 0 {
		return
	}
	kept := make([]Intent, 0, MaxIntents)
	for _, in := range r.Intents {
		if excess > 0 && !in.Open() {
			excess--
			continue
		}
		kept = append(kept, in)
	}
	r.Intents = kept
}
