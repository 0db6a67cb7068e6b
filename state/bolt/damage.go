package bolt

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/deskfleet/deskfleet/state"
)

// Damage. bbolt trusts its file: it maps it into memory and follows the page numbers it finds, so a
// truncated file makes it read past the end of the mapping (SIGBUS, which kills the process) and a
// garbled page makes it panic. This store never lets either reach its caller:
//
//   - before bbolt opens a file, checkFile reads its two meta pages itself and refuses the file when
//     neither is valid (magic, version, checksum) or when it is shorter than the pages the valid meta
//     names (its high-water mark): a truncated file is an error before anything is mapped;
//   - every bbolt access runs under guard: runtime/debug.SetPanicOnFault turns a fault on the mapping
//     into a panic on that goroutine, and guard recovers it (and bbolt's own panics) into a
//     *state.CorruptError;
//   - each stored object of a record carries a checksum (state.Seal; a file of format 1: each
//     record); one that does not match is refused, naming the fleet whose record it is part of.
//
// A damaged file is never written to.
//
// The previous generation. Before the first write of each Store (so, in practice, of each deskfleet
// process: an apply, an unlock), the file is checked from end to end (every page of every bucket
// read, every record's checksum verified) and copied, from a consistent read transaction, to
// PATH.prev (0600), which replaces the copy kept before. Restore puts it back. The trade-off, chosen
// over keeping each record's prior value inside the same file: a copy in the same file is lost with
// the file when the file is what got truncated or garbled, which is the damage seen in practice; a
// second file survives it. The cost is one copy of the file (a few hundred KB at most: the journal is
// trimmed) per writing process, and coarser history: PATH.prev holds the state as it was when the last
// writing process started, so restoring it also undoes what that process recorded (the desktops
// that apply created are no longer recorded as managed: plan shows them, and adopts those the spec
// names). A file found damaged at that check is not copied, so PATH.prev stays the last good one.

// Meta page layout (bbolt's internal/common.Meta after a 16-byte page header), native byte order.
const (
	pageHeaderSize = 16
	metaSize       = 64 // up to the checksum
	metaMagic      = 0xED0CDAED
	metaVersion    = 2
	noFreelist     = ^uint64(0)
)

type metaPage struct {
	pageSize, flags uint32
	root, freelist  uint64
	pgid, txid      uint64
}

// readMeta decodes the meta page at buf; ok is false when it is not a valid one, magic says whether
// it at least starts like one.
func readMeta(buf []byte) (m metaPage, magic, ok bool) {
	if len(buf) < pageHeaderSize+metaSize+8 {
		return m, false, false
	}
	b := buf[pageHeaderSize:]
	e := binary.NativeEndian
	if e.Uint32(b[0:]) != metaMagic {
		return m, false, false
	}
	h := fnv.New64a()
	h.Write(b[:metaSize-8])
	if e.Uint32(b[4:]) != metaVersion || e.Uint64(b[56:]) != h.Sum64() {
		return m, true, false
	}
	m = metaPage{pageSize: e.Uint32(b[8:]), flags: e.Uint32(b[12:]), root: e.Uint64(b[16:]),
		freelist: e.Uint64(b[32:]), pgid: e.Uint64(b[40:]), txid: e.Uint64(b[48:])}
	return m, true, true
}

// checkFile checks what bbolt would trust before it maps the file at path (see Damage): nil for a
// missing or empty file (nothing to read), a *state.CorruptError for a damaged one, a plain error for
// a file that is no bbolt file at all (unless path.prev exists: then it was one).
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	size := fi.Size()
	if size == 0 {
		return nil
	}
	buf := make([]byte, 4096)
	n, _ := io.ReadFull(f, buf)
	m0, magic0, ok0 := readMeta(buf[:n])
	pageSize := int64(os.Getpagesize())
	if ok0 {
		pageSize = int64(m0.pageSize)
	}
	var m1 metaPage
	var magic1, ok1 bool
	if pageSize >= 512 && pageSize <= 1<<20 {
		buf1 := make([]byte, 4096)
		n, _ := f.ReadAt(buf1, pageSize)
		m1, magic1, ok1 = readMeta(buf1[:n])
	}
	corrupt := func(detail string) error {
		return corruptFile(path, detail, nil)
	}
	switch {
	case !magic0 && !magic1:
		if _, err := os.Stat(path + prevSuffix); err == nil {
			return corrupt("it no longer starts like a state file (its first pages are overwritten or garbled)")
		}
		return fmt.Errorf("state file %s is not a deskfleet state file (or is damaged): it is not a bbolt database", path)
	case !ok0 && !ok1:
		return corrupt("both of its meta pages fail their checksum")
	}
	m := m0
	if !ok0 || (ok1 && m1.txid > m0.txid) {
		m = m1
	}
	if m.pageSize < 512 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0 {
		return corrupt(fmt.Sprintf("its meta page names an impossible page size (%d)", m.pageSize))
	}
	if m.pgid < 4 || m.root >= m.pgid || (m.freelist >= m.pgid && m.freelist != noFreelist) {
		return corrupt("its meta page names pages outside the file")
	}
	if want := int64(m.pgid) * int64(m.pageSize); want/int64(m.pageSize) != int64(m.pgid) || size < want {
		return corrupt(fmt.Sprintf("it is truncated: %d bytes, but its pages reach byte %d", size, int64(m.pgid)*int64(m.pageSize)))
	}
	return nil
}

// prevSuffix names the previous generation of a state file: PATH.prev.
const prevSuffix = ".prev"

// corruptFile is the error for damage found in the file at path (fleet "" when not one record's).
func corruptFile(path, detail string, err error) error {
	return corruptRecord(path, "", detail, err)
}

func corruptRecord(path, fleet, detail string, err error) error {
	rec := "no previous generation is kept (" + filepath.Base(path) + prevSuffix + " is missing)"
	_, serr := os.Stat(path + prevSuffix)
	if serr == nil {
		rec = "its previous generation is kept in " + path + prevSuffix
	}
	return &state.CorruptError{Store: path, Fleet: fleet, Detail: detail, Recover: rec, Restorable: serr == nil, Err: err}
}

// errCallerPanicked marks a panic of the caller's Update function, which guard re-raises as it was
// (it is not damage).
type callerPanic struct{ value any }

// guard runs fn, which accesses the bbolt file at path, with faults on memory-mapped pages turned
// into panics, and turns a panic (a fault, or bbolt's own on a garbled page) into a
// *state.CorruptError. A panic of the caller's code is re-raised (see callerPanic).
func guard(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if cp, ok := r.(callerPanic); ok {
			panic(cp.value)
		}
		err = corruptFile(path, fmt.Sprintf("reading it failed (%v)", r), nil)
	}()
	return fn()
}

// openDB opens the bbolt file under guard-compatible terms: run it inside guard.
func openDB(path string, readOnly bool, timeout time.Duration) (*bbolt.DB, error) {
	return bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: readOnly, Timeout: timeout})
}

