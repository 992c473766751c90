# ha_lb.keepalived_nginx: the two commands most people need are `make lab` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0
# $(call SAY,WHAT): a test target says what it reached and when (UTC), so a long `make test` log
# shows where its time went.
SAY = @echo "make $@: $(1) at $$(date -u +%T)"

.PHONY: help setup lab lab-up lab-down lab-status test lint sanity unit package lab-test molecule fleet-test bench-converge bench-floor bench-throughput bench-tls bench-cost bench-rolling bench-upgrade bench-soak docs changelog clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## Install OS packages and the pinned Python toolchain (.venv); idempotent
	@bash tools/setup.sh

# PAIRS=N: a fleet lab, N balancer pairs (lb-01a/lb-01b ...) sharing web-1, web-2 and the client, from
# the inventory `labctl.py fleet-inventory N` writes. Without PAIRS, the five guests of inventories/local.
FLEET_INVENTORY := build/fleet-lab/hosts.yml
ifdef PAIRS
LABCTL := HA_LB_LAB_INVENTORY=$(FLEET_INVENTORY) python lab/labctl.py
LAB_INVENTORY := $(FLEET_INVENTORY)
else
LABCTL := python lab/labctl.py
LAB_INVENTORY := inventories/local
endif

lab: setup lab-up ## Bring up the local five-machine lab and deploy playbooks/site.yml to it (HA_LB_LAB_RELEASE=trixie: Debian 13 guests; PAIRS=N: N balancer pairs instead of lb-1, lb-2)
	ansible-playbook playbooks/site.yml -i $(LAB_INVENTORY)

lab-up: setup
ifdef PAIRS
	python lab/labctl.py fleet-inventory $(PAIRS)
endif
	$(LABCTL) up

lab-down: setup ## Remove the local lab (guests, mounts, cgroups, bridge), a fleet lab too (no PAIRS needed)
	$(LABCTL) down

lab-status: ## Show the lab's guests, their memory and a total (PAIRS=N: a fleet lab's guests)
	@$(LABCTL) status

test: setup lint unit package sanity lab-test molecule fleet-test ## Run every test: lint, unit, packaging, sanity, lab lifecycle, molecule, the fleet test (3 pairs)
	$(call SAY,every gate passed)

# ansible-lint puts $$ANSIBLE_HOME/collections first on the collection path: a copy of this
# collection installed there earlier would shadow the working tree, so it gets a home of its own.
lint: setup ## yamllint and ansible-lint (profile production)
	$(call SAY,started)
	yamllint --strict .
	ANSIBLE_HOME=$(CURDIR)/.ansible ansible-lint

unit: setup ## Unit tests (pure logic, no hosts)
	$(call SAY,started)
	python -m pytest -q --tb=short -p no:cacheprovider tests/unit

package: setup ## Build the collection, install it into an empty path, run its playbooks by FQCN
	$(call SAY,started)
	python -m pytest -q --tb=short -p no:cacheprovider tests/packaging

sanity: setup ## ansible-test sanity on the collection
	$(call SAY,started)
	bash tools/sanity.sh

lab-test: setup ## The local lab's lifecycle: up, idempotent up, down leaves nothing, error messages
	$(call SAY,started)
	python -m pytest -q --tb=short -p no:cacheprovider tests/lab

molecule: setup ## molecule test on Debian 12 guests (every test, every drill), then the debian13 scenario on Debian 13 guests
	$(call SAY,started)
	molecule test
	$(call SAY,the debian13 scenario started)
	molecule test -s debian13

fleet-test: setup ## PAIRS balancer pairs (default 3) on the local lab: cold site.yml, idempotent re-run, the canary's stop, a change in waves under the probe on up to six VIPs at once, the fleet status
	$(call SAY,started)
	bash tools/fleet_test.sh $(or $(PAIRS),3)

bench-converge: setup ## Medians of 3: site.yml on five fresh guests, then its idempotent re-run (recreates the lab)
	python tools/bench.py converge

bench-floor: setup ## Medians of 3: the module calls of a re-run alone, then the real re-run (needs `make lab`)
	python tools/bench.py floor

bench-throughput: setup ## Medians of 3: wrk from the client to one backend, then through the VIP (needs `make lab`)
	python tools/bench.py throughput

bench-tls: setup ## Medians of 3: HTTP against HTTPS through the VIP, nginx CPU per request, TLS handshakes/s (needs `make lab`)
	python tools/bench.py tls

bench-rolling: setup ## Medians of 3: the probe through the VIP while site.yml rolls a config change over the running lab, and back (needs `make lab`)
	python tools/bench.py rolling --change config

bench-upgrade: setup ## Medians of 3: the probe through the VIP while site.yml upgrades nginx and keepalived on the running lab (needs `make lab`)
	python tools/bench.py rolling --change upgrade

bench-soak: setup ## The fast profile: VRRP transitions in 30 min idle, then in 30 min under wrk (needs `make lab`; redeploys it)
	python tools/bench.py soak --profile docs/examples/fast-failover-local.yml --load idle
	python tools/bench.py soak --profile docs/examples/fast-failover-local.yml --load wrk
	ansible-playbook -i inventories/local playbooks/site.yml >/dev/null

bench-cost: setup ## Medians of 3 per variant: nginx CPU per plain request with the defaults and with one setting changed (needs `make lab`)
	python tools/bench.py cost

docs: setup ## Regenerate the role and module references (docs/roles/, docs/modules/) and the runbook's fault table
	python tools/gen_role_docs.py

changelog: setup ## Regenerate CHANGELOG.md from changelogs/ (add a fragment in changelogs/fragments/ first)
	antsibull-changelog generate
	rm -f changelogs/.plugin-cache.yaml

clean: lab-down
	rm -rf build .cache
