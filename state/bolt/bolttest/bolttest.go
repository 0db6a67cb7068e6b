// Package bolttest damages bbolt state files the ways a disk or a copy can, for the tests of the
// store and of the commands that must refuse such a file clearly instead of crashing.
package bolttest

import (
	"math/rand"
	"os"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Truncate cuts the file at path to a quarter of what its pages span (the file itself may be longer:
// bbolt grows it ahead), as a full disk or an interrupted copy would: bbolt then reads past its
// mapping (SIGBUS).
func Truncate(t testing.TB, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil }) //nolint:errcheck // View of a read-only tx
	db.Close()
	if err := os.Truncate(path, size/4); err != nil {
		t.Fatal(err)
	}
}

// Garble overwrites every page after the two meta pages with seeded random bytes, so the meta pages
// stay valid and bbolt meets garbage in its data pages (a panic or a fault).
func Garble(t testing.TB, path string, seed int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rand.New(rand.NewSource(seed)).Read(data[2*os.Getpagesize():])
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
