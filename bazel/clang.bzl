"""coral_clang_toolchain(): a second autoconfigured C++ toolchain that compiles with clang-14.

Bazel's own autoconfiguration (@local_config_cc) picks the compiler from $CC once per output base;
switching it with --repo_env=CC=... re-runs the configuration and invalidates every C++ action on
each switch between gcc and clang. This rule runs the same autoconfiguration with clang-14
forced, as a repository of its own, so that `--config=fuzz` (.bazelrc) selects it with
--crosstool_top and gcc builds and clang builds share one output base without rebuilding each
other's results. Only coral's own WORKSPACE declares it: libFuzzer builds are a development tool,
not something a workspace using coral needs.
"""

load("@bazel_tools//tools/cpp:cc_configure.bzl", "cc_autoconf_impl")

def _coral_clang_toolchain_impl(repository_ctx):
    clang = repository_ctx.which("clang-14")
    if not clang:
        # The configuration must not fail for builds that never use it: a BUILD file whose
        # toolchain reports the missing compiler when (and only when) it is selected.
        repository_ctx.file("BUILD", "fail('coral: clang-14 is not installed; run .ci/fuzz.sh, " +
                                     "which installs it')\n")
        return
    cc_autoconf_impl(repository_ctx, overriden_tools = {"gcc": str(clang)})

coral_clang_toolchain = repository_rule(
    implementation = _coral_clang_toolchain_impl,
    environ = ["PATH"],
    configure = True,
)
