# Writes testdata/scenarios/*/scenario.yaml: one row of the planner's decision table each.
# Run once by hand when adding scenarios (python3 gen_scenarios.py); the goldens beside each
# scenario come from `go test ./engine -run TestScenarios -update`.
import json, os, textwrap

HEAD = """version: 1
fleet: test
defaults: {site: 宿迁A, profile: a5000-win}
billing:
  monthly: {cycle: month, months: 1, autoRenew: true, renewWithin: 7d}
  quarterly: {cycle: month, months: 3}
profiles:
  a5000-win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
  custom-win: {product: {gpu: NVIDIA A5000, os: windows}, image: 定制模板}
  t4-win: {product: {gpu: NVIDIA T4}, image: Windows10-公共镜像-图像处理型}
"""

S = {}
def sc(name, reason, spec, live="", state="", options="", expect=""):
    S[name] = (reason, spec, live, state, options, expect)

sc("create-one", "a desktop in the spec and not live is created with one CreateVm",
   "desktops:\n  - name: edit\n",
   expect="steps: 1\ncalls: {CreateVm: 1}")
sc("create-group-batched", "a group of three identical new desktops is one CreateVm with num=3, named as the API names them",
   "desktops:\n  - name: render\n    count: 3\n",
   expect="steps: 1\ncalls: {CreateVm: 1}")
sc("create-group-scale-up", "growing a group creates only the missing desktops in one call and renames the one CreateVm cannot name",
   "desktops:\n  - name: render\n    count: 5\n",
   live="desktops:\n  - {name: render}\n  - {name: render_001}\n  - {name: render_002}\n",
   state="desktops:\n  - {name: render}\n  - {name: render_001}\n  - {name: render_002}\n",
   expect="steps: 2\ncalls: {CreateVm: 1, ChangeVmName: 1}")
sc("create-monthly-priced", "monthly desktops are created prepaid: the cost is the quote for the term",
   "desktops:\n  - name: lead\n    count: 2\n    billing: quarterly\n",
   expect="steps: 1\ncalls: {CreateVm: 1}")
sc("create-differing-params", "desktops that differ in any creation parameter need separate CreateVm calls",
   "desktops:\n  - name: a\n    count: 2\n  - name: b\n    bandwidth: 10\n  - name: c\n    profile: t4-win\n",
   expect="steps: 3\ncalls: {CreateVm: 3}")
sc("create-network-missing", "a site without a default network gets CreateDefaultNet before its desktops are created",
   "desktops:\n  - name: xy\n    site: 襄阳A\n    count: 2\n",
   expect="steps: 2\ncalls: {CreateDefaultNet: 1, CreateVm: 1}")
sc("create-custom-vpc", "a custom VPC named in the spec is used by its id, with its gateway",
   "desktops:\n  - name: lab\n    network: {vpc: 宿迁-渲染VPC}\n",
   expect="steps: 1\ncalls: {CreateVm: 1}")
sc("create-with-everything", "a new desktop's label, binding and power off follow its creation, each after the CreateVm",
   "accounts:\n  - {email: alice@example.com, name: alice}\ndesktops:\n  - name: cad\n    label: team-a\n    power: off\nbindings:\n  cad: alice@example.com\n",
   live="accounts:\n  - {email: alice@example.com, name: alice}\n",
   expect="steps: 4\ncalls: {CreateVm: 1, UpdateVmLabels: 1, BindAccounts: 1, OperateVm: 1}")
sc("fifty-identical", "fifty identical new desktops with a label, one account and power off take the minimum: one call per operation",
   "accounts:\n  - {email: lab@example.com, name: lab}\ndesktops:\n  - name: seat\n    count: 50\n    label: class-b\n    power: off\nbindings:\n" +
   "".join("  %s: lab@example.com\n" % ("seat" if i == 0 else "seat_%03d" % i) for i in range(50)),
   expect="steps: 5\ncalls: {CreateSubAccount: 1, CreateVm: 1, UpdateVmLabels: 1, BindAccounts: 1, OperateVm: 1}")
sc("adopt-by-name", "a live desktop the state does not know, named in the spec, is adopted and left as it is",
   "desktops:\n  - name: edit\n",
   live="desktops:\n  - {name: edit}\n",
   expect="steps: 0")
