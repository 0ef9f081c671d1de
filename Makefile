# poolscale: plain GNU Make. One binary; each variant builds in its own
# directory (build/, build-asan/, build-clang/), so they never mix objects.
#   make                 build/poolscale (gcc, -O2), build/tools/ (test drivers)
#   make test            everything CI runs (see scripts/test)
#   make demo            the whole system on this machine (poolscale demo)
#   make SAN=1 BUILD=build-asan    an ASan+UBSan build
#   make CC=clang BUILD=build-clang
#   make compile_commands.json     for clang-tidy and clangd
#   make install [PREFIX=/usr/local] [DESTDIR=]   and make uninstall
#   make deb             a Debian package in build/deb/ (scripts/deb)

SHELL := /bin/bash
VERSION := 0.1.0
BUILD ?= build
CC ?= cc
SAN ?=
PYTHON := /usr/bin/python3

PKGS := yaml-0.1 jansson libcurl libcrypto
CFLAGS_PKG := $(if $(PKGS),$(shell pkg-config --cflags $(PKGS)))
LIBS_PKG := $(if $(PKGS),$(shell pkg-config --libs $(PKGS)))

WARN := -Wall -Wextra -Werror -Wshadow -Wvla -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -DPOOLSCALE_VERSION='"$(VERSION)"' -Isrc $(WARN) -pthread -g
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
OPT := -O1 -fno-omit-frame-pointer $(SANFLAGS)
else
SANFLAGS :=
OPT := -O2
endif
ALL_CFLAGS := $(BASE_CFLAGS) $(OPT) $(CFLAGS_PKG) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS := -pthread $(SANFLAGS) $(LDFLAGS)
LDLIBS := $(LIBS_PKG) -lm

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Test drivers the system tests run (found next to the binary, in tools/).
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 10

.PHONY: all deps test test-stress unit system fuzz demo bench clean check-config \
	install uninstall deb
