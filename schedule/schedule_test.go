package schedule

import (
	"errors"
	"math"
	"testing"
	"time"
)

func mustParse(t *testing.T, hours, tz string, except ...string) *Schedule {
	t.Helper()
	s, err := Parse(hours, tz, except)
	if err != nil {
		t.Fatalf("Parse(%q, %q, %q): %v", hours, tz, except, err)
	}
	return s
}

// at is a wall time in Asia/Shanghai: 2027-01-04 is a Monday.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		hours, tz string
		except    []string
		field     string
		offset    int
		msg       string
		reason    string
	}{
		{"Mon-Fri 08:30-19:00", "Asia/Shanghia", nil, "timezone", 0, `unknown time zone "Asia/Shanghia"`, "a misspelt zone is not guessed"},
		{"Mon-Fri 08:30-19:00", "", nil, "timezone", 0, `unknown time zone ""`, "an empty zone would mean UTC silently"},
		{"Mon-Fri 08:30-25:00", "UTC", nil, "hours", 8, `"25:00" is not a time of day`, "an impossible time, at its range"},
		{"Mon-Fri 8:3-19:00", "UTC", nil, "hours", 8, `"8:3" is not a time`, "minutes take two digits"},
		{"Mon-Fry 08:30-19:00", "UTC", nil, "hours", 0, `"Mon-Fry" is not a day`, "a misspelt day, at the days"},
		{"Mon-Fri", "UTC", nil, "hours", 0, `"Mon-Fri" has days but no time range`, "days alone say nothing"},
		{"Mon-Fri 08:00-12:00; Fri 11:00-13:00", "UTC", nil, "hours", 25, "the windows overlap on Fri 11:00", "overlapping windows are refused, at the later one"},
		{"Sun 22:00-06:00; Mon 05:00-07:00", "UTC", nil, "hours", 21, "the windows overlap on Mon 05:00", "an overnight Sunday window wraps to Monday"},
		{"Mon 09:00-09:00", "UTC", nil, "hours", 4, `the range "09:00-09:00" is empty`, "an empty range is a mistake"},
		{"Mon 09:00-12:00;; Tue 09:00-12:00", "UTC", nil, "hours", 16, "an empty window between two ';'", "a doubled separator"},
		{"", "UTC", nil, "hours", 0, "the hours are empty", "nothing written"},
		{"daily 09:00-17:00", "UTC", []string{"2027-02-30"}, "except", 0, `"2027-02-30" is not a date`, "an impossible date"},
		{"daily 09:00-17:00", "UTC", []string{"2027-01-01", "2027-03-01..2027-02-01"}, "except", 1, `the range "2027-03-01..2027-02-01" ends before it starts`, "a backwards range, at its entry"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.hours, tc.tz, tc.except)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: Parse(%q) = %v, want an *Error", tc.reason, tc.hours, err)
			continue
		}
		pos := e.Offset
		if tc.field == "except" {
			pos = e.Index
		}
		if e.Field != tc.field || pos != tc.offset || e.Msg != tc.msg || e.Hint == "" {
			t.Errorf("%s: got %s@%d %q (hint %q), want %s@%d %q", tc.reason, e.Field, pos, e.Msg, e.Hint, tc.field, tc.offset, tc.msg)
		}
	}
}

func TestOn(t *testing.T) {
	office := mustParse(t, "Mon-Fri 08:30-19:00", "Asia/Shanghai", "2027-01-06")
	night := mustParse(t, "Fri 22:00-06:00; Sun 23:00-01:00", "Asia/Shanghai")
	school := mustParse(t, "Mon,Wed 08:00-12:00 13:30-17:00; Tue,Thu 13:00-17:30", "Asia/Shanghai")
	always := mustParse(t, "always", "Asia/Shanghai")
	cases := []struct {
		s      *Schedule
		when   string
		want   bool
		reason string
	}{
		{office, "2027-01-04 08:29", false, "a minute before the window"},
		{office, "2027-01-04 08:30", true, "the window's first minute"},
		{office, "2027-01-04 18:59", true, "its last minute"},
		{office, "2027-01-04 19:00", false, "the end is not in the window"},
		{office, "2027-01-06 10:00", false, "a day off (Wednesday 2027-01-06)"},
		{office, "2027-01-09 10:00", false, "Saturday"},
		{night, "2027-01-08 23:00", true, "Friday night"},
		{night, "2027-01-09 05:59", true, "the overnight window runs into Saturday morning"},
		{night, "2027-01-09 06:00", false, "and ends at 06:00"},
		{night, "2027-01-11 00:30", true, "Sunday's overnight window wraps into Monday"},
		{school, "2027-01-06 12:30", false, "the lunch break between two ranges"},
		{school, "2027-01-07 13:00", true, "Thursday afternoon"},
		{always, "2027-01-10 03:00", true, "always is every hour"},
	}
	for _, tc := range cases {
		if got := tc.s.On(at(t, tc.when)); got != tc.want {
			t.Errorf("%s: On(%s) = %v for %s", tc.reason, tc.when, got, tc.s)
		}
	}
	// The same instant seen from another zone is the same answer.
	if !office.On(at(t, "2027-01-04 09:00").UTC()) {
		t.Error("On depends on the zone of t, not only on the instant")
	}
}