sc("adopt-and-fix-label", "an adopted desktop's differing label is set in the same plan",
   "desktops:\n  - name: edit\n    label: post\n",
   live="desktops:\n  - {name: edit, label: old}\n",
   expect="steps: 1\ncalls: {UpdateVmLabels: 1}")
sc("in-sync", "a managed desktop that matches the spec needs nothing: the plan is empty",
   "desktops:\n  - name: edit\n    label: post\n    power: on\n",
   live="desktops:\n  - {name: edit, label: post}\n",
   state="desktops:\n  - {name: edit, label: post, power: 'on'}\n",
   expect="steps: 0\nempty: true")
sc("unmanaged-left-alone", "live desktops neither in the spec nor in the state are listed and never touched",
   "desktops:\n  - name: edit\n",
   live="desktops:\n  - {name: edit}\n  - {name: legacy-01}\n  - {name: legacy-02, status: error}\n",
   state="desktops:\n  - {name: edit}\n",
   expect="steps: 0\nempty: true\nunmanaged: [legacy-01, legacy-02]")
sc("delete-removed", "a managed desktop removed from the spec is deleted, behind --allow-delete",
   "desktops:\n  - name: a\n  - name: b\n  - name: c\n",
   live="desktops:\n  - {name: a}\n  - {name: b}\n  - {name: c}\n  - {name: scratch}\n",
   state="desktops:\n  - {name: a}\n  - {name: b}\n  - {name: c}\n  - {name: scratch}\n",
   expect="steps: 1\ncalls: {DeleteVm: 1}\nguards: [delete]")
sc("delete-protected-kept", "a protected desktop removed from the spec is kept, with a warning saying how to delete it",
   "desktops:\n  - name: a\n",
   live="desktops:\n  - {name: a}\n  - {name: vault}\n",
   state="desktops:\n  - {name: a}\n  - {name: vault, protect: true}\n",
   expect="steps: 0")
sc("forget-gone", "a managed desktop removed from the spec and already gone is only forgotten",
   "desktops:\n  - name: a\n",
   live="desktops:\n  - {name: a}\n",
   state="desktops:\n  - {name: a}\n  - {name: old}\n",
   expect="steps: 0")
sc("recreate-deleted-outside", "a managed desktop deleted outside deskfleet is created again, marked as changed outside",
   "desktops:\n  - name: a\n",
   state="desktops:\n  - {name: a}\n",
   expect="steps: 1\ncalls: {CreateVm: 1}")
sc("replace-product", "a product change cannot be made in place: delete then create, behind --allow-replace",
   "desktops:\n  - name: a\n    profile: t4-win\n",
   live="desktops:\n  - {name: a}\n",
   state="desktops:\n  - {name: a}\n",
   expect="steps: 2\ncalls: {DeleteVm: 1, CreateVm: 1}\nguards: [replace]")
sc("replace-bandwidth", "a bandwidth change replaces the desktop (CreateVm qos is fixed at creation)",
   "desktops:\n  - name: a\n    bandwidth: 20\n",
   live="desktops:\n  - {name: a}\n",
   state="desktops:\n  - {name: a}\n",
   expect="steps: 2\ncalls: {DeleteVm: 1, CreateVm: 1}\nguards: [replace]")
sc("replace-protected", "a protected desktop is never replaced: the change is an error for it, the rest is planned",
   "desktops:\n  - name: a\n    site: 宿迁B\n    protect: true\n  - name: b\n    label: x\n",
   live="desktops:\n  - {name: a}\n  - {name: b}\n",
   state="desktops:\n  - {name: a, protect: true}\n  - {name: b}\n",
   expect="steps: 1\ncalls: {UpdateVmLabels: 1}\nerrors: 1")
sc("rename-renamed-from", "renamedFrom renames the managed desktop in place instead of replacing it",
   "desktops:\n  - name: edit\n    renamedFrom: edit-old\n",
   live="desktops:\n  - {name: edit-old}\n",
   state="desktops:\n  - {name: edit-old}\n",
   expect="steps: 1\ncalls: {ChangeVmName: 1}")
sc("rename-outside", "a managed desktop renamed in the console gets its name back, marked as changed outside",
   "desktops:\n  - name: cad\n",
   live="desktops:\n  - {id: vm-cad, name: cad-tmp}\n",
   state="desktops:\n  - {id: vm-cad, name: cad}\n",
   expect="steps: 1\ncalls: {ChangeVmName: 1}")
