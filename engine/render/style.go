package render

import "github.com/deskfleet/deskfleet/engine"

// ANSI SGR codes the text plan uses.
const (
	sgrBold   = "1"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
	sgrCyan   = "36"
	sgrDim    = "2"
)

// style colours text with ANSI escapes when on; when off it returns text unchanged, so a plan
// rendered without colour holds no escape byte.
type style struct{ on bool }

func (s style) paint(sgr, text string) string {
	if !s.on || text == "" {
		return text
	}
	return "\x1b[" + sgr + "m" + text + "\x1b[0m"
}

func (s style) bold(t string) string   { return s.paint(sgrBold, t) }
func (s style) red(t string) string    { return s.paint(sgrRed, t) }
func (s style) green(t string) string  { return s.paint(sgrGreen, t) }
func (s style) yellow(t string) string { return s.paint(sgrYellow, t) }
func (s style) dim(t string) string    { return s.paint(sgrDim, t) }

// glyph returns the action's glyph coloured by what it does: + green, ~ yellow, ! -/+ and - red,
// = cyan, . (forget) dim.
func (s style) glyph(a engine.Action) string {
	g := a.String()
	switch a {
	case engine.ActionCreate:
		return s.paint(sgrGreen, g)
	case engine.ActionUpdate:
		return s.paint(sgrYellow, g)
	case engine.ActionRebuild, engine.ActionReplace, engine.ActionDelete:
		return s.paint(sgrRed, g)
	case engine.ActionAdopt:
		return s.paint(sgrCyan, g)
	case engine.ActionForget:
		return s.dim(g)
	}
	return g
}