all: $(BUILD)/poolscale $(TOOL_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libpoolscale.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/poolscale: $(BUILD)/src/main.o $(BUILD)/libpoolscale.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpoolscale.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libpoolscale.a \
		$$(pkg-config --cflags --libs cmocka) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libpoolscale.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libpoolscale.a $(LDLIBS)

deps:
	scripts/deps

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

system: $(BUILD)/poolscale $(TOOL_BIN)
	POOLSCALE_BIN=$(abspath $(BUILD)/poolscale) $(PYTHON) -m pytest -q -rs --durations=15 $(PYTEST_FLAGS) tests/system

# libFuzzer targets: the library is compiled once with coverage and the
# sanitizers (fuzzer-no-link) and each target links it; compiling it again
# for each of the twelve targets cost CI two minutes.
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	$(CFLAGS_PKG)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
build-fuzz/libpoolscale.a: $(LIB_SRC:%.c=build-fuzz/obj/%.o)
	rm -f $@
	ar rcs $@ $^
build-fuzz/%: tests/fuzz/%.c build-fuzz/libpoolscale.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< build-fuzz/libpoolscale.a $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do \
		name=$$(basename $$f); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
		work=$$(mktemp -d); \
		echo "== $$f for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 \
			$$work $$corpus 2>&1 | tail -n 12; \
		status=$${PIPESTATUS[0]}; rm -rf $$work; \
		[ $$status -eq 0 ] || { echo "fuzz: $$f failed"; exit 1; }; \
	done

test:
	scripts/deps
	scripts/test

# The whole suite three times in a row with both CPUs loaded (RUNS=N).
test-stress:
	scripts/deps
	scripts/test-stress

# make demo DEMO_FLAGS="--policy step"   (see build/poolscale demo --help)
DEMO_FLAGS ?=
demo:
	scripts/deps
	$(MAKE) all
	$(BUILD)/poolscale demo $(DEMO_FLAGS)

bench:
	scripts/deps
	$(MAKE) all
	bench/app.sh
	bench/controller.sh
	bench/lb.sh
	bench/lb_syscalls.sh
	bench/load.sh
	bench/elasticity.sh
	bench/demo.sh

compile_commands.json: $(LIB_SRC) src/main.c $(UNIT_SRC) $(TOOL_SRC) $(FUZZ_SRC)
	scripts/compdb $(CC) "$(BASE_CFLAGS) $(OPT) $(CFLAGS_PKG)" $^ > $@

# --- install ----------------------------------------------------------------
# GNU layout. `poolscale demo` finds its deploy/ at BINDIR/../share/poolscale/
# deploy, so DATADIR must stay PREFIX/share. The units in it name BINDIR's
# binary and SYSCONFDIR's configs. Configs go to SYSCONFDIR/poolscale (the package: /etc) and are never
# overwritten; uninstall removes them only when unchanged. Man pages and the
# bash completion are installed when the tree has them.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= $(PREFIX)/etc
DATADIR := $(PREFIX)/share/poolscale
# uninstall removes it whole, so it is never a folder other packages share
DOCDIR := $(PREFIX)/share/doc/poolscale
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
MAN_PAGES := $(wildcard man/*.1 man/*.5)
BASHCOMP := $(wildcard contrib/bash-completion/poolscale)
DEPLOY_FILES := $(shell find deploy/prometheus deploy/alertmanager deploy/grafana deploy/systemd -type f | sort)
CONF_FILES := deploy/etc/controller.yml deploy/etc/sd.yml
EXAMPLES := $(wildcard examples/*.yaml)

install: $(BUILD)/poolscale $(TOOL_BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(BUILD)/poolscale $(DESTDIR)$(BINDIR)/poolscale
	@set -e; for f in $(MAN_PAGES); do \
		sec=$${f##*.}; \
		echo "$(INSTALL) -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$sec/"; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$sec; \
		$(INSTALL) -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$sec/; \
	done
	$(if $(BASHCOMP),$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR))
	$(if $(BASHCOMP),$(INSTALL) -m 0644 $(BASHCOMP) $(DESTDIR)$(BASHCOMPDIR)/poolscale)
	@set -e; for f in $(DEPLOY_FILES); do \
		dst=$(DESTDIR)$(DATADIR)/$$f; \
		$(INSTALL) -d $$(dirname $$dst); \
		sed -e 's|/usr/local/bin/poolscale|$(BINDIR)/poolscale|g' \
		    -e 's|/etc/poolscale/|$(SYSCONFDIR)/poolscale/|g' $$f > $$dst.tmp; \
		chmod 0644 $$dst.tmp; mv -f $$dst.tmp $$dst; \
	done; echo "installed deploy/ files in $(DESTDIR)$(DATADIR)/deploy"
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/poolscale
	@set -e; for f in $(CONF_FILES); do \
		dst=$(DESTDIR)$(SYSCONFDIR)/poolscale/$$(basename $$f); \
		if [ -e $$dst ]; then echo "$$dst exists: kept"; \
		else echo "$(INSTALL) -m 0644 $$f $$dst"; $(INSTALL) -m 0644 $$f $$dst; fi; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/poolscale
	$(if $(MAN_PAGES),rm -f $(foreach f,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(f)))/$(notdir $(f))))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/poolscale
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	@set -e; for f in $(CONF_FILES); do \
		dst=$(DESTDIR)$(SYSCONFDIR)/poolscale/$$(basename $$f); \
		if cmp -s $$f $$dst; then rm -f $$dst; \
		elif [ -e $$dst ]; then echo "$$dst: changed since install, kept"; fi; \
	done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/poolscale 2>/dev/null

# A .deb of this tree, built from a copy so the checkout stays clean; the
# package and the build log land in build/deb/.
deb:
	scripts/deb

clean:
	rm -rf build build-asan build-clang build-fuzz compile_commands.json

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(UNIT_BIN:=.d) $(TOOL_BIN:=.d) \
	$(LIB_SRC:%.c=build-fuzz/obj/%.d) $(FUZZ_BIN:=.d)
