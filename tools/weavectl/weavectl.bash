# SPDX-License-Identifier: GPL-2.0
# bash completion for weavectl(8). Install as
# /usr/share/bash-completion/completions/weavectl, or source it.
#
# Completes the command, its options, and for NAME operands the names of
# the registries `weavectl list -p` shows (its first, tab-separated
# column; anonymous registries have no name to complete).

# Registry names starting with $cur, quoted for the command line. list
# escapes them (\\ and \xHH); printf %b turns that back into the name.
_weavectl_names()
{
	local n
	while IFS= read -r n; do
		[ "$n" = "(anonymous)" ] && continue
		printf -v n '%b' "$n"
		[[ $n == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$n")")
	done < <(weavectl list -p 2>/dev/null | cut -f1)
}

_weavectl()
{
	local cur prev cmd i nargs=0
	local cmds="set get keys del rm lock list show monitor help"
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	if [ "$COMP_CWORD" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$cmds --help" -- "$cur")
		return
	fi
	cmd=${COMP_WORDS[1]}

	# Operands typed so far (words after the command that are not options).
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) break ;;
		-m | --mode | --size | -w | --timeout) ((i++)) ;;
		-s) [ "$cmd" = set ] && ((i++)) ;;	# lock -s: --shared
		-*) ;;
		*) ((nargs++)) ;;
		esac
	done

	case $prev in
	-m | --mode | --size | -w | --timeout)
		return ;;
	-s)
		[ "$cmd" = set ] && return ;;
	esac

	if [[ $cur == -* ]]; then
		local opts="--help"
		case $cmd in
		set) opts+=" --mode --size" ;;
		get) opts+=" --hex" ;;
		lock) opts+=" --shared --nonblock --timeout" ;;
		keys) opts+=" --json" ;;
		list | show) opts+=" --json --parsable" ;;
		monitor) opts+=" --json" ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi

	case $cmd in
	help)
		[ "$nargs" -eq 0 ] &&
			mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "$cur")
		;;
	set)
		if [ "$nargs" -eq 0 ]; then
			_weavectl_names
		elif [ "$nargs" -eq 2 ]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		;;
	get | keys | del | rm | show | monitor | lock)
		if [ "$nargs" -eq 0 ]; then
			_weavectl_names
		elif [ "$cmd" = lock ] && [ "$nargs" -ge 2 ]; then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		fi
		;;
	esac
}

complete -F _weavectl weavectl