sc("rebuild-running", "an image change rebuilds: stop, RebuildVm, start again (it was running), behind --allow-rebuild",
   "desktops:\n  - name: lab\n    profile: custom-win\n",
   live="desktops:\n  - {name: lab}\n",
   state="desktops:\n  - {name: lab, image: win10}\n",
   expect="steps: 3\ncalls: {OperateVm: 2, RebuildVm: 1}\nguards: [rebuild]")
sc("rebuild-stopped-stays-off", "rebuilding a stopped desktop whose power is not managed needs no power step",
   "desktops:\n  - name: lab\n    profile: custom-win\n",
   live="desktops:\n  - {name: lab, status: stop}\n",
   state="desktops:\n  - {name: lab, image: win10}\n",
   expect="steps: 1\ncalls: {RebuildVm: 1}\nguards: [rebuild]")
sc("rebuild-protected", "a protected desktop is never rebuilt: an error for it",
   "desktops:\n  - name: lab\n    profile: custom-win\n    protect: true\n",
   live="desktops:\n  - {name: lab}\n",
   state="desktops:\n  - {name: lab, image: win10, protect: true}\n",
   expect="steps: 0\nerrors: 1")
sc("label-batched", "labels are one UpdateVmLabels per label value, whatever the number of desktops",
   "desktops:\n  - name: a\n    count: 3\n    label: team-a\n  - name: b\n    label: team-b\n",
   live="desktops:\n  - {name: a, label: x}\n  - {name: a_001}\n  - {name: a_002, label: team-a}\n  - {name: b, label: team-a}\n",
   state="desktops:\n  - {name: a}\n  - {name: a_001}\n  - {name: a_002}\n  - {name: b}\n",
   expect="steps: 2\ncalls: {UpdateVmLabels: 2}")
sc("label-outside", "a label changed in the console is set back and shown under changed outside deskfleet",
   "desktops:\n  - name: cad\n    label: team-b\n",
   live="desktops:\n  - {name: cad, label: tmp}\n",
   state="desktops:\n  - {name: cad, label: team-b}\n",
   expect="steps: 1\ncalls: {UpdateVmLabels: 1}")
sc("label-empty-enforced", "label: \"\" is enforced: a live label is cleared",
   "desktops:\n  - name: cad\n    label: \"\"\n",
   live="desktops:\n  - {name: cad, label: tmp}\n",
   state="desktops:\n  - {name: cad}\n",
   expect="steps: 1\ncalls: {UpdateVmLabels: 1}")
sc("label-omitted-unmanaged", "an omitted label is not managed: a live label is left alone",
   "desktops:\n  - name: cad\n",
   live="desktops:\n  - {name: cad, label: whatever}\n",
   state="desktops:\n  - {name: cad}\n",
   expect="steps: 0\nempty: true")
sc("power-batched", "power is one OperateVm per direction for all desktops",
   "desktops:\n  - name: on\n    count: 2\n    power: on\n  - name: off\n    power: off\n",
   live="desktops:\n  - {name: on, status: stop}\n  - {name: on_001, status: stop}\n  - {name: off}\n",
   state="desktops:\n  - {name: on}\n  - {name: on_001}\n  - {name: off}\n",
   expect="steps: 2\ncalls: {OperateVm: 2}")
sc("power-busy-skipped", "a desktop in a transitional status gets no power step, with a warning to plan again",
   "desktops:\n  - name: a\n    power: off\n",
   live="desktops:\n  - {name: a, status: starting}\n",
   state="desktops:\n  - {name: a}\n",
   expect="steps: 0")
sc("bind-batched", "unbound desktops are bound with one BindAccounts per account, running or not",
   "accounts:\n  - {email: alice@example.com, name: alice}\n  - {email: bob@example.com, name: bob}\ndesktops:\n  - name: d\n    count: 3\nbindings:\n  d: alice@example.com\n  d_001: alice@example.com\n  d_002: bob@example.com\n",
   live="accounts:\n  - {email: alice@example.com, name: alice}\n  - {email: bob@example.com, name: bob}\ndesktops:\n  - {name: d}\n  - {name: d_001, status: stop}\n  - {name: d_002}\n",
   state="desktops:\n  - {name: d}\n  - {name: d_001}\n  - {name: d_002}\naccounts:\n  - {email: alice@example.com, name: alice}\n  - {email: bob@example.com, name: bob}\n",
   expect="steps: 2\ncalls: {BindAccounts: 2}")
