package provider

import (
	"testing"
	"time"
)

func TestSnapshotLookups(t *testing.T) {
	desktops := []Desktop{{ID: "a", Name: "ws"}, {ID: "b", Name: "ws"}, {ID: "c", Name: "other"}}
	accounts := []SubAccount{{AccountID: "u1", Email: "x@y.z"}}
	indexed := NewSnapshot(time.Unix(0, 0), desktops, accounts, nil, []ExpiringDesktop{{Name: "ws"}})
	plain := &Snapshot{Desktops: desktops, Accounts: accounts}
	for _, s := range []struct {
		name   string
		snap   *Snapshot
		reason string
	}{{"new", indexed, "NewSnapshot's lookups"}, {"filled", plain, "a snapshot filled or decoded field by field indexes itself on first use"}} {
		t.Run(s.name, func(t *testing.T) {
			if d, ok := s.snap.Desktop("b"); !ok || d.ID != "b" {
				t.Errorf("Desktop(b) = %+v, %v (%s)", d, ok, s.reason)
			}
			if _, ok := s.snap.Desktop("zz"); ok {
				t.Errorf("Desktop(zz) found (%s)", s.reason)
			}
			if got := s.snap.DesktopsNamed("ws"); len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
				t.Errorf("DesktopsNamed(ws) = %+v: names collide, both in order (%s)", got, s.reason)
			}
			if a, ok := s.snap.AccountByEmail("x@y.z"); !ok || a.AccountID != "u1" {
				t.Errorf("AccountByEmail = %+v, %v (%s)", a, ok, s.reason)
			}
			if a, ok := s.snap.Account("u1"); !ok || a.Email != "x@y.z" {
				t.Errorf("Account = %+v, %v (%s)", a, ok, s.reason)
			}
		})
	}
	if len(indexed.ExpiringNamed("ws")) != 1 {
		t.Error("ExpiringNamed(ws) should find one entry")
	}
}