func TestHours(t *testing.T) {
	cases := []struct {
		hours   string
		tz      string
		except  []string
		perWeek float64
		week    float64 // HoursBetween over the week from Monday 2027-01-04 00:00 (local to Asia/Shanghai)
		reason  string
	}{
		{"Mon-Fri 08:30-19:00", "Asia/Shanghai", nil, 52.5, 52.5, "five days of 10.5 hours"},
		{"Mon-Fri 08:30-19:00", "Asia/Shanghai", []string{"2027-01-06"}, 52.5, 42, "a day off removes a day's hours from the week, not from HoursPerWeek"},
		{"always", "Asia/Shanghai", nil, 168, 168, "24/7"},
		{"Fri 22:00-06:00", "Asia/Shanghai", nil, 8, 8, "an overnight window counts once"},
		{"Sun 22:00-02:00", "Asia/Shanghai", nil, 4, 4, "a Sunday overnight window counts its Monday hours at the start of the week"},
	}
	for _, tc := range cases {
		s := mustParse(t, tc.hours, tc.tz, tc.except...)
		from := at(t, "2027-01-04 00:00")
		if got := s.HoursPerWeek(); got != tc.perWeek {
			t.Errorf("%s: HoursPerWeek = %v, want %v", tc.reason, got, tc.perWeek)
		}
		if got := s.HoursBetween(from, from.AddDate(0, 0, 7)); math.Abs(got-tc.week) > 1e-9 {
			t.Errorf("%s: HoursBetween over a week = %v, want %v", tc.reason, got, tc.week)
		}
	}
}

// TestDST: in a zone with daylight saving, the schedule keeps wall-clock hours: the week of the
// change has one hour less of night, not of the window.
func TestDST(t *testing.T) {
	s := mustParse(t, "daily 09:00-17:00", "Europe/Berlin")
	loc := s.Location()
	from := time.Date(2027, 3, 22, 0, 0, 0, 0, loc) // Monday; summer time starts Sunday 2027-03-28
	if got := s.HoursBetween(from, from.AddDate(0, 0, 7)); got != 56 {
		t.Errorf("HoursBetween over the week of the change = %v, want 56", got)
	}
	if !s.On(time.Date(2027, 3, 28, 9, 30, 0, 0, loc)) || s.On(time.Date(2027, 3, 28, 8, 30, 0, 0, loc)) {
		t.Error("the window moved with the clock change")
	}
}

func TestIntervals(t *testing.T) {
	s := mustParse(t, "Mon-Fri 08:30-19:00; Sat 22:00-02:00", "Asia/Shanghai")
	from := at(t, "2027-01-04 12:00")
	got := s.Intervals(from, from.AddDate(0, 0, 7))
	if len(got) != 7 {
		t.Fatalf("%d intervals, want 7 (Mon from noon, Tue-Fri, Sat night into Sunday, Mon morning): %v", len(got), got)
	}
	if !got[0].Start.Equal(from) || !got[0].End.Equal(at(t, "2027-01-04 19:00")) {
		t.Errorf("the first interval is cut at from: %v", got[0])
	}
	if !got[5].Start.Equal(at(t, "2027-01-09 22:00")) || !got[5].End.Equal(at(t, "2027-01-10 02:00")) {
		t.Errorf("the overnight window is one interval across midnight: %v", got[5])
	}
}
