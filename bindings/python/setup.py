# SPDX-License-Identifier: LGPL-2.1-or-later
"""The C extension weave._weave, on the stable ABI (abi3, Python 3.11+).

Where libweave comes from, first match wins:
  WEAVE_CFLAGS / WEAVE_LIBS    (the tree's make sets them to the build tree)
  pkg-config weave             (an installed libweave-dev)
  -lweave on the default paths
The version is the tree's VERSION file, or PKG-INFO's in an sdist.
"""

import os
import re
import shlex
import subprocess

from setuptools import Extension, setup
from wheel.bdist_wheel import bdist_wheel

here = os.path.dirname(os.path.abspath(__file__))


def version():
    tree = os.path.join(here, "..", "..", "VERSION")
    if os.path.exists(tree):
        with open(tree) as f:
            return f.read().strip()
    with open(os.path.join(here, "PKG-INFO")) as f:
        return re.search(r"^Version: (\S+)", f.read(), re.M).group(1)


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "weave"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


cflags = os.environ.get("WEAVE_CFLAGS")
libs = os.environ.get("WEAVE_LIBS")
if cflags is None and libs is None:
    cflags = pkg_config("--cflags")
    libs = pkg_config("--libs")
    if libs is None:
        cflags, libs = [], ["-lweave"]
else:
    cflags = shlex.split(cflags or "")
    libs = shlex.split(libs or "-lweave")


class bdist_wheel_abi3(bdist_wheel):
    """One wheel for every CPython from 3.11 on."""

    def get_tag(self):
        python, abi, plat = super().get_tag()
        if python.startswith("cp"):
            return "cp311", "abi3", plat
        return python, abi, plat


ver = version()
setup(
    version=ver,
    ext_modules=[Extension(
        "weave._weave",
        sources=["src/weave/" + s for s in
                 ("module.c", "registry.c", "view.c", "lock.c", "watch.c")],
        depends=["src/weave/_weave.h"],
        define_macros=[("Py_LIMITED_API", "0x030B0000"),
                       ("WEAVE_PY_VERSION", '"%s"' % ver)],
        extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Wshadow",
                            *cflags],
        extra_link_args=libs,
        py_limited_api=True,
    )],
    cmdclass={"bdist_wheel": bdist_wheel_abi3},
)
