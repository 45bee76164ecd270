#!/usr/bin/env zsh
# zsh_complete.zsh COMPLETIONS_DIR 'krdc ru' → the matches zsh's real completion system offers
# for that command line, one per line. An interactive `zsh -f` in a pseudo-terminal loads
# compinit with COMPLETIONS_DIR first in $fpath; the line is typed followed by TAB. Only
# compadd is wrapped, to print each match instead of inserting it: _arguments, _describe and
# _files run as they do for users. (The approach of zsh-capture-completion, reduced.)
emulate -L zsh
zmodload zsh/zpty || exit 2
local dir=$1 typed=$2
local setup=$(mktemp) || exit 2
trap 'rm -f $setup' EXIT
cat >$setup <<SETUP
PROMPT=
fpath=($dir \$fpath)
autoload -Uz compinit
compinit -u -D
bindkey '^M' undefined
bindkey '^J' undefined
bindkey '^I' complete-word
null-line() { print -rn -- \$'\\0\\n' }
compprefuncs=(null-line)
comppostfuncs=(null-line exit)
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then
    builtin compadd "\$@"
    return
  fi
  local -a __hits
  builtin compadd -A __hits "\$@"
  local hit
  for hit in \$__hits; do print -r -- "MATCH:\$hit"; done
  builtin compadd "\$@"  # really add them: _files and _tags stop at the first tag that matched
}
print ready
SETUP
zpty krdc_complete zsh -f -i || exit 2
zpty -w krdc_complete "source $setup"
local line
integer tries=0
until [[ $line == ready* ]]; do
  zpty -r krdc_complete line || exit 2
  (( ++tries > 50 )) && { print -u2 "zsh did not start"; exit 2 }
done
zpty -w -n krdc_complete "$typed"$'\t'
# Everything the shell prints until it exits (comppostfuncs); the matches are tagged.
local out
while zpty -r krdc_complete line; do out+=$line; done
print -r -- ${(F)${(M)${(f)out}:#*MATCH:*}} | sed 's/.*MATCH://; s/\r$//'
zpty -d krdc_complete
