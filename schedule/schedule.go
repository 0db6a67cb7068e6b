// Package schedule reads and evaluates power schedules: the hours in a week when desktops run, in a
// time zone, with days off. It knows nothing of the spec: spec.Schedule holds what users write and
// calls Parse; the planner asks On at the moment it plans, cost and the report ask HoursBetween and
// Intervals.
//
// The grammar of hours is one or more windows separated by ";", each days then one or more time
// ranges:
//
//	Mon-Fri 08:30-19:00
//	Mon,Wed 08:00-12:00 13:30-17:00; Tue,Thu 13:00-17:30
//	daily 00:00-24:00
//	Fri 22:00-06:00          (overnight: into Saturday morning)
//	always                    (every hour of the week)
//
// Days are Mon Tue Wed Thu Fri Sat Sun (any case), ranges of them (Mon-Fri, Sat-Sun, Fri-Mon wraps),
// lists (Mon,Wed,Fri), or the words daily, weekdays (Mon-Fri) and weekends (Sat-Sun). A time is HH:MM
// from 00:00 to 24:00; a range whose end is before its start runs overnight. Windows may not overlap:
// an overlap is a mistake more often than not, and the hours of a week would be counted twice.
package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	// The time zone database is built in, so that a schedule means the same on every machine
	// (Windows and minimal containers have none of their own).
	_ "time/tzdata"
)

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

// Schedule is a parsed schedule. Its zero value is never used: a nil *Schedule means no schedule.
type Schedule struct {
	hours string
	loc   *time.Location
	// spans are the on-spans within a week, in minutes from Monday 00:00, sorted and not
	// overlapping; a span may end past the week's end (an overnight window on Sunday), and then
	// wraps to Monday.
	spans []span
	// except are the days off (whole days in loc), as "2006-01-02".
	except map[string]bool
}

type span struct{ start, end int }

// Interval is a time when the schedule is on: [Start, End).
type Interval struct{ Start, End time.Time }

// Error is a mistake in what was written: Field is "hours", "timezone" or "except"; Offset the
// byte offset in the hours string where the mistake starts (for a position), Index the entry of
// except.
type Error struct {
	Field  string
	Offset int
	Index  int
	Msg    string
	Hint   string
}

func (e *Error) Error() string { return e.Msg }

// Parse reads hours (see the package doc), a time zone name of the IANA database (Asia/Shanghai)
// and days off (YYYY-MM-DD, or a range YYYY-MM-DD..YYYY-MM-DD). The error is an *Error.
func Parse(hours, timezone string, except []string) (*Schedule, error) {
	loc, err := time.LoadLocation(timezone)
	if err != nil || timezone == "" || strings.EqualFold(timezone, "local") {
		return nil, &Error{Field: "timezone", Msg: fmt.Sprintf("unknown time zone %q", timezone),
			Hint: "use a name of the IANA time zone database, such as Asia/Shanghai or UTC"}
	}
	s := &Schedule{hours: strings.TrimSpace(hours), loc: loc, except: map[string]bool{}}
	if err := s.parseHours(hours); err != nil {
		return nil, err
	}
	for i, e := range except {
		if err := s.addExcept(e); err != nil {
			err.Index = i
			return nil, err
		}
	}
	return s, nil
}

var dayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func (s *Schedule) parseHours(hours string) *Error {
	if strings.TrimSpace(hours) == "" {
		return &Error{Field: "hours", Msg: "the hours are empty", Hint: `write days and times, such as "Mon-Fri 08:30-19:00"`}
	}
	if strings.EqualFold(strings.TrimSpace(hours), "always") {
		s.spans = []span{{0, minutesPerWeek}}
		return nil
	}
	type placed struct {
		span
		text   string
		offset int
	}
	var all []placed
	base := 0 // byte offset of the window in hours
	for _, window := range strings.Split(hours, ";") {
		wStart := base
		base += len(window) + 1
		fields := fieldsWithOffsets(window)
		if len(fields) == 0 {
			return &Error{Field: "hours", Offset: wStart, Msg: "an empty window between two ';'", Hint: "remove the extra ';'"}
		}
		days, err := parseDays(fields[0].text)
		if err != nil {
			err.Offset = wStart + fields[0].off
			return err
		}
		if len(fields) == 1 {
			return &Error{Field: "hours", Offset: wStart + fields[0].off,
				Msg: fmt.Sprintf("%q has days but no time range", strings.TrimSpace(window)), Hint: `add one, such as "08:30-19:00"`}
		}
		for _, f := range fields[1:] {
			start, end, err := parseRange(f.text)
			if err != nil {
				err.Offset = wStart + f.off
				return err
			}
			if end <= start {
				end += minutesPerDay // overnight
			}
			for _, d := range days {
				all = append(all, placed{span{d*minutesPerDay + start, d*minutesPerDay + end}, strings.TrimSpace(window), wStart + f.off})
			}
		}
	}
	slices.SortFunc(all, func(a, b placed) int { return a.start - b.start })
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			a, b := all[i], all[j]
			if at, ok := overlap(a.span, b.span); ok {
				later := a
				if b.offset > a.offset {
					later = b
				}
				return &Error{Field: "hours", Offset: later.offset,
					Msg:  fmt.Sprintf("the windows overlap on %s", describeMinute(at)),
					Hint: "each hour of the week may be in one window only: shorten or split one of them"}
			}
		}
	}
	for _, p := range all {
		s.spans = append(s.spans, p.span)
	}
	return nil
}