sc("bind-new-account", "a binding to an account this plan creates waits for the account's creation",
   "accounts:\n  - {email: carol@example.com, name: carol}\ndesktops:\n  - name: d\nbindings:\n  d: carol@example.com\n",
   live="desktops:\n  - {name: d}\n",
   state="desktops:\n  - {name: d}\n",
   expect="steps: 2\ncalls: {CreateSubAccount: 1, BindAccounts: 1}")
sc("unbind-running", "unbinding needs the desktop stopped: stop, UnbindAccounts, start again since it was running",
   "accounts:\n  - {email: alice@example.com, name: alice}\ndesktops:\n  - name: d\nbindings: {}\n",
   live="accounts:\n  - {email: alice@example.com, name: alice}\ndesktops:\n  - {name: d, account: alice@example.com}\n",
   state="desktops:\n  - {name: d}\naccounts:\n  - {email: alice@example.com, name: alice}\n",
   expect="steps: 3\ncalls: {OperateVm: 2, UnbindAccounts: 1}")
sc("rebind-stopped-wanted-off", "re-binding a running desktop wanted off: stop, ChangeAccount, and it stays off",
   "accounts:\n  - {email: alice@example.com, name: alice}\n  - {email: bob@example.com, name: bob}\ndesktops:\n  - name: d\n    power: off\nbindings:\n  d: bob@example.com\n",
   live="accounts:\n  - {email: alice@example.com, name: alice}\n  - {email: bob@example.com, name: bob}\ndesktops:\n  - {name: d, account: alice@example.com}\n",
   state="desktops:\n  - {name: d}\naccounts:\n  - {email: alice@example.com, name: alice}\n  - {email: bob@example.com, name: bob}\n",
   expect="steps: 2\ncalls: {OperateVm: 1, ChangeAccount: 1}")
sc("bindings-absent-unmanaged", "without a bindings key, live bindings are not managed",
   "accounts:\n  - {email: alice@example.com, name: alice}\ndesktops:\n  - name: d\n",
   live="accounts:\n  - {email: alice@example.com, name: alice}\ndesktops:\n  - {name: d, account: alice@example.com}\n",
   state="desktops:\n  - {name: d}\naccounts:\n  - {email: alice@example.com, name: alice}\n",
   expect="steps: 0\nempty: true")
sc("billing-to-monthly", "per-minute desktops moving to monthly are converted in place with one UpdateOrder, prepaid",
   "desktops:\n  - name: d\n    count: 2\n    billing: quarterly\n",
   live="desktops:\n  - {name: d}\n  - {name: d_001}\n",
   state="desktops:\n  - {name: d}\n  - {name: d_001}\n",
   expect="steps: 1\ncalls: {UpdateOrder: 1}")
sc("billing-back-impossible", "monthly back to per-minute has no API: an error for that desktop while the rest is planned",
   "desktops:\n  - name: m\n  - name: n\n    label: keep\n",
   live="desktops:\n  - {name: m, monthly: true}\n  - {name: n}\n",
   state="desktops:\n  - {name: m}\n  - {name: n}\n",
   expect="steps: 1\ncalls: {UpdateVmLabels: 1}\nerrors: 1")
sc("renew-within", "a monthly desktop expiring within renewWithin is renewed; one expiring later is not",
   "desktops:\n  - name: m\n    count: 2\n    billing: monthly\n",
   live="desktops:\n  - {name: m, monthly: true, expiresIn: 72h}\n  - {name: m_001, monthly: true, expiresIn: 480h}\n",
   state="desktops:\n  - {name: m, autoRenew: true}\n  - {name: m_001, autoRenew: true}\n",
   expect="steps: 1\ncalls: {RenewalOrder: 1}\nwarnings: 0")
sc("auto-renew-changed", "auto-renewal changed in the spec cannot be set alone: a warning until a renewal carries it; the desktop renewed now gets it with its RenewalOrder",
   "desktops:\n  - name: m\n    count: 2\n    billing: monthly\n",
   live="desktops:\n  - {name: m, monthly: true, expiresIn: 72h}\n  - {name: m_001, monthly: true, expiresIn: 480h}\n",
   state="desktops:\n  - {name: m, autoRenew: false}\n  - {name: m_001, autoRenew: false}\n",
   expect="steps: 1\ncalls: {RenewalOrder: 1}\nwarnings: 1")
