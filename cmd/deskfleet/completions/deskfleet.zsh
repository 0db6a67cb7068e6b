#compdef @PROG@
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
