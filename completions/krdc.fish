# fish completion for krdc; also printed by `krdc completion fish`.
# Global options are offered before the command and after it, as krdc accepts them.

# The words typed so far that are not options or option values, one per line: the command
# path, then its positional arguments. The one place that knows which options take a value.
function __krdc_words
    set -l takes_value -o --output --config --hub --ca-file -p --param --params-file -j --jobs --results --run-dir \
        --kill-grace --kubeconfig --context --run --attempt --ro-crate --license --name --image --output-name \
        --python --audience --spec --credentials --outputs
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $w
            if not string match -q -- '*=*' $w; and contains -- $w $takes_value
                set skip 1
            end
            continue
        end
        echo $w
    end
end

# The command path typed so far ("", "run", "app inspect").
function __krdc_command
    set -l words (__krdc_words)
    set -l path $words[1]
    if contains -- "$path" app auth; and test (count $words) -ge 2
        set -a path $words[2]
    end
    echo (string join ' ' -- $path)
end

function __krdc_is
    test (__krdc_command) = "$argv"
end

# How many positional arguments follow the command path.
function __krdc_positionals
    set -l depth (count (string split ' ' -- (__krdc_command)))
    math (count (__krdc_words)) - $depth
end

function __krdc_positional_is
    set -l cmd $argv[1]
    set -l index $argv[2]
    __krdc_is $cmd; and test (__krdc_positionals) -eq $index
end

# The step names of the result file given to `krdc logs`.
function __krdc_logged_steps
    set -l words (commandline -opc)
    for w in $words[3..-1]
        if string match -q -- '*.jsonl' $w; and test -r $w
            sed -n 's/.*"step":"\([^"]*\)".*/\1/p' $w | sort -u
            return
        end
    end
end

# Files under the token being completed that end in one of $argv (.yaml ...), and directories.
function __krdc_files
    set -l cur (commandline -ct)
    for f in $cur*
        if test -d $f
            echo $f/
            continue
        end
        for suffix in $argv
            if string match -q -- "*$suffix" $f
                echo $f
                break
            end
        end
    end
end

complete -c krdc -f

# Commands
complete -c krdc -n '__krdc_is ""' -a run -d 'Run a workflow'
complete -c krdc -n '__krdc_is ""' -a attach -d 'Follow a detached or interrupted run'
complete -c krdc -n '__krdc_is ""' -a validate -d 'Check a workflow without running anything'
complete -c krdc -n '__krdc_is ""' -a report -d 'Show a result file for people'
complete -c krdc -n '__krdc_is ""' -a status -d 'Show where a run stands'
complete -c krdc -n '__krdc_is ""' -a logs -d 'Show the log of a step'
complete -c krdc -n '__krdc_is ""' -a export -d 'Export a run (RO-Crate)'
complete -c krdc -n '__krdc_is ""' -a app -d 'Work with app descriptors'
complete -c krdc -n '__krdc_is ""' -a login -d 'Sign in at the hub'
complete -c krdc -n '__krdc_is ""' -a logout -d 'Revoke and forget the session'
complete -c krdc -n '__krdc_is ""' -a whoami -d 'Show the signed-in identity'
complete -c krdc -n '__krdc_is ""' -a token -d 'Print an access token for scripts'
complete -c krdc -n '__krdc_is ""' -a auth -d 'Identity checks'
complete -c krdc -n '__krdc_is ""' -a proxy -d 'Run one step on a remote cluster (proxy Job)'
complete -c krdc -n '__krdc_is ""' -a version -d 'Print the version'
complete -c krdc -n '__krdc_is ""' -a completion -d 'Print a shell completion script'
complete -c krdc -n '__krdc_is app' -a inspect -d 'Derive an app descriptor from argparse'
complete -c krdc -n '__krdc_is auth' -a check -d 'Check that you may run every step'

# Global options: anywhere
complete -c krdc -s o -l output -x -a 'text json yaml table markdown html' -d 'Output format'
complete -c krdc -l no-color -d 'No colors'
complete -c krdc -l non-interactive -d 'Never prompt or start a device login'
complete -c krdc -l config -r -F -d 'Config file'
complete -c krdc -l hub -x -d 'Hub issuer URL'
complete -c krdc -l ca-file -r -F -d 'Extra CA bundle (PEM)'
complete -c krdc -s v -l verbose -d 'More detail on stderr (repeatable)'
complete -c krdc -s h -l help -d 'Show help'
complete -c krdc -n '__krdc_is ""' -l version -d 'Print the version'

