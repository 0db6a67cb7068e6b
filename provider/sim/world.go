package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// world is the cloud's state. Lookups are maps keyed by id; orders are kept in slices so that
// listings are stable. Deleted desktops leave holes in order, compacted when they outnumber the
// live ones.
type world struct {
	sites    []*Site
	siteByID map[string]*Site
	products []*Product
	prodKey  map[string]*Product // productId + "|" + siteId
	images   []*Image
	imgByID  map[string]*Image
	vpcs     []*VPC
	vpcByID  map[string]*VPC
	lines    []Line

	accounts   []*Account
	accByID    map[string]*Account
	accByEmail map[string]*Account // lower-cased email

	desktops map[string]*Desktop
	order    []string
	holes    int

	creating int // accounts in status creating

	tasks   map[string]*Task
	pending []string // ids of Running tasks
	seq     int      // source of addresses
}

func newWorld() *world {
	return &world{siteByID: map[string]*Site{}, prodKey: map[string]*Product{}, imgByID: map[string]*Image{},
		vpcByID: map[string]*VPC{}, accByID: map[string]*Account{}, accByEmail: map[string]*Account{},
		desktops: map[string]*Desktop{}, tasks: map[string]*Task{}}
}

func (w *world) seed(c Catalog) {
	for _, v := range c.Sites {
		w.addSite(v)
	}
	for _, v := range c.Products {
		w.addProduct(v)
	}
	for _, v := range c.Images {
		w.addImage(v)
	}
	for _, v := range c.VPCs {
		w.addVPC(v)
	}
	w.lines = append(w.lines, c.Lines...)
	for _, v := range c.Accounts {
		w.addAccount(v)
	}
	for _, v := range c.Desktops {
		w.addDesktop(v)
	}
}

func (w *world) addSite(v Site) {
	if old, ok := w.siteByID[v.ID]; ok {
		*old = v
		return
	}
	p := &v
	w.sites = append(w.sites, p)
	w.siteByID[v.ID] = p
}

func (w *world) addProduct(v Product) {
	k := v.ID + "|" + v.SiteID
	if old, ok := w.prodKey[k]; ok {
		*old = v
		return
	}
	p := &v
	w.products = append(w.products, p)
	w.prodKey[k] = p
}

func (w *world) addImage(v Image) {
	v.Sites = append([]ImageSite(nil), v.Sites...)
	if old, ok := w.imgByID[v.ID]; ok {
		*old = v
		return
	}
	p := &v
	w.images = append(w.images, p)
	w.imgByID[v.ID] = p
}

func (w *world) addVPC(v VPC) {
	v.Subnets = append([]Net(nil), v.Subnets...)
	v.Gateways = append([]Net(nil), v.Gateways...)
	if old, ok := w.vpcByID[v.ID]; ok {
		*old = v
		return
	}
	p := &v
	w.vpcs = append(w.vpcs, p)
	w.vpcByID[v.ID] = p
}

func (w *world) addAccount(v Account) {
	if v.Status == "" {
		v.Status = AccountCreated
	}
	if v.Status == AccountCreating {
		w.creating++
	}
	if old, ok := w.accByID[v.ID]; ok {
		if old.Status == AccountCreating {
			w.creating--
		}
		delete(w.accByEmail, strings.ToLower(old.Email))
		*old = v
		w.accByEmail[strings.ToLower(v.Email)] = old
		return
	}
	p := &v
	w.accounts = append(w.accounts, p)
	w.accByID[v.ID] = p
	w.accByEmail[strings.ToLower(v.Email)] = p
}

func (w *world) addDesktop(v Desktop) {
	if old, ok := w.desktops[v.ID]; ok {
		*old = v
		return
	}
	p := &v
	w.desktops[v.ID] = p
	w.order = append(w.order, v.ID)
}

func (w *world) removeDesktop(id string) {
	if _, ok := w.desktops[id]; !ok {
		return
	}
	delete(w.desktops, id)
	w.holes++
	if w.holes > len(w.desktops) && w.holes > 64 {
		kept := w.order[:0]
		for _, id := range w.order {
			if _, ok := w.desktops[id]; ok {
				kept = append(kept, id)
			}
		}
		w.order, w.holes = kept, 0
	}
}

// liveDesktops calls f for every desktop in creation order.
func (w *world) liveDesktops(f func(*Desktop)) {
	for _, id := range w.order {
		if d, ok := w.desktops[id]; ok {
			f(d)
		}
	}
}

func (w *world) defaultVPC(siteID string) *VPC {
	for _, v := range w.vpcs {
		if v.Default && v.SiteID == siteID {
			return v
		}
	}
	return nil
}

