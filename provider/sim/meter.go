package sim

import "time"

// meter is what the emulated cloud bills by the minute: a per-minute desktop costs its product's
// requirePrice for every minute it is running ("using"); a monthly desktop is prepaid when ordered
// and not metered, and neither is bandwidth. It measures schedules: a desktop stopped outside its
// hours costs nothing then. The reference does not say how the real cloud rounds a started minute;
// the meter counts exact time. It belongs to one process (not saved with DataFile), and runs only
// with Options.Meter.
//
// accrue is O(1) (the billing rate is kept summed); mark, which notes who bills, runs only after
// something changed.
type meter struct {
	last    time.Time
	rate    float64              // CNY per minute of the desktops billing now
	billing map[string]float64   // desktop id -> its price per minute
	since   map[string]time.Time // desktop id -> when it began billing
	total   float64
	running map[string]time.Duration // time billed, of the desktops no longer billing
}

// accrue charges the billing desktops up to now. Caller holds s.mu.
func (m *meter) accrue(now time.Time) {
	if !m.last.IsZero() && now.After(m.last) {
		m.total += m.rate * now.Sub(m.last).Minutes()
	}
	if now.After(m.last) {
		m.last = now
	}
}

// mark notes which desktops bill from the last accrual on: the running per-minute ones. Caller holds
// s.mu and has accrued.
func (m *meter) mark(w *world) {
	if m.billing == nil {
		m.billing, m.since, m.running = map[string]float64{}, map[string]time.Time{}, map[string]time.Duration{}
	}
	now := map[string]float64{}
	w.liveDesktops(func(d *Desktop) {
		if d.Status != StatusRunning || d.Monthly {
			return
		}
		if p := w.prodKey[d.ProductID+"|"+d.SiteID]; p != nil {
			now[d.ID] = p.RequirePrice
		}
	})
	for id := range m.billing {
		if _, still := now[id]; !still {
			m.running[id] += m.last.Sub(m.since[id])
			delete(m.since, id)
		}
	}
	m.rate = 0
	for id, price := range now {
		if _, was := m.billing[id]; !was {
			m.since[id] = m.last
		}
		m.rate += price
	}
	m.billing = now
}

// Bill is what the emulated cloud metered since the Sim was made: Total in CNY, and how long each
// desktop ran (by id), per-minute desktops only.
type Bill struct {
	Total   float64
	Running map[string]time.Duration
}

// Bill returns what was metered up to the clock's now; zero unless Options.Meter.
func (s *Sim) Bill() Bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meter.accrue(s.clock.Now())
	running := make(map[string]time.Duration, len(s.meter.running)+len(s.meter.since))
	for id, d := range s.meter.running {
		running[id] = d
	}
	for id, at := range s.meter.since {
		running[id] += s.meter.last.Sub(at)
	}
	return Bill{Total: s.meter.total, Running: running}
}
