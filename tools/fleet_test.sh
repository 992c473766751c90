#!/usr/bin/env bash
# The fleet test: PAIRS balancer pairs (default 3) on the local lab, sharing web-1, web-2 and the
# client. A cold site.yml, its re-run (nothing may change), then tests/fleet: the canary's stop,
# fleet_max_fail_percentage, a change rolled in waves under the probe on up to six VIPs, the fleet
# status. The lab is removed at the end, whatever happened. Usage: tools/fleet_test.sh [PAIRS]
set -euo pipefail
pairs=${1:-3}
cd "$(dirname "$0")/.."
logs=build/fleet-test
inventory=build/fleet-lab/hosts.yml
mkdir -p "$logs"

python lab/labctl.py down
python lab/labctl.py fleet-inventory "$pairs"
export HA_LB_LAB_INVENTORY=$inventory
trap 'python lab/labctl.py down' EXIT
python lab/labctl.py up

run_site() {  # run_site NAME: site.yml on the fleet, its output in $logs/NAME.log, its time printed
    local started ended
    started=$EPOCHREALTIME
    if ! ansible-playbook -i "$inventory" -f 50 playbooks/site.yml > "$logs/$1.log" 2>&1; then
        tail -n 60 "$logs/$1.log"
        echo "fleet-test: site.yml ($1) failed on $pairs pairs; the whole output is in $logs/$1.log" >&2
        return 1
    fi
    ended=$EPOCHREALTIME
    awk -v name="$1" -v pairs="$pairs" -v s="$started" -v e="$ended" \
        'BEGIN { printf "fleet-test: site.yml %s on %s pairs: %.1f s\n", name, pairs, e - s }'
}

run_site converge
run_site rerun
if grep -E '^\S+\s+: ok=[0-9]+\s+changed=[1-9]' "$logs/rerun.log"; then
    echo "fleet-test: the re-run of site.yml changed the hosts above (see $logs/rerun.log)" >&2
    exit 1
fi
python -m pytest -v -p no:cacheprovider --durations=10 tests/fleet
echo "fleet-test: $pairs pairs passed"
