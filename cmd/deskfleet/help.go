package main

import "embed"

// helpTexts are the commands' long help texts (help/NAME.txt): prose, kept beside the code rather
// than in it. TestHelpTexts checks that every command's text is there and used.
//
//go:embed help
var helpTexts embed.FS

// help returns the long help text of command key (help/KEY.txt). A missing text is a bug of this
// package, caught by its tests: it panics.
func help(key string) string {
	b, err := helpTexts.ReadFile("help/" + key + ".txt")
	if err != nil {
		panic("deskfleet: no help text " + key + ": " + err.Error())
	}
	return string(b)
}