// newID returns a UUID-shaped id drawn from the seeded id generator. Caller holds s.mu.
func (s *Sim) newID() string {
	a, b := s.idR.Uint64(), s.idR.Uint64()
	b = b&^(0xc000<<48) | 0x8000<<48 // variant
	a = a&^(0xf000) | 0x4000         // version 4
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// taskDuration returns the configured duration of an action's task.
func (s *Sim) taskDuration(action provider.Action) time.Duration {
	if d, ok := s.opt.TaskDurations[action]; ok {
		return d
	}
	return s.opt.TaskDuration
}

// settle finishes every task whose deadline has passed and every account whose creation is done,
// in deadline order of discovery. Caller holds s.mu. Reports whether anything changed.
func (s *Sim) settle(now time.Time) bool {
	changed := false
	if s.opt.Meter {
		s.meter.accrue(now)
		defer func() {
			if changed || s.meter.billing == nil {
				s.meter.mark(s.w)
			}
		}()
	}
	w := s.w
	if len(w.pending) > 0 {
		kept := w.pending[:0]
		for _, id := range w.pending {
			t := w.tasks[id]
			if t == nil || now.Before(t.Deadline) {
				if t != nil {
					kept = append(kept, id)
				}
				continue
			}
			s.finish(t)
			changed = true
		}
		w.pending = kept
	}
	for _, a := range w.accounts {
		if w.creating == 0 {
			break
		}
		if a.Status == AccountCreating && !now.Before(a.ReadyAt) {
			w.creating--
			a.Status = AccountCreated
			if a.Fail {
				a.Status = AccountError
			}
			changed = true
		}
	}
	return changed
}

// persisted is the data file's content. Generation repeats the lock file's counter as of this save
// (for people and tests reading the file; the lock file is the one compared). The remembered nonces
// are not here but in the journal beside it (see store), and the call counts and FailNext queues are
// not persisted at all: they belong to one process.
type persisted struct {
	Format     int       `json:"format"`
	Generation uint64    `json:"generation"`
	Catalog    Catalog   `json:"catalog"`
	Tasks      []Task    `json:"tasks"`
	Pending    []string  `json:"pending"`
	Seq        int       `json:"seq"`
	IDRNG      []byte    `json:"idRng"`
	FaultRNG   []byte    `json:"faultRng"`
	SavedAt    time.Time `json:"savedAt"`
}

func (s *Sim) snapshot() persisted {
	w := s.w
	p := persisted{Format: 1, Seq: w.seq, Pending: append([]string(nil), w.pending...), SavedAt: s.clock.Now()}
	c := &p.Catalog
	for _, v := range w.sites {
		c.Sites = append(c.Sites, *v)
	}
	for _, v := range w.products {
		c.Products = append(c.Products, *v)
	}
	for _, v := range w.images {
		c.Images = append(c.Images, *v)
	}
	for _, v := range w.vpcs {
		c.VPCs = append(c.VPCs, *v)
	}
	c.Lines = append(c.Lines, w.lines...)
	for _, v := range w.accounts {
		c.Accounts = append(c.Accounts, *v)
	}
	w.liveDesktops(func(d *Desktop) { c.Desktops = append(c.Desktops, *d) })
	for _, t := range w.tasks {
		p.Tasks = append(p.Tasks, *t)
	}
	p.IDRNG, _ = s.idRNG.MarshalBinary()
	p.FaultRNG, _ = s.faultRNG.MarshalBinary()
	return p
}

// acquire makes s.w the shared world: with a DataFile it takes the file lock and reloads the world
// if another Sim (in this process or another) saved since this one last read or wrote the file.
// Caller holds s.mu and calls release afterwards, even when acquire fails. Without a DataFile it
// does nothing.
func (s *Sim) acquire() error {
	st := s.store
	if st == nil {
		return nil
	}
	if err := st.lock(); err != nil {
		return fmt.Errorf("sim: lock %s: %w", filepath.Base(st.lockPath()), err)
	}
	if changed, _ := st.changed(); changed {
		if _, err := s.load(); err != nil {
			return err
		}
	}
	return nil
}

// release undoes acquire. Caller holds s.mu.
func (s *Sim) release() {
	if s.store != nil {
		s.store.unlock()
	}
}

// saveLocked writes the world atomically (temp file, fsync, rename; mode 0600) with the next
// generation. Caller holds s.mu and has acquired.
func (s *Sim) saveLocked() error {
	st := s.store
	if st == nil {
		return nil
	}
	g := st.readGen()
	if st.gen > g {
		g = st.gen
	}
	g++
	p := s.snapshot()
	p.Generation = g
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return st.writeFile(b, g)
}

// load reads DataFile if it exists and is not empty, replacing the world and both generators.
// Caller holds s.mu and the file lock.
func (s *Sim) load() (bool, error) {
	st := s.store
	if st == nil {
		return false, nil
	}
	g := st.readGen()
	b, fi, err := st.readFile()
	if err != nil {
		return false, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if fi != nil {
			st.gen, st.stamp = g, fi
		}
		return false, nil
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return false, fmt.Errorf("sim: data file %s: %w", filepath.Base(st.path), err)
	}
	w := newWorld()
	w.seed(p.Catalog)
	for i := range p.Tasks {
		t := p.Tasks[i]
		w.tasks[t.ID] = &t
	}
	w.pending, w.seq = p.Pending, p.Seq
	if len(p.IDRNG) > 0 {
		if err := s.idRNG.UnmarshalBinary(p.IDRNG); err != nil {
			return false, err
		}
	}
	if len(p.FaultRNG) > 0 {
		if err := s.faultRNG.UnmarshalBinary(p.FaultRNG); err != nil {
			return false, err
		}
	}
	s.w = w
	st.gen, st.stamp = g, fi
	st.loads++
	return true, nil
}
