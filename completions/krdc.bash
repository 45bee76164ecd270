# bash completion for krdc                                   -*- shell-script -*-
# Installed to share/bash-completion/completions/krdc; also printed by `krdc completion bash`.
# Plain bash: needs neither the bash-completion package nor extglob. Global options work
# before and after the command, as krdc itself accepts them.

# Options that take a value (the next word is that value, not a command or file).
_krdc_value_options=" -o --output --config --hub --ca-file -p --param --params-file -j --jobs --results --run-dir
  --kill-grace --kubeconfig --context --run --attempt --ro-crate --license --name --image --output-name --python --audience
  --spec --credentials --outputs "

# COMPREPLY += files under $1 ending in one of the suffixes $2... (none: every file), and directories.
_krdc_files() {
  local cur=$1 f suffix
  shift
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  for f in $(compgen -f -- "$cur"); do
    if [[ -d $f || $# -eq 0 ]]; then
      COMPREPLY+=("$f")
      continue
    fi
    for suffix in "$@"; do
      if [[ $f == *"$suffix" ]]; then
        COMPREPLY+=("$f")
        break
      fi
    done
  done
}

_krdc_dirs() {
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  COMPREPLY+=($(compgen -d -- "$1"))
}

# The step names a result file records (for `krdc logs RESULTS STEP`).
_krdc_steps_in() {
  [[ -r $1 ]] || return
  sed -n 's/.*"step":"\([^"]*\)".*/\1/p' "$1" 2>/dev/null | sort -u
}

_krdc() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev="" i w
  COMPREPLY=()
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  # bash splits "--opt=value" at "=": complete the value of the option before it.
  if [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then prev=${COMP_WORDS[COMP_CWORD - 2]}; fi
  if [[ $cur == "=" ]]; then cur=""; fi

  local global="-o --output --no-color --non-interactive --config --hub --ca-file -v --verbose -h --help --version"
  local commands="run attach validate report status logs export app login logout whoami token auth proxy version completion"

  # The command path so far (e.g. "app inspect") and the positional arguments after it.
  local cmd="" sub="" npos=0 first_pos=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      = | :) ((i + 1 < COMP_CWORD)) && ((i++)) ;;  # the rest of --opt=value, or of a URL
      -*) # its value is the next word; after "=" the case above skips it
        [[ $_krdc_value_options == *" $w "* && ${COMP_WORDS[i + 1]} != "=" ]] && ((i + 1 < COMP_CWORD)) && ((i++)) ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=$w
        elif [[ -z $sub && ($cmd == app || $cmd == auth) ]]; then
          sub=$w
        else
          ((npos++))
          [[ -z $first_pos ]] && first_pos=$w
        fi
        ;;
    esac
  done

  case $prev in
    -o | --output) COMPREPLY=($(compgen -W "text json yaml table markdown html" -- "$cur")); return ;;
    --config | --ca-file | --results | --kubeconfig | --spec | --outputs | --params-file | --python)
      _krdc_files "$cur"; return ;;
    --run-dir | --credentials | --ro-crate) _krdc_dirs "$cur"; return ;;
    --resume) [[ $cur != -* ]] && { _krdc_files "$cur" .jsonl; return; } ;;
    --hub | --context | --kill-grace | -p | --param | -j | --jobs | --run | --attempt | --name | --image | \
      --output-name | --audience | --license) return ;;
  esac

  local opts=""
  case "$cmd${sub:+ $sub}" in
    "")
      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$global" -- "$cur"))
      else COMPREPLY=($(compgen -W "$commands" -- "$cur")); fi
      return ;;
    run) opts="-p --param --params-file -j --jobs --results --run-dir --resume --fail-fast --dry-run --check --follow
               --kill-grace --kubeconfig --context --detach --no-inspect" ;;
    attach) opts="-j --jobs --run-dir --follow --fail-fast --kill-grace --kubeconfig --context" ;;
    validate) opts="-p --param --params-file --no-inspect" ;;
    report | status) opts="--run" ;;
    logs) opts="--attempt -f --follow --run" ;;
    export) opts="--ro-crate --license --force --run" ;;
    token) opts="--audience --exec-credential" ;;
    proxy) opts="--spec --credentials --outputs" ;;
    "app inspect") opts="--name --image --output-name --python" ;;
    app | auth)
      if [[ $cur != -* ]]; then
        [[ $cmd == app ]] && COMPREPLY=($(compgen -W "inspect" -- "$cur")) || COMPREPLY=($(compgen -W "check" -- "$cur"))
        return
      fi ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
    return
  fi
  case "$cmd${sub:+ $sub}" in
    run | "auth check") ((npos == 0)) && _krdc_files "$cur" .yaml .yml ;;
    validate) ((npos == 0)) && { _krdc_files "$cur" .yaml .yml; COMPREPLY+=($(compgen -W "-" -- "$cur")); } ;;
    attach | report | status | export) ((npos == 0)) && _krdc_files "$cur" .jsonl ;;
    logs)
      if ((npos == 0)); then _krdc_files "$cur" .jsonl
      elif ((npos == 1)); then local IFS=$'\n'; COMPREPLY=($(compgen -W "$(_krdc_steps_in "$first_pos")" -- "$cur")); fi ;;
    "app inspect") ((npos == 0)) && _krdc_files "$cur" .py ;;
    completion) ((npos == 0)) && COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
  esac
  return 0
}
complete -F _krdc krdc
