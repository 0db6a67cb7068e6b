# fish completion for @PROG@. Install it with:
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
