package pgtest

import "syscall"

// setDeathSignal has the kernel send SIGQUIT (the postmaster's immediate shutdown) to the program
// when the test binary dies, whatever the way: no server outlives its tests. Go sets it after
// switching credentials, which would otherwise clear it.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGQUIT }
