package provider

import "testing"

func TestNormalizeStatus(t *testing.T) {
	tests := []struct {
		raw    string
		want   Status
		reason string
	}{
		{"using", StatusRunning, "已开机: powered on"},
		{"stop", StatusStopped, "已关机: powered off"},
		{"configuring", StatusBusy, "配置中: being set up, wait"},
		{"rebooting", StatusBusy, "重启中: transition back to running"},
		{"starting", StatusBusy, "开机中: transition to running"},
		{"stoping", StatusBusy, "关机中 (API's spelling): transition to stopped"},
		{"deleteing", StatusBusy, "删除中 on request: the delete task may still fail; wait for it to settle"},
		{"dataMoving", StatusBusy, "迁移中: migration in progress"},
		{"error", StatusFailed, "错误: platform error"},
		{"invisibleError", StatusFailed, "回收错误: reclaim failed, needs a human"},
		{"asNeedExpiring", StatusExpired, "欠费关机中: being shut down for arrears (not 'expiring soon')"},
		{"asNeedExpired", StatusExpired, "已欠费: shut down for arrears"},
		{"asMonthExpiring", StatusExpired, "到期关机中: being shut down at the end of the monthly term"},
		{"asMonthExpired", StatusExpired, "已到期: monthly term ended"},
		{"deleted", StatusGone, "已删除"},
		{"logicalDeleted", StatusGone, "逻辑删除: deleted from the user's point of view"},
		{"destroying", StatusGone, "欠费到期删除中: platform reclaiming for good"},
		{"destroy", StatusGone, "欠费到期已删除"},
		{"", StatusUnknown, "missing status must not be acted on"},
		{"Using", StatusUnknown, "match is exact: an unexpected spelling is unknown, not guessed"},
		{"hibernating", StatusUnknown, "a value the reference does not list"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			if got := NormalizeStatus(tc.raw); got != tc.want {
				t.Errorf("NormalizeStatus(%q) = %v, want %v (%s)", tc.raw, got, tc.want, tc.reason)
			}
		})
		seen[tc.raw] = true
	}
	for raw := range rawStatuses {
		if !seen[raw] {
			t.Errorf("raw status %q has no test case", raw)
		}
	}
	if len(rawStatuses) != 18 {
		t.Errorf("rawStatuses has %d values, docs/api-readings.md lists 18", len(rawStatuses))
	}
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		s      Status
		want   string
		reason string
	}{
		{StatusRunning, "running", "plain name"},
		{StatusGone, "gone", "last value"},
		{StatusUnknown, "unknown", "zero value"},
		{Status(99), "unknown", "out of range must not panic"},
		{Status(-1), "unknown", "negative must not panic"},
	}
	for _, tc := range tests {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%d.String() = %q, want %q (%s)", int(tc.s), got, tc.want, tc.reason)
		}
	}
}
