package sim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

// BenchmarkFileBackedQueryVm measures one QueryVm through ServeHTTP among 1,000 desktops, in memory
// and on a DataFile (the flock, the generation check and, signed, the nonce journal append), and
// fails if a read parsed or rewrote the file.
func BenchmarkFileBackedQueryVm(b *testing.B) {
	const n = 1000
	for _, c := range []struct {
		name         string
		file, signed bool
	}{{"memory", false, false}, {"file", true, false}, {"memory-signed", false, true}, {"file-signed", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			cat := DefaultCatalog()
			ids := make([]string, n)
			for i := range n {
				ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
				cat.Desktops = append(cat.Desktops, Desktop{ID: ids[i], Name: fmt.Sprintf("d%04d", i), SiteID: SiteSuqianA,
					ProductID: ProductA5000Win, VPCID: VPCDefaultSuqianA, Status: StatusRunning, PrivateIP: "vlan1704:10.1.0.9"})
			}
			opt := Options{Catalog: &cat, Clock: NewManualClock(t0)}
			if c.file {
				opt.DataFile = filepath.Join(b.TempDir(), "sim.db")
			}
			if c.signed {
				opt.Keys = map[string]string{testAK: testSK}
			}
			s, err := New(opt)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ts := t0.UTC().Format(provider.TimestampLayout)
			var loads0, saves0 int
			if c.file {
				loads0, saves0 = ioCounts(s)
			}
			for i := 0; b.Loop(); i++ {
				q := url.Values{"Action": {"QueryVm"}, "vmId": {ids[i%n]}}
				if c.signed {
					q.Set("AccessKeyId", testAK)
					q.Set("SignatureMethod", provider.SignatureMethod)
					q.Set("SignatureVersion", provider.SignatureVersion)
					q.Set("SignatureNonce", fmt.Sprintf("bench-%d", i))
					q.Set("Timestamp", ts)
					q.Set("Version", provider.APIVersion)
					q.Set("Signature", provider.Sign(http.MethodGet, q, testSK))
				}
				req := httptest.NewRequest(http.MethodGet, "/gcw/?"+q.Encode(), nil)
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("QueryVm: %d %s", rec.Code, rec.Body)
				}
			}
			b.StopTimer()
			if c.file {
				if loads, saves := ioCounts(s); loads != loads0 || saves != saves0 {
					b.Fatalf("reads parsed the file %d times and wrote it %d times", loads-loads0, saves-saves0)
				}
			}
		})
	}
}
