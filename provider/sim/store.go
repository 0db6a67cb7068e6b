package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// store is the Sim's side of a shared DataFile. Three files live side by side:
//
//   - DataFile: the world as JSON, only ever replaced whole (temp file, fsync, rename), so a reader
//     sees the old or the new content, never a mix, whatever happens to the writer.
//   - DataFile + ".lock": held with an exclusive flock for the whole of every operation. Its content
//     is the generation: a decimal counter bumped by every save, before the rename, so that a
//     writer killed between the two only costs the others one needless reload.
//   - DataFile + ".nonces": the journal of accepted signature nonces, one record appended per
//     signed request (a read must not rewrite the world just to remember its nonce); rewritten
//     without the expired records when they dominate.
//
// A Sim reloads the world when the generation differs from the one it last read or wrote, or when
// DataFile's identity, size or modification time differs from what it last read or wrote (someone
// replaced the file without the protocol). All fields are guarded by Sim.mu, and the files by the
// flock.
type store struct {
	path  string
	lockf *os.File    // nil until the first operation, and after Close
	gen   uint64      // generation this Sim's world corresponds to
	stamp os.FileInfo // DataFile as this Sim last read or wrote it; nil when unknown

	nonces    *os.File    // the nonce journal, opened O_APPEND
	nonceInfo os.FileInfo // identity of the open journal, to notice a compaction by another process
	nonceOff  int64       // journal bytes already read
	nonceRecs int         // records in the journal, live or expired

	loads, saves int // how often this Sim parsed and wrote DataFile (tests and benchmarks)
}

func (st *store) lockPath() string  { return st.path + ".lock" }
func (st *store) noncePath() string { return st.path + ".nonces" }

// lock opens the lock file if needed (0600) and takes the flock.
func (st *store) lock() error {
	if st.lockf == nil {
		f, err := os.OpenFile(st.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		st.lockf = f
	}
	return lockFile(st.lockf)
}

func (st *store) unlock() {
	if st.lockf != nil {
		_ = unlockFile(st.lockf)
	}
}

// close releases the lock file and the journal; the next lock reopens the lock file.
func (st *store) close() error {
	var errs []error
	for _, f := range []*os.File{st.lockf, st.nonces} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	st.lockf, st.nonces, st.nonceInfo, st.nonceOff, st.nonceRecs = nil, nil, nil, 0, 0
	return errors.Join(errs...)
}

// readGen returns the generation in the lock file; 0 when it is empty or unreadable. Caller holds
// the flock.
func (st *store) readGen() uint64 {
	var b [24]byte
	n, _ := st.lockf.ReadAt(b[:], 0)
	g, _ := strconv.ParseUint(string(bytes.TrimSpace(b[:n])), 10, 64)
	return g
}

// writeGen stores g in the lock file as 20 digits and a newline (always the same length, so the
// file never needs truncating). Caller holds the flock.
func (st *store) writeGen(g uint64) error {
	_, err := st.lockf.WriteAt(fmt.Appendf(nil, "%020d\n", g), 0)
	return err
}

// changed reports whether DataFile differs from what this Sim last read or wrote, and returns its
// current generation. A missing DataFile counts as unchanged (the world in memory is written back
// on the next change). Caller holds the flock.
func (st *store) changed() (bool, uint64) {
	g := st.readGen()
	fi, err := os.Stat(st.path)
	if err != nil {
		return false, g
	}
	if g != st.gen || st.stamp == nil {
		return true, g
	}
	return !os.SameFile(fi, st.stamp) || fi.Size() != st.stamp.Size() || !fi.ModTime().Equal(st.stamp.ModTime()), g
}

// writeFile replaces DataFile by b atomically with generation g (mode 0600). Caller holds the
// flock.
func (st *store) writeFile(b []byte, g uint64) error {
	tmp, fi, err := st.writeTemp(".sim-*.tmp", b)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// Generation first: a writer dying between the two makes the others reload an unchanged file,
	// the other order would make them miss a changed one.
	if err := st.writeGen(g); err != nil {
		return err
	}
	if err := os.Rename(tmp, st.path); err != nil {
		return err
	}
	st.gen, st.stamp = g, fi
	st.saves++
	return nil
}

// writeTemp writes b to a new temp file (mode 0600, synced) beside DataFile, for the caller to
// rename into place or remove; it returns the file's name and identity, and removes it on failure.
func (st *store) writeTemp(pattern string, b []byte) (string, os.FileInfo, error) {
	f, err := os.CreateTemp(filepath.Dir(st.path), pattern)
	if err != nil {
		return "", nil, err
	}
	fi, err := func() (os.FileInfo, error) {
		if err := f.Chmod(0o600); err != nil {
			return nil, err
		}
		if _, err := f.Write(b); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
		return f.Stat()
	}()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", nil, err
	}
	return f.Name(), fi, nil
}