// overlap returns the first minute of the week that two spans share, an overnight Sunday span
// wrapping to Monday; ok is false when they share none.
func overlap(a, b span) (minute int, ok bool) {
	for _, sh := range []int{0, minutesPerWeek, -minutesPerWeek} {
		if a.start < b.end+sh && b.start+sh < a.end {
			return ((max(a.start, b.start+sh) % minutesPerWeek) + minutesPerWeek) % minutesPerWeek, true
		}
	}
	return 0, false
}

func describeMinute(m int) string {
	d := m / minutesPerDay
	r := m % minutesPerDay
	return fmt.Sprintf("%s %02d:%02d", strings.ToUpper(dayNames[d][:1])+dayNames[d][1:], r/60, r%60)
}

type field struct {
	text string
	off  int
}

func fieldsWithOffsets(s string) []field {
	var out []field
	start := -1
	for i, r := range s + " " {
		if r == ' ' || r == '\t' {
			if start >= 0 {
				out = append(out, field{s[start:i], start})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

// parseDays reads a days field: names, ranges and lists, or daily, weekdays, weekends.
func parseDays(f string) ([]int, *Error) {
	switch strings.ToLower(f) {
	case "daily", "everyday":
		return []int{0, 1, 2, 3, 4, 5, 6}, nil
	case "weekdays":
		return []int{0, 1, 2, 3, 4}, nil
	case "weekends":
		return []int{5, 6}, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, part := range strings.Split(f, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok := day(from)
		b := a
		if isRange {
			b, ok = day(to)
			if aa, ok2 := day(from); ok2 {
				a = aa
			} else {
				ok = false
			}
		}
		if !ok {
			return nil, &Error{Field: "hours", Msg: fmt.Sprintf("%q is not a day", part),
				Hint: "days are Mon Tue Wed Thu Fri Sat Sun, a range (Mon-Fri), a list (Mon,Wed) or daily, weekdays, weekends"}
		}
		for d := a; ; d = (d + 1) % 7 {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
			if d == b {
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func day(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	for i, n := range dayNames {
		if strings.HasPrefix(s, n) && len(s) <= 9 && strings.HasPrefix(fullDay[i], s) {
			return i, true
		}
	}
	return 0, false
}

var fullDay = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// parseRange reads HH:MM-HH:MM into minutes of the day (end may be 24:00).
func parseRange(f string) (int, int, *Error) {
	a, b, ok := strings.Cut(f, "-")
	if !ok {
		return 0, 0, &Error{Field: "hours", Msg: fmt.Sprintf("%q is not a time range", f), Hint: `write it as HH:MM-HH:MM, such as "08:30-19:00"`}
	}
	start, err := clock(a)
	if err != nil {
		return 0, 0, err
	}
	end, err := clock(b)
	if err != nil {
		return 0, 0, err
	}
	if start == minutesPerDay {
		return 0, 0, &Error{Field: "hours", Msg: "a range cannot start at 24:00", Hint: "start it at 00:00 of the next day"}
	}
	if start == end {
		return 0, 0, &Error{Field: "hours", Msg: fmt.Sprintf("the range %q is empty", f), Hint: "for a whole day write 00:00-24:00"}
	}
	return start, end, nil
}

func clock(s string) (int, *Error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2 {
		return 0, &Error{Field: "hours", Msg: fmt.Sprintf("%q is not a time", s), Hint: "write times as HH:MM, from 00:00 to 24:00"}
	}
	if hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, &Error{Field: "hours", Msg: fmt.Sprintf("%q is not a time of day", s), Hint: "hours go from 00 to 24 (24:00 only as an end), minutes from 00 to 59"}
	}
	return hh*60 + mm, nil
}

func (s *Schedule) addExcept(e string) *Error {
	from, to, isRange := strings.Cut(e, "..")
	a, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(from), s.loc)
	b := a
	if err == nil && isRange {
		b, err = time.ParseInLocation("2006-01-02", strings.TrimSpace(to), s.loc)
	}
	if err != nil {
		return &Error{Field: "except", Msg: fmt.Sprintf("%q is not a date", e), Hint: "write days off as YYYY-MM-DD, or a range YYYY-MM-DD..YYYY-MM-DD"}
	}
	if b.Before(a) {
		return &Error{Field: "except", Msg: fmt.Sprintf("the range %q ends before it starts", e), Hint: "write the earlier day first"}
	}
	if b.Sub(a) > 366*24*time.Hour {
		return &Error{Field: "except", Msg: fmt.Sprintf("the range %q is longer than a year", e), Hint: "list each period off apart"}
	}
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		s.except[d.Format("2006-01-02")] = true
	}
	return nil
}

// String is the schedule as written, with its time zone: "Mon-Fri 08:30-19:00 (Asia/Shanghai)".
func (s *Schedule) String() string {
	out := s.hours + " (" + s.loc.String() + ")"
	switch n := len(s.except); n {
	case 0:
	case 1:
		out += ", 1 day off"
	default:
		out += fmt.Sprintf(", %d days off", n)
	}
	return out
}

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// weekMinute is t's minute of the week in loc (Monday 00:00 is 0).
func weekMinute(t time.Time) int {
	wd := (int(t.Weekday()) + 6) % 7
	return wd*minutesPerDay + t.Hour()*60 + t.Minute()
}

// inSpans reports whether minute m of the week is in an on-span.
func (s *Schedule) inSpans(m int) bool {
	for _, sp := range s.spans {
		if (m >= sp.start && m < sp.end) || (sp.end > minutesPerWeek && m < sp.end-minutesPerWeek) {
			return true
		}
	}
	return false
}

// On reports whether the schedule wants desktops on at t: t falls in a window (in the schedule's
// time zone) and not on a day off.
func (s *Schedule) On(t time.Time) bool {
	lt := t.In(s.loc)
	if s.except[lt.Format("2006-01-02")] {
		return false
	}
	return s.inSpans(weekMinute(lt))
}

// Intervals are the times in [from, to) when the schedule is on, in order, each cut at from and to
// and at the day-off boundaries; adjacent minutes are merged.
func (s *Schedule) Intervals(from, to time.Time) []Interval {
	var out []Interval
	t := from.In(s.loc).Truncate(time.Minute)
	if t.Before(from) {
		t = t.Add(time.Minute)
	}
	// Walk change points: at most one per span edge and per midnight.
	for t.Before(to) {
		on := s.On(t)
		next := s.nextChange(t)
		if next.After(to) {
			next = to
		}
		if on {
			if n := len(out); n > 0 && out[n-1].End.Equal(t) {
				out[n-1].End = next
			} else {
				out = append(out, Interval{Start: t, End: next})
			}
		}
		t = next
	}
	if len(out) > 0 && out[0].Start.Before(from) {
		out[0].Start = from
	}
	return out
}

// nextChange is the first minute after t at which On may change: a span edge or a midnight.
func (s *Schedule) nextChange(t time.Time) time.Time {
	lt := t.In(s.loc)
	m := weekMinute(lt)
	best := minutesPerDay - m%minutesPerDay // the next midnight
	for _, sp := range s.spans {
		for _, edge := range []int{sp.start, sp.end} {
			for _, sh := range []int{0, minutesPerWeek, -minutesPerWeek} {
				if d := edge + sh - m; d > 0 && d < best {
					best = d
				}
			}
		}
	}
	// Add wall-clock minutes through the date: a DST change moves the instant, not the wall time.
	y, mo, d := lt.Date()
	base := time.Date(y, mo, d, 0, 0, 0, 0, s.loc)
	next := base.Add(time.Duration(lt.Hour()*60+lt.Minute()+best) * time.Minute)
	if !next.After(t) {
		next = t.Add(time.Minute)
	}
	return next
}

// HoursBetween is how many hours of [from, to) the schedule is on.
func (s *Schedule) HoursBetween(from, to time.Time) float64 {
	var d time.Duration
	for _, iv := range s.Intervals(from, to) {
		d += iv.End.Sub(iv.Start)
	}
	return d.Hours()
}

// HoursPerWeek is the hours of a week the schedule is on, days off aside.
func (s *Schedule) HoursPerWeek() float64 {
	n := 0
	for _, sp := range s.spans {
		n += sp.end - sp.start
	}
	return float64(n) / 60
}

// ParseMoment reads a moment as people write one: RFC 3339 (2027-01-04T08:00:00+08:00), or a date
// and time of day (2027-01-04 08:00, 2027-01-04T08:00) in loc.
func ParseMoment(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write 2027-01-04T08:00:00+08:00, or 2027-01-04 08:00", s)
}
