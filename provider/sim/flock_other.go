//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package sim

import "os"

// Fallback: on systems without flock(2) (Windows, Plan 9, Solaris, AIX, js/wasm...) lockFile does
// nothing, so a DataFile is protected by the Sim's in-process mutex only. Several Sims in one
// process still see each other's changes (the generation check and reload still run), but two
// processes changing one DataFile at once may lose each other's work there.
func lockFile(*os.File) error   { return nil }
func unlockFile(*os.File) error { return nil }
