package sim

import (
	"errors"
	"strings"
)

// ErrNotFound is returned by the inspection and console methods for an unknown id.
var ErrNotFound = errors.New("sim: not found")

// Clock returns the clock in use.
func (s *Sim) Clock() Clock { return s.clock }

// mutate runs f under the lock (see acquire) after settling due tasks, then saves. f's error
// aborts the save, unless settling changed something.
func (s *Sim) mutate(f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.acquire()
	defer s.release()
	if err != nil {
		return err
	}
	settled := s.settle(s.clock.Now())
	err = f()
	if s.opt.Meter { // a desktop added, powered or deleted out of band bills (or stops) from now
		s.meter.mark(s.w)
	}
	if err != nil {
		if settled {
			_ = s.saveLocked()
		}
		return err
	}
	return s.saveLocked()
}

// read runs f under the lock (see acquire) after settling due tasks, saving only if that changed
// anything. If the lock or the reload fails, f sees this Sim's last known world.
func (s *Sim) read(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.acquire()
	defer s.release()
	if s.settle(s.clock.Now()) && err == nil {
		_ = s.saveLocked()
	}
	f()
}

// AddSite adds or replaces a site.
func (s *Sim) AddSite(v Site) error { return s.mutate(func() error { s.w.addSite(v); return nil }) }

// AddProduct adds or replaces a product at a site (keyed by ID and SiteID).
func (s *Sim) AddProduct(v Product) error {
	return s.mutate(func() error { s.w.addProduct(v); return nil })
}

// AddImage adds or replaces an image.
func (s *Sim) AddImage(v Image) error { return s.mutate(func() error { s.w.addImage(v); return nil }) }

// AddVPC adds or replaces a default (Default true; at most one per site) or custom VPC.
func (s *Sim) AddVPC(v VPC) error { return s.mutate(func() error { s.w.addVPC(v); return nil }) }

// SetImageStatus sets an image's status at a site (adding the site entry if missing).
func (s *Sim) SetImageStatus(imageID, siteID, status string) error {
	return s.mutate(func() error {
		im := s.w.imgByID[imageID]
		if im == nil {
			return ErrNotFound
		}
		for i := range im.Sites {
			if im.Sites[i].SiteID == siteID {
				im.Sites[i].Status = status
				return nil
			}
		}
		im.Sites = append(im.Sites, ImageSite{ImageSiteID: s.newID(), SiteID: siteID, Status: status})
		return nil
	})
}

// AddAccount adds or replaces a sub-account and returns its id (generated when empty; status
// defaults to "create").
func (s *Sim) AddAccount(v Account) (string, error) {
	err := s.mutate(func() error {
		if v.ID == "" {
			v.ID = s.newID()
		}
		s.w.addAccount(v)
		return nil
	})
	return v.ID, err
}

// AddDesktop adds (or replaces) a desktop directly, as one made outside this tool, and returns its
// id (generated when empty). Status defaults to "using"; an empty PrivateIP gets an address.
func (s *Sim) AddDesktop(v Desktop) (string, error) {
	err := s.mutate(func() error {
		if v.ID == "" {
			v.ID = s.newID()
		}
		if v.Status == "" {
			v.Status = StatusRunning
		}
		if v.PrivateIP == "" {
			s.w.seq++
			v.PrivateIP = "vlan1704:" + hostIP("10.1.0.0", 1000+s.w.seq)
		}
		s.w.addDesktop(v)
		return nil
	})
	return v.ID, err
}

// Desktops returns copies of all desktops, in creation order.
func (s *Sim) Desktops() []Desktop {
	var out []Desktop
	s.read(func() {
		out = make([]Desktop, 0, len(s.w.desktops))
		s.w.liveDesktops(func(d *Desktop) { out = append(out, *d) })
	})
	return out
}

// Desktop returns a copy of one desktop (including the internal ImageID and AutoRenew).
func (s *Sim) Desktop(id string) (Desktop, bool) {
	var d Desktop
	var ok bool
	s.read(func() {
		if p := s.w.desktops[id]; p != nil {
			d, ok = *p, true
		}
	})
	return d, ok
}

// DesktopByName returns the first desktop named name.
func (s *Sim) DesktopByName(name string) (Desktop, bool) {
	var d Desktop
	var ok bool
	s.read(func() {
		s.w.liveDesktops(func(p *Desktop) {
			if !ok && p.Name == name {
				d, ok = *p, true
			}
		})
	})
	return d, ok
}

// Accounts returns copies of all sub-accounts, in creation order.
func (s *Sim) Accounts() []Account {
	var out []Account
	s.read(func() {
		for _, a := range s.w.accounts {
			out = append(out, *a)
		}
	})
	return out
}

// AccountByEmail returns the sub-account with that email (case-insensitive).
func (s *Sim) AccountByEmail(email string) (Account, bool) {
	var a Account
	var ok bool
	s.read(func() {
		if p := s.w.accByEmail[strings.ToLower(email)]; p != nil {
			a, ok = *p, true
		}
	})
	return a, ok
}

// Task returns a copy of a task.
func (s *Sim) Task(id string) (Task, bool) {
	var t Task
	var ok bool
	s.read(func() {
		if p := s.w.tasks[id]; p != nil {
			t, ok = *p, true
		}
	})
	return t, ok
}

// DefaultNet returns a copy of a site's default VPC, if it has one.
func (s *Sim) DefaultNet(siteID string) (VPC, bool) {
	var v VPC
	var ok bool
	s.read(func() {
		if p := s.w.defaultVPC(siteID); p != nil {
			v, ok = *p, true
		}
	})
	return v, ok
}

// console applies a person's change to a desktop: it takes effect at once, and a task holding the
// desktop no longer touches it.
func (s *Sim) console(id string, f func(d *Desktop) error) error {
	return s.mutate(func() error {
		d := s.w.desktops[id]
		if d == nil {
			return ErrNotFound
		}
		d.TaskID, d.PrevStatus = "", ""
		return f(d)
	})
}

// ConsoleRename renames a desktop out of band.
func (s *Sim) ConsoleRename(id, name string) error {
	return s.console(id, func(d *Desktop) error { d.Name = name; return nil })
}

// ConsoleSetLabel relabels a desktop out of band.
func (s *Sim) ConsoleSetLabel(id, label string) error {
	return s.console(id, func(d *Desktop) error { d.Label = label; return nil })
}

// ConsolePower powers a desktop on ("using") or off ("stop") at once, out of band.
func (s *Sim) ConsolePower(id string, on bool) error {
	return s.console(id, func(d *Desktop) error {
		d.Status = StatusStopped
		if on {
			d.Status = StatusRunning
		}
		return nil
	})
}

// ConsoleSetStatus sets any raw status (error, dataMoving, ...) out of band.
func (s *Sim) ConsoleSetStatus(id, status string) error {
	return s.console(id, func(d *Desktop) error { d.Status = status; return nil })
}

// ConsoleDelete deletes a desktop at once, out of band.
func (s *Sim) ConsoleDelete(id string) error {
	return s.console(id, func(d *Desktop) error { s.w.removeDesktop(d.ID); return nil })
}

// ConsoleBind binds a desktop to an account, rebinds it, or unbinds it (accountID ""), out of band
// and without the API's power rules. An unknown accountID is ErrNotFound.
func (s *Sim) ConsoleBind(id, accountID string) error {
	return s.console(id, func(d *Desktop) error {
		if accountID != "" && s.w.accByID[accountID] == nil {
			return ErrNotFound
		}
		d.AccountID = accountID
		return nil
	})
}
