package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/engine"
)

// DoctorText writes the doctor's report for people: the credentials, the clock, throttling, one line
// per read action (status, latency, envelope spelling, items) with what is wrong under it, then the
// problems (what makes the exit code 1) and notes. Every text that came from the API (error
// messages, field names, site names) is shown through safe. With color, statuses are coloured; the
// only error is w's.
func DoctorText(w io.Writer, r *engine.DoctorReport, color bool) error {
	st := style{on: color}
	var b strings.Builder
	mark := func(status string) string {
		switch status {
		case engine.DoctorOK:
			return st.green("ok  ")
		case engine.DoctorWarn:
			return st.yellow("warn")
		case engine.DoctorFail:
			return st.red("FAIL")
		default:
			return st.dim("skip")
		}
	}
	fmt.Fprintf(&b, "deskfleet doctor · %s · read-only\n\n", safe(r.Endpoint))
	fmt.Fprintf(&b, "%s credentials  %s\n", mark(r.Credentials.Status), safe(r.Credentials.Detail))
	if r.Credentials.Hint != "" {
		fmt.Fprintf(&b, "                  hint: %s\n", r.Credentials.Hint)
	}
	fmt.Fprintf(&b, "%s clock        %s\n", mark(r.Clock.Status), r.Clock.Detail)
	if r.Clock.Hint != "" {
		fmt.Fprintf(&b, "                  hint: %s\n", r.Clock.Hint)
	}
	thr := "no read was throttled"
	if r.Throttling.Seen {
		thr = fmt.Sprintf("throttled %d time(s)", r.Throttling.Throttled)
		if r.Throttling.Limit > 0 {
			thr += fmt.Sprintf("; the client settled at %.1f requests/s", r.Throttling.Limit)
		}
	}
	thrStatus := engine.DoctorOK
	if r.Throttling.Seen {
		thrStatus = engine.DoctorWarn
	}
	fmt.Fprintf(&b, "%s throttling   %s\n", mark(thrStatus), thr)

	b.WriteString("\nReads\n")
	for _, a := range r.Actions {
		name := string(a.Action)
		if a.Params != "" {
			name += " (" + safe(a.Params) + ")"
		}
		fmt.Fprintf(&b, "  %s %s%s", mark(a.Status), name, strings.Repeat(" ", max(1, 35-displayWidth(name))))
		if a.Status == engine.DoctorSkipped {
			fmt.Fprintf(&b, "%s\n", a.Detail)
			continue
		}
		var parts []string
		parts = append(parts, latency(a.Latency))
		if a.HTTPStatus != 0 && a.HTTPStatus != 200 {
			parts = append(parts, fmt.Sprintf("HTTP %d", a.HTTPStatus))
		}
		if a.Casing != "" {
			parts = append(parts, safe(a.Casing))
		}
		if a.Error == "" {
			switch {
			case a.Null:
				parts = append(parts, "Data null")
			case a.List:
				parts = append(parts, plural(a.Items, "item", "items"))
			default:
				parts = append(parts, "object")
			}
		}
		if a.Attempts > 1 {
			parts = append(parts, fmt.Sprintf("%d attempts", a.Attempts))
		}
		fmt.Fprintf(&b, "%s\n", strings.Join(parts, " · "))
		if a.Error != "" {
			fmt.Fprintf(&b, "         error: %s\n", safe(a.Error))
		}
		if len(a.Mismatch) > 0 {
			fmt.Fprintf(&b, "         shape: %s\n", strings.Join(safeAll(a.Mismatch), ", "))
		}
		if len(a.Missing) > 0 {
			fmt.Fprintf(&b, "         missing: %s\n", strings.Join(safeAll(a.Missing), ", "))
		}
		if len(a.Unknown) > 0 {
			fmt.Fprintf(&b, "         unknown: %s\n", strings.Join(safeAll(a.Unknown), ", "))
		}
		if a.Throttled > 0 {
			fmt.Fprintf(&b, "         throttled %d time(s)\n", a.Throttled)
		}
		if a.Casing != "" && !a.Standard && a.Error == "" {
			b.WriteString("         envelope: neither Code/Message/Data nor code/msg/data\n")
		}
	}
	if len(r.Problems) > 0 {
		b.WriteString("\nProblems\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s %s\n", st.red("✗"), safe(p))
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", safe(n))
		}
	}
	b.WriteByte('\n')
	if r.OK {
		b.WriteString(st.green("Ready for a first apply") + ": credentials accepted, clock in time, every read understood.\n")
	} else {
		fmt.Fprintf(&b, "%s: %s to fix before a first apply.\n", st.red("Not ready"), plural(len(r.Problems), "problem", "problems"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// latency shows a duration to a tenth of a millisecond below a second, else to the millisecond.
func latency(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return d.Round(time.Millisecond).String()
}

// DoctorJSON writes the report as indented JSON (two spaces) and a newline, versioned by its
// format_version field (engine.DoctorFormatVersion, docs/doctor.md). Empty lists are [], never null.
func DoctorJSON(w io.Writer, r *engine.DoctorReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
