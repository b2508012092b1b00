"""coral_dependencies(): the external repositories coral needs, for a workspace that uses coral.

A workspace that depends on coral (coral's own WORKSPACE does too):

    local_repository(name = "coral", path = "/path/to/coral")

    load("@coral//bazel:deps.bzl", "coral_dependencies")

    coral_dependencies()

and in its .bazelrc `build --cxxopt=-std=c++20` (coral is C++20). Its targets then depend on
`@coral//:coral`.

Everything comes from Debian 12 packages, offline (bazel/bazelw installs them): Bazel 4.2 from
bazel-bootstrap, the platforms from bazel-platforms, Abseil, GoogleTest, Benchmark and oneTBB from
their -dev packages, OpenSSL 3 from libssl-dev and http-parser from libhttp-parser-dev. The
library itself needs only @absl; @openssl serves the separate TLS target (@coral//:coral_tls),
@googletest, @benchmark and @tbb coral's tests and benchmarks, @http_parser the HTTP example, and
Bazel reads a repository only when a target being built needs it.
The stubs of rules_cc, rules_java and remote_coverage_tools stand in for the repositories Bazel's
built-in tools would otherwise download.

A repository the workspace has already declared under one of these names is left alone, so a
workspace can bring its own Abseil or GoogleTest (with the same target names) by declaring it
before calling coral_dependencies().
"""

def _coral_stub_repository_impl(ctx):
    stub = ctx.path(Label("//bazel:BUILD")).dirname.get_child("stubs").get_child(ctx.attr.stub)
    for child in stub.readdir():
        ctx.symlink(child, child.basename)

# A copy (by symlinks) of the directory bazel/stubs/<stub> of coral's tree. A repository rule
# rather than local_repository because a macro cannot know where the coral checkout lies.
_coral_stub_repository = repository_rule(
    implementation = _coral_stub_repository_impl,
    attrs = {"stub": attr.string(mandatory = True)},
    local = True,
)

def _declare(name, rule, **kwargs):
    if not native.existing_rule(name):
        rule(name = name, **kwargs)

def coral_dependencies():
    """Declares the repositories coral needs that the workspace has not declared yet."""

    # Bazel's built-in tools load these; offline stand-ins.
    for stub in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        _declare(stub, _coral_stub_repository, stub = stub)

    # From Debian's bazel-platforms package.
    _declare("platforms", native.local_repository, path = "/usr/share/bazel/tools/platforms")

    # System libraries from Debian packages: headers under /usr/include, libraries in the system
    # library path.
    _declare(
        "absl",
        native.new_local_repository,
        path = "/usr/include/absl",
        build_file = str(Label("//bazel:absl.BUILD")),
    )
    _declare(
        "tbb",
        native.new_local_repository,
        path = "/usr/include/oneapi",
        build_file = str(Label("//bazel:tbb.BUILD")),
    )
    _declare(
        "googletest",
        native.new_local_repository,
        path = "/usr/include/gtest",
        build_file = str(Label("//bazel:googletest.BUILD")),
    )
    _declare(
        "benchmark",
        native.new_local_repository,
        path = "/usr/include/benchmark",
        build_file = str(Label("//bazel:benchmark.BUILD")),
    )
    _declare(
        "http_parser",
        native.new_local_repository,
        path = "/usr/include",
        build_file = str(Label("//bazel:http_parser.BUILD")),
    )
    _declare(
        "openssl",
        native.new_local_repository,
        path = "/usr/include/openssl",
        build_file = str(Label("//bazel:openssl.BUILD")),
    )
