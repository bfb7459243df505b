# bash completion for agora(1): the subcommands, their options, and file names or
# fixed values after the options that take them. Installed as
# share/bash-completion/completions/agora (loaded on demand by bash-completion), or
# source it from ~/.bashrc.

# The long options of each subcommand (agora <cmd> --help lists the same).
_agora_options() {
    case $1 in
    serve) echo --config --node-id --listen --http --status-interval --codec \
        --verbose --quiet --help ;;
    watch) echo --config --format --count --timeout --events-only --join --node-id \
        --listen --codec --verbose --quiet --help ;;
    publish) echo --config --node-id --listen --wait-members --flush-timeout --codec \
        --verbose --quiet --help ;;
    members) echo --from --json --token-file --timeout --config --settle --node-id --listen \
        --codec --verbose --quiet --help ;;
    status) echo --from --json --token-file --timeout --help ;;
    top) echo --from --json --interval --count --token-file --timeout --help ;;
    encode) echo --codec --node-id --out-prefix --incarnation --first-seq --secret --help ;;
    decode) echo --codec --secret --help ;;
    config) echo --node-id --help ;;
    bench) echo --config --nodes --events --duration --rate --mix --publishers --batch \
        --window --delivery --codec --warmup --drain --json --quiet --verbose --help ;;
    esac
}

_agora_files() { # $1: current word; $2: a glob the names must match (directories always)
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    if [ -n "${2:-}" ]; then
        COMPREPLY=($(compgen -f -X "!$2" -- "$1") $(compgen -d -- "$1"))
    else
        COMPREPLY=($(compgen -f -- "$1"))
    fi
}

_agora() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local cmd="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    COMPREPLY=()

    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "serve watch publish members status top encode decode
                config bench version help" -- "$cur"))
        fi
        return 0
    fi

    # The value of the option before the cursor.
    case $prev in
    --config) _agora_files "$cur" '*.json'; return 0 ;;
    --token-file | --out-prefix) _agora_files "$cur"; return 0 ;;
    --codec)
        if [ "$cmd" = encode ] || [ "$cmd" = decode ]; then
            COMPREPLY=($(compgen -W "stalwart agora" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "agora stalwart" -- "$cur"))
        fi
        return 0 ;;
    --format) COMPREPLY=($(compgen -W "json table" -- "$cur")); return 0 ;;
    --delivery) COMPREPLY=($(compgen -W "io fd" -- "$cur")); return 0 ;;
    --mix) COMPREPLY=($(compgen -W "state mixed email cache blockip calendar" -- "$cur")); return 0 ;;
    --node-id | --listen | --http | --from | --status-interval | --count | --timeout | \
    --wait-members | --flush-timeout | --settle | --interval | --incarnation | \
    --first-seq | --secret | --nodes | --events | --duration | --rate | --publishers | \
    --batch | --window | --warmup | --drain)
        return 0 ;; # a value of the user's own
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_agora_options "$cmd")" -- "$cur"))
        return 0
    fi
    case $cmd in
    config)
        local sub="" j
        for ((j = i + 1; j < COMP_CWORD; j++)); do
            case ${COMP_WORDS[j]} in
            -*) ;;
            *) sub=${COMP_WORDS[j]}; break ;;
            esac
        done
        if [ -z "$sub" ]; then
            COMPREPLY=($(compgen -W "check" -- "$cur"))
        else
            _agora_files "$cur" '*.json'
        fi ;;
    encode | decode) _agora_files "$cur" ;;
    esac
    return 0
}
complete -F _agora agora
