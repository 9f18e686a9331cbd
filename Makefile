# mapguard: gomap (src/), the preloaded detector (shim/), the CLI (cli/),
# tests (tests/), demos (demo/).
#
#   make demo        build everything and run the pitfall demos
#   make test        build and run the test suite
#   make test-asan   gomap's and the hb engine's tests, and the mapguard
#                    command under the CLI tests, built with
#                    -fsanitize=address,undefined (not the shim: see there)
#   make test-tsan   the concurrent-reader guarantee under ThreadSanitizer
#   make bench       benchmarks (gomap, shard, the shim's overhead, GLib tools); writes
#                    docs/performance.md sections
#   make install PREFIX=/usr/local
#
# Sanitizer builds go to their own build directory (BUILD=...), so they
# never mix objects with the normal build.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O2 -g
SAN     ?=
# Sanitizer flags for the mapguard command alone (test-asan).
CLI_SAN ?=
WARN    := -Wall -Wextra -Werror
CSTD    := -std=c11 -D_GNU_SOURCE
CFLAGS  ?=
# The one version string: the shim's hello record, `mapguard --version`,
# gomap.pc. Change VERSION, nothing else.
VERSION := $(shell cat VERSION)
# -MMD -MP: each object gets a .d file naming the headers it included, so a
# header change rebuilds exactly what includes it.
DEPFLAGS = -MMD -MP
# Headers of -Isrc and -Ishim, for rules that cannot use dep files (the
# Criterion binaries, see tests below); set before any rule names them.
GOMAP_HDRS := $(wildcard src/*.h)
SHIM_HDRS  := $(wildcard shim/*.h shim/*.inc)
ALL_CFLAGS = $(CSTD) $(WARN) $(OPT) $(SAN) $(CFLAGS)
LDFLAGS ?=

LIB      := $(BUILD)/lib
BIN      := $(BUILD)/bin
OBJ      := $(BUILD)/obj
TESTBIN  := $(BUILD)/tests

PKGS_SHIM := libunwind
PKGS_SYM  := libdw libelf jansson libunwind-generic

.PHONY: all lib shim cli tests tests-cli deps test test-unit test-asan test-tsan \
        bench bench-compare demo install clean shard bench-shard

all: lib shard shim cli

# The system programs tests/shim/test_realprogs.c runs under the shim, as
# path:package (the paths it runs, whatever else PATH holds).
REALPROG_DEPS := /usr/bin/python3:python3 /usr/bin/xz:xz-utils /usr/bin/git:git /usr/bin/gcc:gcc \
                 /usr/bin/ld.gold:binutils /usr/bin/sort:coreutils /usr/bin/cmp:diffutils
# The compiler of the test program for LLVM's OpenMP runtime (mg_omp_llvm;
# its runtime, libomp-14-dev, is tools/deps.sh's to check).
TOOL_DEPS := /usr/bin/clang-14:clang-14

deps:
	@sh tools/deps.sh $(REALPROG_DEPS) $(TOOL_DEPS)

# ---------------------------------------------------------------- gomap
GOMAP_SRC := $(wildcard src/*.c)
GOMAP_OBJ := $(GOMAP_SRC:src/%.c=$(OBJ)/src/%.o)
# Hidden visibility plus -fno-semantic-interposition: the library never
# calls its own exported symbols through the PLT, so the shim sees exactly
# the user's calls.
GOMAP_CFLAGS := -fPIC -fvisibility=hidden -fno-semantic-interposition

lib: $(LIB)/libgomap.so

$(OBJ)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(GOMAP_CFLAGS) -c $< -o $@

$(LIB)/libgomap.so: $(GOMAP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libgomap.so -o $@ $^ $(LDFLAGS)

# ---------------------------------------------------------------- shim
# Two objects. libmapguard.so is what LD_PRELOAD puts into every process.
# libmapguard-symbolize.so (shim/symbolize.c, linked with libdw, and
# shim/render.c, linked with jansson) is dlopen'd from the same directory by
# the first report (shim/symbolize_load.c): libdw, jansson and what they
# pull in would otherwise add over 0.5 MB of resident memory to every
# process, most of which never report. Install and copy the two together.
SYM_SRC  := shim/symbolize.c shim/symbolize_dwarf.c shim/saved_unwind.c shim/render.c
# Shared with the CLI: the kinds table (kinds.c, in both libraries too) and
# the text renderer with its record accessors (jansson: the symbolizer's
# library only), so the shim's format=text and `mapguard report` print the
# same finding block.
KINDS_SRC := shim/kinds.c
TEXT_SRC  := shim/finding_text.c shim/record_json.c
SHARED_OBJ := $(patsubst shim/%.c,$(OBJ)/shim/%.o,$(KINDS_SRC) $(TEXT_SRC))
SYM_OBJ  := $(SYM_SRC:shim/%.c=$(OBJ)/shim/%.o) $(SHARED_OBJ)
SHIM_SRC := $(filter-out $(SYM_SRC) $(TEXT_SRC),$(wildcard shim/*.c))
SHIM_OBJ := $(SHIM_SRC:shim/%.c=$(OBJ)/shim/%.o)
# libunwind: its headers only; shim/stack.c dlopens it (libunwind.so.8) when
# the process first needs a stack, so processes that never capture do not
# load it and liblzma.
SHIM_LIBS = -ldl -lpthread
SYM_LIBS  = $(shell pkg-config --libs $(PKGS_SYM) 2>/dev/null)
SHIM_INC  = $(shell pkg-config --cflags $(PKGS_SHIM) $(PKGS_SYM) 2>/dev/null)

ifneq ($(SHIM_SRC),)
shim: $(LIB)/libmapguard.so $(LIB)/libmapguard-symbolize.so
else
shim:
endif

# VERSION too: a new version must reach the hello record.
$(OBJ)/shim/%.o: shim/%.c VERSION
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -DMG_VERSION='"$(VERSION)"' -fPIC -fvisibility=hidden -Isrc \
	    $(SHIM_INC) -c $< -o $@

# --sort-section=name: the small variables' .bss before the large tables'
# (MG_LARGE_BSS, shim/common.h)
$(LIB)/libmapguard.so: $(SHIM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libmapguard.so -Wl,--sort-section=name -o $@ $^ $(SHIM_LIBS) $(LDFLAGS)

$(LIB)/libmapguard-symbolize.so: $(SYM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libmapguard-symbolize.so -o $@ $^ $(SYM_LIBS) $(LDFLAGS)

# ---------------------------------------------------------------- CLI
CLI_SRC := $(wildcard cli/*.c)
ifneq ($(CLI_SRC),)
cli: $(BIN)/mapguard
else
cli:
endif

CLI_OBJ := $(CLI_SRC:cli/%.c=$(OBJ)/cli/%.o)
# The DWARF lookup of one address, the live symbolizer's: crash records'
# frames are symbolized offline with it (cli/crash_symbols.c). The
# suppressions file's reader, the shim's, with what it uses: a file the
# shim would refuse stops mapguard run before the program (cli/shimopts.c).
CLI_SHARED_OBJ := $(SHARED_OBJ) $(OBJ)/shim/symbolize_dwarf.o \
    $(OBJ)/shim/suppress_file.o $(OBJ)/shim/logfile.o $(OBJ)/shim/utf8.o
CLI_PKGS := jansson libdw libelf

# -Ishim: shimopts.c reads the shim's options.inc (through options_syntax.h)
# to check flags and --options as the shim will.
$(OBJ)/cli/%.o: cli/%.c VERSION
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CLI_SAN) $(DEPFLAGS) -DMG_VERSION='"$(VERSION)"' -Isrc -Icli -Ishim \
	    $(shell pkg-config --cflags $(CLI_PKGS)) -c $< -o $@

$(BIN)/mapguard: $(CLI_OBJ) $(CLI_SHARED_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CLI_SAN) -o $@ $(CLI_OBJ) $(CLI_SHARED_OBJ) $(shell pkg-config --libs $(CLI_PKGS)) $(LDFLAGS)

# ---------------------------------------------------------------- shard
# gomap_shard (shard/): N gomaps under rwlocks. A library of its own, linked
# with -lgomap, so its map calls go through the PLT where the shim sees them.
SHARD_SRC := $(wildcard shard/*.c)
SHARD_OBJ := $(SHARD_SRC:shard/%.c=$(OBJ)/shard/%.o)
SHARD_TEST_SRC := $(wildcard tests/shard/*.c)

shard: $(LIB)/libgomapshard.so

$(OBJ)/shard/%.o: shard/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -fPIC -fvisibility=hidden -Isrc -c $< -o $@

# $$ORIGIN: finds libgomap.so beside it, in the build tree and once installed.
$(LIB)/libgomapshard.so: $(SHARD_OBJ) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libgomapshard.so -Wl,-rpath,'$$ORIGIN' -o $@ \
	    $(SHARD_OBJ) -L$(LIB) -lgomap -lpthread $(LDFLAGS)

# The stress test spawns tests/progs/demo_shard_* under the shim.
$(TESTBIN)/shard_tests: $(SHARD_TEST_SRC) $(wildcard tests/shard/*.h) $(GOMAP_HDRS) $(wildcard shard/*.h) \
                        $(LIB)/libgomapshard.so \
                        $(TESTBIN)/progs/demo_shard_stress
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -Ishard -Itests/shard $(CRIT_CFLAGS) $(shell pkg-config --cflags jansson) \
	    -DBUILD_DIR='"$(abspath $(BUILD))"' -o $@ $(SHARD_TEST_SRC) \
	    -L$(LIB) -lgomapshard -lgomap $(RPATH) $(CRIT_LIBS) $(shell pkg-config --libs jansson) \
	    -lpthread $(LDFLAGS)

# More specific than the generic progs rule below, which links -lgomap only.
$(TESTBIN)/progs/demo_shard_%: tests/progs/demo_shard_%.c $(wildcard tests/shard/*.h) \
                               $(LIB)/libgomapshard.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -Isrc -Ishard -Itests/shard -o $@ $< \
	    -L$(LIB) -lgomapshard -lgomap $(RPATH) -lpthread $(LDFLAGS)

$(BUILD)/bench/shard_bench: $(LIB)/libgomapshard.so

bench-shard: deps all $(BUILD)/bench/shard_bench
	@sh tests/bench/shard_bench.sh $(BUILD)

# ---------------------------------------------------------------- tests
# tests/gomap/*.c      -> one Criterion binary for the library
# tests/shim/*.c       -> one Criterion binary for the detector
# tests/cli/*.c        -> one Criterion binary for the CLI
# tests/progs/*.c      -> programs the shim and CLI tests run (built -O0 -g,
#                         plus -O2 and stripped variants where named *_o2)
# tests/progs/lib/*.c  -> libraries those programs dlopen
#
# Each test program is one source, built with $(DEPFLAGS): its dep file
# ($@.d, included at the end) names the headers it included. The Criterion
# binaries compile many sources in one command, where a dep file would name
# only the last one's headers, so they list the headers of the directories
# they include from (GOMAP_HDRS, SHIM_HDRS above) instead.
CRIT_CFLAGS = $(shell pkg-config --cflags criterion)
CRIT_LIBS   = $(shell pkg-config --libs criterion)
RPATH       = -Wl,-rpath,$(abspath $(LIB))

GOMAP_TEST_SRC := $(wildcard tests/gomap/*.c)
SHIM_TEST_SRC  := $(wildcard tests/shim/*.c)
CLI_TEST_SRC   := $(wildcard tests/cli/*.c)
HB_TEST_SRC    := $(wildcard tests/hb/*.c)
PROG_SRC       := $(wildcard tests/progs/*.c)
PROGS          := $(PROG_SRC:tests/progs/%.c=$(TESTBIN)/progs/%)

TEST_BINS := $(if $(GOMAP_TEST_SRC),$(TESTBIN)/gomap_tests) \
             $(if $(SHIM_TEST_SRC),$(TESTBIN)/shim_tests) \
             $(if $(CLI_TEST_SRC),$(TESTBIN)/cli_tests) \
             $(if $(HB_TEST_SRC),$(TESTBIN)/hb_tests) \
             $(if $(SHARD_TEST_SRC),$(TESTBIN)/shard_tests)

# Libraries the test programs dlopen: tests/progs/lib/NAME.c becomes
# libNAME.so beside the programs.
PROG_LIB_SRC   := $(wildcard tests/progs/lib/*.c)
PROG_LIBS      := $(PROG_LIB_SRC:tests/progs/lib/%.c=$(TESTBIN)/progs/lib%.so)

# mg_annotate is also built as a non-PIE executable (see its rule).
ANNOTATE_NOPIE := $(TESTBIN)/progs/mg_annotate_nopie

# mg_omp is also built by clang, for LLVM's OpenMP runtime (see its rule).
OMP_LLVM := $(TESTBIN)/progs/mg_omp_llvm

# The GLib demos, which cli_tests runs (test_demo_glib.c): the demo's
# own rule builds them (below), so they are built one way only.
DEMO_GLIB := $(patsubst demo/%.c,$(BUILD)/demo/%,$(wildcard demo/gh_*.c))

tests: all $(TEST_BINS) $(PROGS) $(ANNOTATE_NOPIE) $(OMP_LLVM) $(PROG_LIBS) $(BUILD)/examples/wordcount $(DEMO_GLIB)

# What cli_tests runs: the command, the shim, the test programs, the GLib demos.
tests-cli: all $(TESTBIN)/cli_tests $(PROGS) $(PROG_LIBS) $(DEMO_GLIB)

# The GLib demos (see DEMO_GLIB) are built by demo/Makefile's own rule.
$(BUILD)/demo/gh_%: demo/gh_%.c
	@$(MAKE) --no-print-directory -C demo BUILD=$(abspath $(BUILD)) $(abspath $@)

$(TESTBIN)/gomap_tests: $(GOMAP_TEST_SRC) $(wildcard tests/gomap/*.h) $(GOMAP_HDRS) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -Itests/gomap $(CRIT_CFLAGS) -o $@ $(GOMAP_TEST_SRC) \
	    -L$(LIB) -lgomap $(RPATH) $(CRIT_LIBS) -lpthread -lm $(LDFLAGS)

# tests/site_line.c: the @site markers of tests/progs, for both suites.
TEST_SHARED := tests/site_line.c

$(TESTBIN)/shim_tests: $(SHIM_TEST_SRC) $(TEST_SHARED) $(wildcard tests/shim/*.h) tests/*.h $(GOMAP_HDRS) \
                        $(LIB)/libgomap.so VERSION
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -Itests -Itests/shim $(CRIT_CFLAGS) $(shell pkg-config --cflags jansson) \
	    -DBUILD_DIR='"$(abspath $(BUILD))"' -DSRC_DIR='"$(abspath .)"' -DMG_VERSION='"$(VERSION)"' \
	    -o $@ $(SHIM_TEST_SRC) $(TEST_SHARED) $(CRIT_LIBS) $(shell pkg-config --libs jansson) -lpthread $(LDFLAGS)

$(TESTBIN)/cli_tests: $(CLI_TEST_SRC) $(TEST_SHARED) $(wildcard tests/cli/*.h) tests/*.h $(GOMAP_HDRS) $(SHIM_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -Itests -Itests/cli -Ishim $(CRIT_CFLAGS) $(shell pkg-config --cflags jansson) \
	    -DBUILD_DIR='"$(abspath $(BUILD))"' -DSRC_DIR='"$(abspath .)"' $(if $(CLI_SAN),-DMG_CLI_SANITIZED) \
	    -o $@ $(CLI_TEST_SRC) $(TEST_SHARED) $(CRIT_LIBS) $(shell pkg-config --libs jansson) -lpthread $(LDFLAGS)

# mg_late loads libgomap with dlopen after start, so it must not be linked
# with it (the rule below would give it a DT_NEEDED entry).
$(TESTBIN)/progs/mg_late: tests/progs/mg_late.c $(wildcard tests/progs/*.h) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -Isrc -o $@ $< $(RPATH) -ldl -lpthread $(LDFLAGS)

# mg_lazy_unwind must have no map library at all: the shim then loads
# libunwind only when it first captures a stack.
$(TESTBIN)/progs/mg_lazy_unwind: tests/progs/mg_lazy_unwind.c $(wildcard tests/progs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -o $@ $< -lpthread $(LDFLAGS)

# The annotations (tests/shim/test_annotate.c), built as a user would:
# mapguard_annotate.h found on the include path as it is once installed, no
# link to libmapguard. mg_annotate as a PIE and as a non-PIE executable;
# mg_annotate_lib linked against a library annotated for other detectors
# (weak AnnotateHappensBefore/After).
ANNOTATE_DEPS := shim/mapguard_annotate.h tests/progs/scenario.h $(LIB)/libgomap.so

$(TESTBIN)/progs/mg_annotate: tests/progs/mg_annotate.c $(ANNOTATE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -fPIE -pie -Isrc -Ishim -o $@ $< -L$(LIB) -lgomap $(RPATH) -lpthread $(LDFLAGS)

$(TESTBIN)/progs/mg_annotate_nopie: tests/progs/mg_annotate.c $(ANNOTATE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -fno-pie -no-pie -Isrc -Ishim -o $@ $< -L$(LIB) -lgomap $(RPATH) -lpthread \
	    $(LDFLAGS)

$(TESTBIN)/progs/mg_annotate_lib: tests/progs/mg_annotate_lib.c $(TESTBIN)/progs/libmg_annotate_weak.so $(ANNOTATE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -Isrc -o $@ $< -L$(TESTBIN)/progs -lmg_annotate_weak \
	    -Wl,-rpath,$(abspath $(TESTBIN)/progs) -L$(LIB) -lgomap $(RPATH) -lpthread $(LDFLAGS)

# mg_ompt_fake plays an OpenMP runtime's part: it links the two symbols
# the shim looks for in one (tests/progs/lib/fake_omp.c).
$(TESTBIN)/progs/mg_ompt_fake: tests/progs/mg_ompt_fake.c shim/ompt_abi.h tests/progs/scenario.h \
                               $(TESTBIN)/progs/libfake_omp.so $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -Isrc -o $@ $< -L$(TESTBIN)/progs -lfake_omp \
	    -Wl,-rpath,$(abspath $(TESTBIN)/progs) -L$(LIB) -lgomap $(RPATH) -ldl -lpthread $(LDFLAGS)

# The happens-before engine's unit tests, linked with its objects directly
# (they call functions the shim does not export).
HB_OBJ := $(filter $(OBJ)/shim/hb_%.o $(OBJ)/shim/depot.o,$(SHIM_OBJ))

$(TESTBIN)/hb_tests: $(HB_TEST_SRC) $(wildcard tests/hb/*.h) $(GOMAP_HDRS) $(SHIM_HDRS) $(HB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -Ishim $(CRIT_CFLAGS) -o $@ $(HB_TEST_SRC) $(HB_OBJ) $(CRIT_LIBS) -lpthread $(LDFLAGS)

# Its stress test without Criterion, for test-tsan (Criterion does not run
# under ThreadSanitizer).
$(TESTBIN)/hb_stress_tsan: tests/hb/tsan/hb_stress_tsan.c tests/hb/stress.c tests/hb/stress.h $(GOMAP_HDRS) \
                            $(SHIM_HDRS) $(HB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -Ishim -o $@ tests/hb/tsan/hb_stress_tsan.c tests/hb/stress.c $(HB_OBJ) -lpthread $(LDFLAGS)

# Programs named mg_glib* use GLib (and GIO): built against them with
# pkg-config; the shim itself never links GLib (tests/check_noglib.sh).
GLIB_PKGS = glib-2.0 gio-2.0
$(TESTBIN)/progs/mg_glib%: tests/progs/mg_glib%.c $(wildcard tests/progs/*.h) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -Isrc $(shell pkg-config --cflags $(GLIB_PKGS)) -o $@ $< \
	    -L$(LIB) -lgomap $(RPATH) $(shell pkg-config --libs $(GLIB_PKGS)) -lpthread $(LDFLAGS)

$(TESTBIN)/progs/libglib_%.so: tests/progs/lib/glib_%.c $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -fPIC -shared -Isrc $(shell pkg-config --cflags $(GLIB_PKGS)) -o $@ $< \
	    -L$(LIB) -lgomap $(RPATH) $(shell pkg-config --libs $(GLIB_PKGS)) -lpthread $(LDFLAGS)

# mg_omp is an OpenMP program, built twice whatever CC is: by gcc with
# -fopenmp, for GCC's runtime (libgomp, followed by shim/omp_sync.c), and
# by clang with -fopenmp, for LLVM's (libomp, followed by shim/omp_llvm.c).
OMP_LLVM_CC ?= clang-14
$(TESTBIN)/progs/mg_omp: tests/progs/mg_omp.c $(wildcard tests/progs/*.h) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	gcc $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -fopenmp -Isrc -o $@ $< \
	    -L$(LIB) -lgomap $(RPATH) -lpthread $(LDFLAGS)

$(OMP_LLVM): tests/progs/mg_omp.c $(wildcard tests/progs/*.h) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(OMP_LLVM_CC) $(CSTD) $(WARN) -O0 -g -fopenmp -Isrc -o $@ $< \
	    -L$(LIB) -lgomap $(RPATH) -lpthread $(LDFLAGS)

# Test programs are built as a user would build them: -O0 -g by default;
# a name ending in _o2 is built -O2 -g, one ending in _strip is stripped,
# one ending in _lsan is built with LeakSanitizer.
$(TESTBIN)/progs/%: tests/progs/%.c $(wildcard tests/progs/*.h) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) $(if $(findstring _o2,$*),-O2 -g,-O0 -g) $(if $(findstring _lsan,$*),-fsanitize=leak) \
	    -Isrc -o $@ $< \
	    -L$(LIB) -lgomap $(RPATH) -lpthread -lm $(LDFLAGS)
	$(if $(findstring _strip,$*),strip $@)

# gh_*: GHashTable programs, built against GLib (the shim never links it).
GLIB_CFLAGS = $(shell pkg-config --cflags glib-2.0)
GLIB_LIBS   = $(shell pkg-config --libs glib-2.0)

# gh_lazy_unwind uses a table of libgobject's, which GLib makes itself
$(TESTBIN)/progs/gh_lazy_unwind: GLIB_LIBS = $(shell pkg-config --libs gobject-2.0)
$(TESTBIN)/progs/gh_lazy_unwind: GLIB_CFLAGS = $(shell pkg-config --cflags gobject-2.0)

$(TESTBIN)/progs/gh_%: tests/progs/gh_%.c $(wildcard tests/progs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g $(GLIB_CFLAGS) -o $@ $< $(GLIB_LIBS) -lpthread -lm $(LDFLAGS)

$(TESTBIN)/progs/libgh_%.so: tests/progs/lib/gh_%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -fPIC -shared $(GLIB_CFLAGS) -o $@ $< $(GLIB_LIBS) $(LDFLAGS)

$(TESTBIN)/progs/lib%.so: tests/progs/lib/%.c $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN) $(DEPFLAGS) -O0 -g -fPIC -shared -Isrc -o $@ $< -L$(LIB) -lgomap $(RPATH) -lpthread $(LDFLAGS)

test: deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory test-unit

# Runs every suite that exists, plus the PLT check, and fails if any fails.
test-unit:
	@sh tests/check_plt.sh $(LIB)/libgomap.so
	@sh tests/check_noglib.sh $(LIB)/libmapguard.so
	@sh tests/check_bss.sh $(LIB)/libmapguard.so
	@sh tests/check_example.sh $(BUILD)/examples/wordcount
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; $$t --jobs=2; done

test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    build-asan/lib/libgomap.so build-asan/tests/gomap_tests build-asan/tests/hb_tests
	@# Criterion counts a test whose process leaks as passed, so the log is
	@# checked for sanitizer reports as well as the exit status.
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-asan/tests/gomap_tests --jobs=2 > build-asan/gomap_tests.log 2>&1; \
	    rc=$$?; cat build-asan/gomap_tests.log; \
	    if grep -qE 'ERROR: (Leak|Address)Sanitizer|runtime error:' build-asan/gomap_tests.log; then \
	        echo "test-asan: sanitizer reports above" >&2; exit 1; fi; [ $$rc = 0 ] || exit $$rc
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    build-asan/tests/hb_tests --jobs=2 > build-asan/hb_tests.log 2>&1; \
	    rc=$$?; cat build-asan/hb_tests.log; \
	    if grep -qE 'ERROR: (Leak|Address)Sanitizer|runtime error:' build-asan/hb_tests.log; then \
	        echo "test-asan: sanitizer reports above" >&2; exit 1; fi; [ $$rc = 0 ] || exit $$rc
	@# The mapguard command under the CLI tests, in a build of its own where
	@# only the command is instrumented (CLI_SAN). The shim is not: it is
	@# preloaded into programs built without ASan, and an ASan-built library
	@# cannot be loaded into those (ASan's runtime must come first in the
	@# process), so the shim's tests do not run under ASan or UBSan.
	@# The command's output is the tests' to check, so ASan's and LSan's
	@# reports go to files (log_path), and any such file fails the run.
	@# UBSan's go to the command's stderr whatever log_path says, and end it
	@# with status 1 (-fno-sanitize-recover): the test that ran it sees a
	@# status and output it did not expect.
	@$(MAKE) --no-print-directory BUILD=build-asan-cli OPT="-O1 -g" \
	    CLI_SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" tests-cli
	@rm -f build-asan-cli/san.*
	@ASAN_OPTIONS=detect_leaks=1:log_path=$(abspath build-asan-cli)/san UBSAN_OPTIONS=print_stacktrace=1 \
	    build-asan-cli/tests/cli_tests --jobs=2 > build-asan-cli/cli_tests.log 2>&1; \
	    rc=$$?; cat build-asan-cli/cli_tests.log; \
	    if ls build-asan-cli/san.* >/dev/null 2>&1; then cat build-asan-cli/san.*; \
	        echo "test-asan: sanitizer reports above (mapguard command)" >&2; exit 1; fi; exit $$rc

test-tsan: deps
	@$(MAKE) --no-print-directory BUILD=build-tsan OPT="-O1 -g" SAN="-fsanitize=thread" \
	    build-tsan/lib/libgomap.so build-tsan/tests/progs/tsan_readers build-tsan/tests/hb_stress_tsan
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 build-tsan/tests/progs/tsan_readers
	@# the happens-before engine's concurrent tables
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 build-tsan/tests/hb_stress_tsan

# ---------------------------------------------------------------- bench
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCHES   := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
BENCH_PKGS := glib-2.0 htslib

$(BUILD)/bench/%: tests/bench/%.c $(wildcard tests/bench/*.h) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -Isrc -Ishard -Itests/bench $(shell pkg-config --cflags $(BENCH_PKGS)) \
	    -o $@ $< -L$(LIB) $(if $(filter shard_%,$*),-lgomapshard) -lgomap $(RPATH) $(shell pkg-config --libs $(BENCH_PKGS)) -lpthread -lm

bench: deps all $(BENCHES)
	@sh tests/bench/run.sh $(BUILD)
	@sh tests/bench/shard_bench.sh $(BUILD)
	@WRITE=1 sh tests/bench/shim_overhead.sh $(BUILD)
	@WRITE=1 sh tests/bench/tools_overhead.sh $(BUILD)

# bench-compare (issue 6): the compare_* workloads plain, under
# libmapguard.so, rebuilt with -fsanitize=thread (libgomap too, into
# $(BUILD)/tsan at the same -O2), under helgrind and drd; and the §2.2 race
# under each tool and Go's. Writes its section of docs/performance.md.
# $ORIGIN/../lib: compare.sh runs a snapshot of the binaries and libraries,
# so a rebuild of build/lib during the run cannot change what is measured.
#   make bench-compare COMPARE_ARGS=--quick     (a smoke run)
#   make bench-compare MAPGUARD_SHIM=other/build/lib/libmapguard.so \
#       MAPGUARD_SHIM_OPTIONS=happens_before=1  (measure another build's shim)
COMPARE_BINS := $(patsubst tests/bench/%.c,%,$(wildcard tests/bench/compare_*.c))

$(BUILD)/bench/compare_%: tests/bench/compare_%.c $(wildcard tests/bench/compare_*.h) $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g $(SAN) -Isrc -Itests/bench -o $@ $< -L$(LIB) -lgomap -Wl,-rpath,'$$ORIGIN/../lib' -lpthread

# compare_gh_*: the GLib rows (GHashTable programs against GLib, not
# libgomap); plain only, since TSan would need GLib rebuilt with it.
$(BUILD)/bench/compare_gh_%: tests/bench/compare_gh_%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g $(SAN) $(GLIB_CFLAGS) -o $@ $< $(GLIB_LIBS) -lpthread

bench-compare:
	@sh tools/deps.sh valgrind:valgrind go:golang-go
	@$(MAKE) --no-print-directory all $(COMPARE_BINS:%=$(BUILD)/bench/%)
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan OPT="-O2 -g" SAN="-fsanitize=thread" \
	    $(BUILD)/tsan/lib/libgomap.so $(patsubst %,$(BUILD)/tsan/bench/%,$(filter-out %_runner compare_gh_%,$(COMPARE_BINS)))
	@sh tests/bench/compare.sh $(BUILD) $(BUILD)/tsan $(COMPARE_ARGS)

# ---------------------------------------------------------------- demo
demo: deps all
	@$(MAKE) --no-print-directory -C demo BUILD=$(abspath $(BUILD))

# The README's example, built as a user would and checked by `make test`,
# so the example cannot rot.
$(BUILD)/examples/%: examples/%.c src/gomap.h $(LIB)/libgomap.so
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -Isrc -o $@ $< -L$(LIB) -lgomap $(RPATH)

# ---------------------------------------------------------------- install
# Everything `all` builds: the libraries, the detector (with the symbolizer
# beside it, where it looks for it) and the command.
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(LIB)/libgomap.so $(LIB)/libgomapshard.so $(LIB)/libmapguard.so \
	    $(LIB)/libmapguard-symbolize.so $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 src/gomap.h shard/gomap_shard.h shim/mapguard_annotate.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' tools/gomap.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gomap.pc
	install -m 0755 $(BIN)/mapguard $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-asan build-asan-cli build-tsan

# The headers each object was built from (-MMD above); absent before the
# first build, when everything is built anyway.
-include $(wildcard $(OBJ)/*/*.d $(TESTBIN)/progs/*.d)
