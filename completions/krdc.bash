# bash completion for krdc                                   -*- shell-script -*-
# Installed to share/bash-completion/completions/krdc; also printed by `krdc completion bash`.
_krdc() {
  local cur prev words cword
  _init_completion 2>/dev/null || { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
  local commands="run attach validate report app login logout whoami token auth proxy version completion help"
  local global="-o --output --no-color --non-interactive --config --hub --ca-file -v --verbose -h --help"
  local cmd="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in -*) ;; *) cmd="${words[i]}"; break ;; esac
  done
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "text json yaml" -- "$cur")); return ;;
    --results|--params-file|--resume|--config|--ca-file|--run-dir|--spec|--credentials|--outputs) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "$cmd" in
    "") COMPREPLY=($(compgen -W "$commands $global" -- "$cur")) ;;
    run) if [[ "$cur" == -* ]]; then
           COMPREPLY=($(compgen -W "-p --param --params-file -j --jobs --results --run-dir --resume --fail-fast --dry-run --check --follow --kill-grace --detach $global" -- "$cur"))
         else COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- "$cur") $(compgen -d -- "$cur")); fi ;;
    validate) if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "-p --param --params-file $global" -- "$cur"))
              else COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- "$cur") $(compgen -d -- "$cur")); fi ;;
    attach) if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "-j --jobs --run-dir --follow --fail-fast --kill-grace $global" -- "$cur"))
            else COMPREPLY=($(compgen -f -X '!*.jsonl' -- "$cur") $(compgen -d -- "$cur")); fi ;;
    report) if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "--run $global" -- "$cur"))
            else COMPREPLY=($(compgen -f -X '!*.jsonl' -- "$cur") $(compgen -d -- "$cur")); fi ;;
    app) COMPREPLY=($(compgen -W "inspect" -- "$cur")) ;;
    auth) COMPREPLY=($(compgen -W "check" -- "$cur")) ;;
    token) COMPREPLY=($(compgen -W "--audience $global" -- "$cur")) ;;
    proxy) COMPREPLY=($(compgen -W "--spec --credentials --outputs $global" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
  esac
}
complete -F _krdc krdc
