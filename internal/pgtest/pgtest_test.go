package pgtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestDSN: each DSN is a new, empty database, reached over a unix socket whose path fits the limit.
func TestDSN(t *testing.T) {
	ctx := context.Background()
	first, second := DSN(t), DSN(t)
	if first == second {
		t.Fatalf("two calls returned one database: %s", first)
	}
	a, b := Connect(t, first), Connect(t, second)
	if _, err := a.Exec(ctx, `CREATE TABLE leftover (x int)`); err != nil {
		t.Fatal(err)
	}
	var tables int
	if err := b.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("a fresh database holds %d tables", tables)
	}
	u, err := url.Parse(first)
	if err != nil {
		t.Fatal(err)
	}
	socket := u.Query().Get("host") + "/.s.PGSQL." + u.Query().Get("port")
	if len(socket) >= 100 {
		t.Errorf("the socket path %s is %d bytes: unix sockets allow about 100", socket, len(socket))
	}
	var superuser bool
	if err := a.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&superuser); err != nil || !superuser {
		t.Errorf("DSN's role is not the superuser (%v, %v)", superuser, err)
	}
}

// TestPasswordDSN: the TCP DSN's role logs in with its password only.
func TestPasswordDSN(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(string) string
		ok     bool
		reason string
	}{
		{"right password", func(s string) string { return s }, true, "the DSN as given connects"},
		{"wrong password", func(s string) string { return strings.Replace(s, ":pw-right@", ":pw-wrong@", 1) }, false,
			"the server checks passwords over TCP, so tests can see a refused password"},
		{"no password", func(s string) string { return strings.Replace(s, ":pw-right@", "@", 1) }, false,
			"TCP connections are not trusted"},
	}
	dsn := PasswordDSN(t, "pw-right")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", "")
			t.Setenv("PGPASSFILE", os.DevNull)
			conn, err := pgx.Connect(context.Background(), tt.mangle(dsn))
			if err == nil {
				conn.Close(context.Background())
			}
			if (err == nil) != tt.ok {
				t.Errorf("%s: Connect = %v", tt.reason, err)
			}
		})
	}
}

func TestVersionOf(t *testing.T) {
	tests := []struct {
		bin    string
		want   int
		reason string
	}{
		{"/usr/lib/postgresql/15/bin", 15, "Debian's layout: the version names the folder"},
		{"/usr/lib/postgresql/9.6/bin", 9, "old versions have a minor number: the major one counts"},
		{"/usr/lib/postgresql/devel/bin", 0, "a folder that is no version sorts last"},
	}
	for _, tt := range tests {
		if got := versionOf(tt.bin); got != tt.want {
			t.Errorf("versionOf(%s) = %d, want %d: %s", tt.bin, got, tt.want, tt.reason)
		}
	}
}
