"""coral_fuzzer(): a libFuzzer target that also runs as a corpus-replay test in every build.

    load("//bazel:fuzz.bzl", "coral_fuzzer")

    coral_fuzzer(
        name = "socket_address_fuzzer",
        srcs = ["socket_address_fuzzer.cc"],
        deps = ["//io:socket_address"],
        corpus = glob(["corpus/socket_address_fuzzer/*"]),
    )

`srcs` define the fuzz function, and nothing else needs a main:

    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

It checks its property by aborting (CHECK-style, e.g. with std::abort or a failed assertion)
and returns 0. `corpus` lists seed inputs, one file each (typically a glob of a directory).

The macro declares:
  <name>                a binary tagged "coral_fuzzer". Under `--config=fuzz` (.bazelrc: clang-14
                        with -fsanitize=fuzzer,address,undefined) it is a real libFuzzer binary:
                          bazel-bin/<pkg>/<name> -max_total_time=60 CORPUS_DIR...
                        In every other configuration it links //bazel:fuzz_replay_main instead,
                        which runs each file (or every file of each directory) named on its
                        command line through the function once: that reproduces a crash input
                        under gcc, TSan or ASan.
  <name>_corpus_test    a cc_test that replays the empty input and every corpus file through the
                        function (with //bazel:fuzz_replay_main), so `bazel test //...` exercises
                        the corpus in the default, tsan, asan and fuzz configurations.
  <name>_lib            the fuzz function as an alwayslink library (an implementation detail).

.ci/fuzz.sh finds every fuzzer by its tag (`bazel query 'attr(tags, "\\bcoral_fuzzer\\b", //...)'`),
builds them under --config=fuzz and runs each for a few seconds from a copy of its corpus.
"""

def coral_fuzzer(name, srcs, deps = [], corpus = []):
    """Declares <name> (libFuzzer under --config=fuzz) and <name>_corpus_test.

    Args:
      name: the fuzzer binary's name.
      srcs: sources defining LLVMFuzzerTestOneInput.
      deps: libraries the sources use.
      corpus: seed input files, replayed by the test and copied as the fuzzer's starting corpus.
    """
    lib = name + "_lib"
    native.cc_library(
        name = lib,
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    native.cc_binary(
        name = name,
        testonly = True,
        deps = [":" + lib] + select({
            "//bazel:fuzzing": [],
            "//conditions:default": ["//bazel:fuzz_replay_main"],
        }),
        linkopts = select({
            "//bazel:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = corpus,
        tags = ["coral_fuzzer"],
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = "small",
        deps = [":" + lib, "//bazel:fuzz_replay_main"],
        data = corpus,
        args = ["$(location %s)" % f for f in corpus],
    )
