package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts ask the binary itself for the candidates (`deskfleet <words> [cur]
// --generate-bash-completion`, urfave/cli's completion protocol), so they never go stale. @PROG@ stands
// for the program's name. Common to the three:
//   - the word after a flag (-f PATH, --state FILE, --out FILE) completes as a path, not as flags;
//   - the "help"/"h" subcommands urfave/cli adds are left out, so a command with no subcommands (apply
//     PLANFILE) falls back to path completion;
//   - zsh and fish show each subcommand's usage line beside it (urfave/cli prints "name:usage" when the
//     environment variable "0" ends in "zsh").
const (
	bashCompletion = `# bash completion for @PROG@. Load it with: source <(@PROG@ completion bash)
_@PROG@_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local -a words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  COMPREPLY=()
  # A flag's value (-f PATH, --state FILE): leave it to bash's file completion.
  [[ $cur != -* && $prev == -* ]] && return 0
  [[ $cur == -* ]] && words+=("$cur")
  words[0]=${words[0]/#\~/$HOME}
  local opts
  opts=$("${words[@]}" --generate-bash-completion 2>/dev/null | grep -vxE 'help|h')
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  return 0
}
complete -o bashdefault -o default -F _@PROG@_complete @PROG@
`

	zshCompletion = `#compdef @PROG@
# zsh completion for @PROG@. Install it as _@PROG@ in a folder of $fpath, or: source <(@PROG@ completion zsh)
_@PROG@() {
  local cur=${words[CURRENT]}
  local -a args opts
  args=("${(@Q)words[1,CURRENT-1]}")
  # A flag's value (-f PATH, --state FILE): a path.
  if [[ $cur != -* && ${words[CURRENT-1]} == -* ]]; then
    _files
    return
  fi
  [[ $cur == -* ]] && args+=("$cur")
  args[1]=${args[1]/#\~/$HOME}
  opts=("${(@f)$(env 0=zsh "${args[@]}" --generate-bash-completion 2>/dev/null)}")
  opts=(${opts:#(help|h)(|:*)})
  if (( ${#opts} )); then
    _describe '@PROG@' opts
  else
    _files
  fi
}
if [[ $funcstack[1] == _@PROG@ ]]; then
  _@PROG@ "$@"
else
  compdef _@PROG@ @PROG@
fi
`

	fishCompletion = `# fish completion for @PROG@. Install it with:
#   @PROG@ completion fish > ~/.config/fish/completions/@PROG@.fish
function __@PROG@_complete
    set -l args (commandline -opc)
    set -l cur (commandline -ct)
    if string match -q -- '-*' $cur
        set -a args $cur
    else if string match -q -- '-*' $args[-1]
        # A flag's value (-f PATH, --state FILE): a path.
        __fish_complete_path $cur
        return
    end
    set args[1] (string replace -r '^~' $HOME -- $args[1])
    set -l opts (env 0=zsh $args --generate-bash-completion 2>/dev/null | string match -v -r '^(help|h)(:|$)' | string replace ':' \t)
    if set -q opts[1]
        printf '%s\n' $opts
    else
        __fish_complete_path $cur
    end
end
complete -c @PROG@ -f -a '(__@PROG@_complete)'
`
)

// completionShells are the shells `completion` writes a script for, in the order help lists them.
var completionShells = []string{"bash", "zsh", "fish"}

// completionScript returns the completion script of shell for the program prog.
func completionScript(shell, prog string) (string, error) {
	var script string
	switch shell {
	case "bash":
		script = bashCompletion
	case "zsh":
		script = zshCompletion
	case "fish":
		script = fishCompletion
	case "":
		return "", withHint(errors.New("name the shell to complete for"),
			"deskfleet completion bash, zsh or fish; see `deskfleet completion --help` for how to install it")
	default:
		return "", withHint(fmt.Errorf("no completion for shell %q", shell),
			"deskfleet completion writes bash, zsh or fish; see `deskfleet completion --help` for how to install it")
	}
	return strings.ReplaceAll(script, "@PROG@", prog), nil
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish) for commands and flags",
		UsageText: "deskfleet completion bash|zsh|fish",
		Description: "Prints a script that makes the shell complete deskfleet's commands, subcommands and flags when\n" +
			"you press Tab (the word after a flag such as -f completes as a path). The script asks the deskfleet\n" +
			"binary itself for the candidates, so it stays right when deskfleet is upgraded.\n\n" +
			"Examples:\n" +
			"   source <(deskfleet completion bash)    # bash: this shell; add the line to ~/.bashrc to keep it\n" +
			"   mkdir -p ~/.zfunc && deskfleet completion zsh > ~/.zfunc/_deskfleet\n" +
			"                                          # zsh: then fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc\n" +
			"   source <(deskfleet completion zsh)     # zsh: this shell only (after compinit)\n" +
			"   deskfleet completion fish > ~/.config/fish/completions/deskfleet.fish   # fish: loaded on demand",
		BashComplete: func(c *cli.Context) {
			if c.NArg() == 0 {
				fmt.Fprintln(c.App.Writer, strings.Join(completionShells, "\n"))
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return withHint(fmt.Errorf("one shell, not %d: %s", c.NArg(), strings.Join(c.Args().Slice(), " ")),
					"deskfleet completion bash, zsh or fish")
			}
			script, err := completionScript(c.Args().First(), c.App.Name)
			if err != nil {
				return err
			}
			_, err = io.WriteString(c.App.Writer, script)
			return err
		},
	}
}
