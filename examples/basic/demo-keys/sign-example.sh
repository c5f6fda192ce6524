#!/usr/bin/env bash
# Signs every approval examples/basic needs, with the demo keys beside this
# script. Run it (from anywhere) after editing the example: an edited spec
# changes its digest, and approvals of the old digest no longer count.
#
#   make build && examples/basic/demo-keys/sign-example.sh bin/relreg
#
# It removes the approvals it finds and signs them again, deterministically
# placed in time: plan 30 days before a release's window, build 21, accept 7,
# deploy 1, but never after the example's present (24 November 2026): a
# step a release has passed was approved in the past. A DML entry is
# verified 10 days before the first window that names it. Approvers never
# approve a release they own.
set -euo pipefail
relreg=$(realpath "${1:?usage: sign-example.sh path/to/relreg}")
cd "$(dirname "$0")/.."

field() { sed -n "s/^$2: *//p" "$1" | head -n 1; }
before() { date -u -d "$1 - $2 days" +%Y-%m-%dT%H:%M:%SZ; }

# stepTime start step: days[step] before start, capped at the present.
present=2026-11-24T09:00:00Z
stepTime() {
	local t
	t=$(before "$1" "${days[$2]}")
	if [[ "$t" > "$present" ]]; then
		t=$(before "$present" "${cap[$2]}")
	fi
	echo "$t"
}

# strip removes a document's approvals and writes "approvals: []".
strip() {
	awk '/^approvals:/ { print "approvals: []"; skip = 1; next } skip && /^[^ #]/ { skip = 0 } !skip' "$1" > "$1.new"
	mv "$1.new" "$1"
}

approve() { # subject step id role at
	"$relreg" approve "$1" --step "$2" --as "$3" --role "$4" --key "demo-keys/$3" --at "$5" >/dev/null
}

# who signs for a role, given the release's owner and the signers so far.
signer() { # role owner taken
	local role=$1 owner=$2 taken=$3 c
	case $role in
	release-manager) set -- alice erin ;;
	service-owner) set -- bob erin ;;
	cab) set -- carol dave ;;
	registry-admin) set -- alice dave ;;
	esac
	for c in "$@"; do
		if [ "$c" != "$owner" ] && [[ " $taken " != *" $c "* ]]; then echo "$c"; return; fi
	done
	echo "no $role left to sign for owner $owner" >&2
	exit 1
}

# requirements step risk: the roles the policy in relreg.yaml asks for.
requirements() {
	case "$1/$2" in
	plan/low) echo release-manager ;;
	plan/medium) echo release-manager cab ;;
	plan/high) echo release-manager cab cab ;;
	build/low) ;;
	build/*) echo release-manager ;;
	accept/low) echo release-manager ;;
	accept/medium) echo release-manager service-owner ;;
	accept/high) echo release-manager service-owner cab ;;
	deploy/high) echo release-manager cab ;;
	deploy/*) echo release-manager ;;
	esac
}

steps() { # phase
	case $1 in
	draft) ;;
	planned | cancelled) echo plan ;;
	building | testing) echo plan build ;;
	accepted) echo plan build accept ;;
	*) echo plan build accept deploy ;;
	esac
}

declare -A days=([plan]=30 [build]=21 [accept]=7 [deploy]=1)
declare -A cap=([plan]=4 [build]=3 [accept]=2 [deploy]=1)
declare -A firstUse=()

for f in releases/*/*.yaml; do
	strip "$f"
	id="$(basename "$(dirname "$f")")@$(basename "$f" .yaml)"
	risk=$(field "$f" "  risk")
	owner=$(field "$f" "  owner")
	phase=$(field "$f" "  phase")
	start=$(sed -n 's/.*window: {start: \([^,]*\),.*/\1/p' "$f")
	for s in $(steps "$phase"); do
		taken=""
		for role in $(requirements "$s" "$risk"); do
			who=$(signer "$role" "$owner" "$taken")
			taken="$taken $who"
			approve "$id" "$s" "$who" "$role" "$(stepTime "$start" "$s")"
		done
	done
	for comp in $(sed -n 's/.*{name: \([^,]*\), version: \([^}]*\)}.*/\1@\2/p' "$f"); do
		if [ -z "${firstUse[$comp]:-}" ] || [[ "$start" < "${firstUse[$comp]}" ]]; then
			firstUse[$comp]=$start
		fi
	done
done

for f in dml/*/*.yaml; do
	strip "$f"
	grep -q '^  state: verified' "$f" || continue
	id="dml/$(basename "$(dirname "$f")")@$(basename "$f" .yaml)"
	comp="${id#dml/}"
	at=$(before "${firstUse[$comp]:-2026-11-20T09:00:00Z}" 10)
	[[ "$at" > "$present" ]] && at=$(before "$present" 5)
	approve "$id" verify alice release-manager "$at"
done

for f in schedules/*.yaml; do
	strip "$f"
	approve "schedule/$(basename "$f" .yaml)" schedule bob service-owner 2026-01-15T09:00:00Z
done

for subject in registry approvers; do
	f=relreg.yaml
	[ "$subject" = approvers ] && f=approvers.yaml
	strip "$f"
	approve "$subject" govern alice registry-admin 2026-01-10T09:00:00Z
	approve "$subject" govern dave registry-admin 2026-01-10T09:05:00Z
done

"$relreg" validate --now 2026-11-24T23:00:00Z
echo "signed: every approval of examples/basic verifies"