# Positional arguments
complete -c krdc -n '__krdc_positional_is run 0' -a '(__krdc_files .yaml .yml)'
complete -c krdc -n '__krdc_positional_is validate 0' -a '- (__krdc_files .yaml .yml)'
complete -c krdc -n '__krdc_positional_is "auth check" 0' -a '(__krdc_files .yaml .yml)'
complete -c krdc -n '__krdc_positional_is attach 0' -a '(__krdc_files .jsonl)'
complete -c krdc -n '__krdc_positional_is report 0' -a '(__krdc_files .jsonl)'
complete -c krdc -n '__krdc_positional_is status 0' -a '(__krdc_files .jsonl)'
complete -c krdc -n '__krdc_positional_is logs 0' -a '(__krdc_files .jsonl)'
complete -c krdc -n '__krdc_positional_is logs 1' -a '(__krdc_logged_steps)' -d 'Step'
complete -c krdc -n '__krdc_positional_is export 0' -a '(__krdc_files .jsonl)'
complete -c krdc -n '__krdc_positional_is "app inspect" 0' -a '(__krdc_files .py)'
complete -c krdc -n '__krdc_positional_is completion 0' -a 'bash zsh fish'

# run
complete -c krdc -n '__krdc_is run; or __krdc_is validate' -s p -l param -x -d 'Workflow param KEY=VALUE'
complete -c krdc -n '__krdc_is run; or __krdc_is validate' -l params-file -r -F -d 'Workflow params from a file'
complete -c krdc -n '__krdc_is run; or __krdc_is validate' -l no-inspect -d 'Do not ask apps for their argparse interface'
complete -c krdc -n '__krdc_is run; or __krdc_is attach' -s j -l jobs -x -d 'Steps to run at once'
complete -c krdc -n '__krdc_is run' -l results -r -F -d 'Result file to append to'
complete -c krdc -n '__krdc_is run; or __krdc_is attach' -l run-dir -x -a '(__fish_complete_directories)' -d 'Where step logs and outputs go'
complete -c krdc -n '__krdc_is run' -l resume -a '(__krdc_files .jsonl)' -d 'Skip what succeeded in this result file'
complete -c krdc -n '__krdc_is run; or __krdc_is attach' -l fail-fast -d 'Stop at the first failed step'
complete -c krdc -n '__krdc_is run' -l dry-run -d 'Print what would run and exit'
complete -c krdc -n '__krdc_is run' -l check -d 'Only check the workflow and authorisation'
complete -c krdc -n '__krdc_is run; or __krdc_is attach; or __krdc_is logs' -l follow -d 'Stream logs to the terminal'
complete -c krdc -n '__krdc_is run; or __krdc_is attach' -l kill-grace -x -d 'Time between SIGTERM and SIGKILL'
complete -c krdc -n '__krdc_is run; or __krdc_is attach' -l kubeconfig -r -F -d 'Kubeconfig for the local cluster'
complete -c krdc -n '__krdc_is run; or __krdc_is attach' -l context -x -d 'Kubeconfig context'
complete -c krdc -n '__krdc_is run' -l detach -d 'Start cluster Jobs and exit'

# report, logs, export
complete -c krdc -n '__krdc_is report; or __krdc_is status; or __krdc_is logs; or __krdc_is export' -l run -x -d 'Run id to show'
complete -c krdc -n '__krdc_is logs' -l attempt -x -d 'Which attempt'
complete -c krdc -n '__krdc_is logs' -s f -d 'Keep printing as the log grows'
complete -c krdc -n '__krdc_is export' -l ro-crate -x -a '(__fish_complete_directories)' -d 'Write an RO-Crate here'
complete -c krdc -n '__krdc_is export' -l license -x -d 'License of the crate (URL or text)'
complete -c krdc -n '__krdc_is export' -l force -d 'Overwrite the crate files in a non-empty dir'

# app inspect
complete -c krdc -n '__krdc_is "app inspect"' -l name -x -d 'App name'
complete -c krdc -n '__krdc_is "app inspect"' -l image -x -d 'Container image for clusters'
complete -c krdc -n '__krdc_is "app inspect"' -l output-name -x -d 'An output the app writes'
complete -c krdc -n '__krdc_is "app inspect"' -l python -r -F -d 'Python interpreter'

# token, proxy
complete -c krdc -n '__krdc_is token' -l audience -x -d 'Cluster name or hub client id'
complete -c krdc -n '__krdc_is token' -l exec-credential -d 'Print a kubectl ExecCredential'
complete -c krdc -n '__krdc_is proxy' -l spec -r -F -d 'Step spec (JSON), - for stdin'
complete -c krdc -n '__krdc_is proxy' -l credentials -x -a '(__fish_complete_directories)' -d 'Remote credentials directory'
complete -c krdc -n '__krdc_is proxy' -l outputs -r -F -d 'Where the outputs go'