sc("accounts-batch-create", "several new sub-accounts are created with one CreateSubAccounts",
   "accounts:\n  - {email: a@example.com, name: a, remark: 设计部}\n  - {email: b@example.com, name: b}\n  - {email: c@example.com, name: c}\n",
   expect="steps: 1\ncalls: {CreateSubAccounts: 1}")
sc("account-rename-remark", "a sub-account's name and remark are changed in place; one remark value is one call",
   "accounts:\n  - {email: a@example.com, name: anna, remark: 设计部}\n  - {email: b@example.com, name: b, remark: 设计部}\n  - {email: c@example.com, name: c}\n",
   live="accounts:\n  - {email: a@example.com, name: a}\n  - {email: b@example.com, name: b, remark: old}\n  - {email: c@example.com, name: c, remark: untouched}\n",
   state="accounts:\n  - {email: a@example.com, name: a}\n  - {email: b@example.com, name: b}\n  - {email: c@example.com, name: c}\n",
   expect="steps: 2\ncalls: {ChangeSubAccountName: 1, ChangeSubAccountRemark: 1}")
sc("account-forgotten", "a sub-account removed from the spec is forgotten with a warning: there is no delete API",
   "accounts:\n  - {email: a@example.com, name: a}\n",
   live="accounts:\n  - {email: a@example.com, name: a}\n  - {email: gone@example.com, name: gone}\n",
   state="accounts:\n  - {email: a@example.com, name: a}\n  - {email: gone@example.com, name: gone}\n",
   expect="steps: 0")
sc("ambiguous-name", "a spec name matching two live desktops is an error naming both ids; nothing is done to them",
   "desktops:\n  - name: twin\n  - name: other\n",
   live="desktops:\n  - {id: vm-twin-1, name: twin}\n  - {id: vm-twin-2, name: twin}\n",
   expect="steps: 1\ncalls: {CreateVm: 1}\nerrors: 1")
sc("mass-delete-guard", "deleting more than 30% of the managed desktops needs --force as well as --allow-delete",
   "desktops:\n  - name: keep\n",
   live="desktops:\n  - {name: keep}\n  - {name: x1}\n  - {name: x2}\n",
   state="desktops:\n  - {name: keep}\n  - {name: x1}\n  - {name: x2}\n",
   expect="steps: 2\ncalls: {DeleteVm: 2}\nguards: [delete, delete, mass-delete]")
sc("empty-spec-guard", "an empty spec over a non-empty state would delete everything: it needs --force",
   "",
   live="desktops:\n  - {name: x1}\n  - {name: x2}\n",
   state="desktops:\n  - {name: x1}\n  - {name: x2}\n",
   expect="steps: 2\ncalls: {DeleteVm: 2}\nguards: [delete, delete, empty-spec, mass-delete]")
sc("target-filter", "--target limits the plan to the matching desktops; the others are neither changed nor deleted",
   "desktops:\n  - name: lab\n    count: 2\n    label: new\n  - name: edit\n    label: new\n",
   live="desktops:\n  - {name: lab}\n  - {name: lab_001}\n  - {name: edit}\n  - {name: scratch}\n",
   state="desktops:\n  - {name: lab}\n  - {name: lab_001}\n  - {name: edit}\n  - {name: scratch}\n",
   options="targets: ['lab*']",
   expect="steps: 1\ncalls: {UpdateVmLabels: 1}")
sc("failed-status-warned", "a desktop in an error status is warned about; its wanted changes are still planned",
   "desktops:\n  - name: a\n    label: x\n",
   live="desktops:\n  - {name: a, status: error}\n",
   state="desktops:\n  - {name: a}\n",
   expect="steps: 1\ncalls: {UpdateVmLabels: 1}")

here = os.path.dirname(os.path.abspath(__file__))
for name, (reason, spec, live, state, options, expect) in S.items():
    d = os.path.join(here, "scenarios", name)
    os.makedirs(d, exist_ok=True)
    ind = lambda s: textwrap.indent(s, "  ") if s else ""
    out = "reason: " + json.dumps(reason, ensure_ascii=False) + "\nspec: |\n" + ind(HEAD + spec)
    if live: out += "live:\n" + ind(live)
    if state: out += "state:\n" + ind(state)
    if options: out += "options:\n" + ind(options + "\n")
    if expect: out += "expect:\n" + ind(expect + "\n")
    open(os.path.join(d, "scenario.yaml"), "w").write(out)
print(len(S), "scenarios")
