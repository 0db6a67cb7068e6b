# bash completion for @PROG@. Load it with: source <(@PROG@ completion bash)
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
