package provider

import "strconv"

// BillCycle is the billing period of a desktop as CreateVm and QueryVmPrice take it.
// The wire values are "minute" (pay as you go) and "month" (monthly subscription).
type BillCycle string

const (
	// BillCycleDefault leaves the parameter out: the server defaults to per-minute.
	BillCycleDefault   BillCycle = ""
	BillCyclePerMinute BillCycle = "minute"
	BillCycleMonthly   BillCycle = "month"
)

// BillMethod is the billing mode a desktop reports (QueryVm, QueryExpireVms) and QueryVms filters on.
// On the wire: 0 per-minute, 1 monthly ("2" in an error text of the reference is a typo).
type BillMethod int

const (
	BillMethodPerMinute BillMethod = 0
	BillMethodMonthly   BillMethod = 1
)

// String returns "per-minute", "monthly" or "billMethod(N)".
func (m BillMethod) String() string {
	switch m {
	case BillMethodPerMinute:
		return "per-minute"
	case BillMethodMonthly:
		return "monthly"
	}
	return "billMethod(" + strconv.Itoa(int(m)) + ")"
}

// PowerAction is OperateVm's "action" parameter.
type PowerAction string

const (
	PowerOn     PowerAction = "on"
	PowerOff    PowerAction = "off"
	PowerReboot PowerAction = "reboot"
)

// TaskStatus is the status of an asynchronous task (QueryTask): Running, then Completed or Failed.
type TaskStatus string

const (
	TaskRunning   TaskStatus = "Running"
	TaskCompleted TaskStatus = "Completed"
	TaskFailed    TaskStatus = "Failed"
)

// Done reports whether the task has reached a final status (Completed or Failed).
func (s TaskStatus) Done() bool { return s == TaskCompleted || s == TaskFailed }

// AccountStatus is a sub-account's status: creating, then create (ready to bind) or error.
type AccountStatus string

const (
	AccountCreating AccountStatus = "creating"
	AccountReady    AccountStatus = "create"
	AccountError    AccountStatus = "error"
)

// ImageStatus is an image's status at one site (QueryImages imageSites[].status).
type ImageStatus string

const (
	ImageCreating      ImageStatus = "Creating"
	ImageAvailable     ImageStatus = "Available"
	ImageSynchronizing ImageStatus = "Synchronizing"
	ImageError         ImageStatus = "Error"
	ImageDeleting      ImageStatus = "Deleting"
	ImageUsing         ImageStatus = "Using"
	ImageDeleted       ImageStatus = "Deleted"
)

// Usable reports whether an image in this status may create or rebuild desktops (Available or Using).
func (s ImageStatus) Usable() bool { return s == ImageAvailable || s == ImageUsing }

// NetType is a network segment's ip_type.
type NetType string

const (
	NetPublic         NetType = "pubnet"
	NetSubnet         NetType = "subnet"
	NetVirtualGateway NetType = "virtual_gateway"
)