// scan reads every page of tx's buckets and verifies every record (decoding and checksum) and lock:
// the end-to-end check done before the file is copied to PATH.prev. It returns the first damage
// found, and the fleets whose records are damaged.
func scan(tx *bbolt.Tx, path string) (damaged []string, err error) {
	var first error // the first damaged object's error
	if err := checkFormat(tx, path); err != nil {
		return nil, err
	}
	if b := tx.Bucket(bucketRecords); b != nil {
		err = b.ForEach(func(k, v []byte) error {
			if v == nil {
				return corruptFile(path, fmt.Sprintf("bucket %q holds a bucket %q", bucketRecords, k), nil)
			}
			var rec state.Record
			if _, err := state.UnsealRecord(v, &rec); err != nil {
				damaged = append(damaged, string(k))
				first = cmp.Or(first, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if b := tx.Bucket(bucketFleets); b != nil {
		err = b.ForEach(func(k, v []byte) error {
			if v != nil {
				return corruptFile(path, fmt.Sprintf("bucket %q holds a value %q", bucketFleets, k), nil)
			}
			if _, err := loadFleet(b.Bucket(k), string(k)); err != nil {
				damaged = append(damaged, string(k))
				first = cmp.Or(first, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if b := tx.Bucket(bucketLocks); b != nil {
		if err := b.ForEach(func(k, v []byte) error {
			var l lockRecord
			if err := json.Unmarshal(v, &l); err != nil {
				return corruptFile(path, fmt.Sprintf("the lock of fleet %s cannot be decoded", k), err)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if len(damaged) > 0 {
		return damaged, corruptRecord(path, damaged[0], first.Error(), first)
	}
	return nil, nil
}

// backup copies the file, through db (open read-write: no other process writes meanwhile), to
// PATH.prev after checking it end to end (see The previous generation). A damaged file is an error
// and is not copied.
func backup(db *bbolt.DB, path string) error {
	tmp := path + prevSuffix + ".tmp"
	err := db.View(func(tx *bbolt.Tx) error {
		if _, err := scan(tx, path); err != nil {
			return err
		}
		if tx.Bucket(bucketMeta) == nil {
			return errNothingToKeep
		}
		return tx.CopyFile(tmp, 0o600)
	})
	if errors.Is(err, errNothingToKeep) {
		return nil
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path+prevSuffix)
	}
	if err != nil {
		os.Remove(tmp)
		var ce *state.CorruptError
		if errors.As(err, &ce) {
			return err
		}
		return fmt.Errorf("state file %s: keeping its previous generation in %s: %w", path, path+prevSuffix, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

var errNothingToKeep = errors.New("a new file: nothing to keep")

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck // best effort: the rename is done
		d.Close()
	}
}

// copyFile copies src to dst (created 0600, replaced if present) and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// inspect reads the file at path from end to end: it returns the fleets' records (the good ones),
// the fleets whose records are damaged, and an error when the file as a whole is damaged (or is not
// a state file).
func inspect(path string, timeout time.Duration) (recs map[string]*state.Record, damaged []string, err error) {
	if err := checkFile(path); err != nil {
		return nil, nil, err
	}
	recs = map[string]*state.Record{}
	err = guard(path, func() error {
		db, err := openDB(path, true, timeout)
		if err != nil {
			return openError(path, timeout, err)
		}
		defer db.Close()
		return db.View(func(tx *bbolt.Tx) error {
			d, err := scan(tx, path)
			var ce *state.CorruptError
			if err != nil && !(errors.As(err, &ce) && ce.Fleet != "") {
				return err
			}
			damaged = d
			for _, name := range [][]byte{bucketRecords, bucketFleets} {
				b := tx.Bucket(name)
				if b == nil {
					continue
				}
				if err := b.ForEach(func(k, _ []byte) error {
					if rec, err := getRecord(tx, string(k)); err == nil {
						recs[string(k)] = rec
					}
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return recs, damaged, err
}

// Restore puts back the previous generation of the state file at path (PATH.prev, see The previous
// generation) and reports what it restored:
//
//   - when the file as a whole is damaged (truncated, garbled pages), the whole file is replaced by
//     PATH.prev (every fleet goes back), whatever fleet says;
//   - otherwise the damaged records are replaced by their previous generation: fleet's only, when
//     fleet is given, else every damaged one;
//   - a file (or fleet's record) that is not damaged is left alone and is an error, unless force is
//     set: then fleet's record (or, without fleet, the whole file) goes back all the same.
//
// The damaged file is kept beside it as PATH.damaged-TIME before it is replaced. PATH.prev is checked
// end to end first and kept. A fleet whose lock is held by a live process is not restored.
func Restore(path, fleet string, force bool, opt Options) ([]state.Restored, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	mu, _ := fileMutexes.LoadOrStore(abs, new(sync.RWMutex))
	mu.(*sync.RWMutex).Lock()
	defer mu.(*sync.RWMutex).Unlock()

	prev := path + prevSuffix
	if _, err := os.Stat(prev); err != nil {
		return nil, fmt.Errorf("state file %s: no previous generation to restore (%s: %w)", path, prev, err)
	}
	prevRecs, prevDamaged, err := inspect(prev, opt.Timeout)
	if err == nil && len(prevDamaged) > 0 {
		err = corruptRecord(prev, prevDamaged[0], state.ErrChecksum.Error(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("the previous generation cannot be restored: %w", err)
	}

	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return restoreFile(path, prevRecs, opt.Timeout) // removed: its previous generation comes back
	}
	_, damaged, err := inspect(path, opt.Timeout)
	if err != nil && !errors.Is(err, state.ErrCorrupt) {
		return nil, err
	}
	if err == nil { // the file is sound as a whole
		targets := damaged
		if fleet != "" {
			if !contains(damaged, fleet) && !force {
				return nil, fmt.Errorf("state file %s: the record of fleet %s is not damaged; nothing restored "+
					"(--force puts its previous generation back all the same)", path, fleet)
			}
			targets = []string{fleet}
		}
		if len(targets) == 0 {
			if !force {
				return nil, fmt.Errorf("state file %s is not damaged; nothing restored "+
					"(--force puts its previous generation back all the same)", path)
			}
		} else {
			return restoreRecords(path, targets, prevRecs, opt.Timeout)
		}
	}
	return restoreFile(path, prevRecs, opt.Timeout)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// restoreRecords writes prevRecs' records of fleets into the (structurally sound) file at path, in
// one write transaction, without keeping a previous generation (the file holds damaged records).
func restoreRecords(path string, fleets []string, prevRecs map[string]*state.Record, timeout time.Duration) ([]state.Restored, error) {
	var out []state.Restored
	err := guard(path, func() error {
		db, err := openDB(path, false, timeout)
		if err != nil {
			return openError(path, timeout, err)
		}
		defer db.Close()
		return db.Update(func(tx *bbolt.Tx) error {
			if err := checkFormat(tx, path); err != nil {
				return err
			}
			for _, fleet := range fleets {
				rec := prevRecs[fleet]
				if rec == nil {
					return fmt.Errorf("state file %s: its previous generation (%s) holds no record of fleet %s",
						path, path+prevSuffix, fleet)
				}
				if l, err := getLock(tx, fleet); err != nil {
					return err
				} else if l != nil && !l.Holder.ProcessGone() {
					return &state.LockedError{Fleet: fleet, Holder: l.Holder}
				}
				if err := putRecord(tx, fleet, rec); err != nil {
					return err
				}
				out = append(out, state.Restored{Fleet: fleet, Serial: rec.Serial})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// restoreFile replaces the file at path by its previous generation: the damaged file is copied to
// PATH.damaged-TIME, PATH.prev to a temporary file beside path, which is then renamed over path.
func restoreFile(path string, prevRecs map[string]*state.Record, timeout time.Duration) ([]state.Restored, error) {
	// A sound file (restored with force) is held open read-write meanwhile: no other process writes.
	if checkFile(path) == nil {
		var db *bbolt.DB
		if err := guard(path, func() error {
			var err error
			db, err = openDB(path, false, timeout)
			return err
		}); err == nil && db != nil {
			defer db.Close()
		}
	}
	if _, err := os.Stat(path); err == nil {
		kept := path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
		if err := copyFile(path, kept); err != nil {
			return nil, fmt.Errorf("state file %s: keeping a copy of it before restoring: %w", path, err)
		}
	}
	tmp := path + ".restore.tmp"
	if err := copyFile(path+prevSuffix, tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("state file %s: restoring %s: %w", path, path+prevSuffix, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("state file %s: restoring %s: %w", path, path+prevSuffix, err)
	}
	syncDir(filepath.Dir(path))
	out := make([]state.Restored, 0, len(prevRecs))
	for name, rec := range prevRecs {
		out = append(out, state.Restored{Fleet: name, Serial: rec.Serial, Whole: true})
	}
	sortRestored(out)
	return out, nil
}