// nonceRecord appends one journal record to b. Every record is written as
// "\n<unix nanos> <quoted key>\n", so the remains of a writer killed mid-record are a line of their
// own that does not parse (see syncNonces).
func nonceRecord(b []byte, key string, at time.Time) []byte {
	return fmt.Appendf(b, "\n%d %s\n", at.UnixNano(), strconv.Quote(key))
}

// readFile returns DataFile's content and identity; nil content when it does not exist.
func (st *store) readFile() ([]byte, os.FileInfo, error) {
	f, err := os.Open(st.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(f)
	return b, fi, err
}

// syncNonces adds to remember the journal records written since this Sim last read it (all of
// them when the journal was replaced). Caller holds the flock.
func (st *store) syncNonces(remember func(key string, at time.Time), forget func()) error {
	fi, err := os.Stat(st.noncePath())
	if errors.Is(err, fs.ErrNotExist) {
		fi = nil
	} else if err != nil {
		return err
	}
	if st.nonces == nil || fi == nil || !os.SameFile(fi, st.nonceInfo) {
		if st.nonces != nil {
			st.nonces.Close()
		}
		f, err := os.OpenFile(st.noncePath(), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			st.nonces = nil
			return err
		}
		if fi, err = f.Stat(); err != nil {
			f.Close()
			return err
		}
		st.nonces, st.nonceInfo, st.nonceOff, st.nonceRecs = f, fi, 0, 0
		forget()
	}
	if fi.Size() <= st.nonceOff {
		return nil
	}
	b := make([]byte, fi.Size()-st.nonceOff)
	n, err := st.nonces.ReadAt(b, st.nonceOff)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	st.nonceOff += int64(n)
	// The remains of a writer killed mid-record are a line of their own that does not parse (see
	// nonceRecord), and are skipped.
	for line := range bytes.SplitSeq(b[:n], []byte("\n")) {
		ns, q, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			continue
		}
		at, err1 := strconv.ParseInt(string(ns), 10, 64)
		key, err2 := strconv.Unquote(string(q))
		if err1 != nil || err2 != nil {
			continue
		}
		remember(key, time.Unix(0, at))
		st.nonceRecs++
	}
	return nil
}

// appendNonce records an accepted nonce. Caller holds the flock and has called syncNonces.
func (st *store) appendNonce(key string, at time.Time) error {
	if st.nonces == nil {
		return errors.New("sim: nonce journal not open")
	}
	n, err := st.nonces.Write(nonceRecord(nil, key, at))
	st.nonceOff += int64(n)
	st.nonceRecs++
	return err
}

// compactNonces rewrites the journal with only the live entries when expired records are more than
// half of it (and there are enough to bother). Caller holds the flock.
func (st *store) compactNonces(live []nonceEntry) error {
	if st.nonceRecs < 1024 || st.nonceRecs < 2*len(live) {
		return nil
	}
	var b []byte
	for _, e := range live {
		b = nonceRecord(b, e.key, e.at)
	}
	tmp, _, err := st.writeTemp(".sim-nonces-*.tmp", b)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Rename(tmp, st.noncePath()); err != nil {
		return err
	}
	// The next syncNonces sees a new file and rereads it from the start.
	st.nonces.Close()
	st.nonces, st.nonceInfo = nil, nil
	return nil
}
