"""The README's two tours are run as written: the Python block in a fresh interpreter, the C++
block compiled against the build (include/, the generated ops.h, libmixnet in build/)."""
import os
import re
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MIXNET_BUILD_DIR", os.path.join(REPO, "build"))


def tour(lang):
    """The fenced block that follows the README's `<!-- tour: LANG -->` marker."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- tour: %s -->\s*```\w*\n(.*?)```" % lang, text, re.S)
    assert m, f"README.md has no '<!-- tour: {lang} -->' block"
    return m.group(1)


def test_tours_are_about_twenty_lines():
    for lang in ("python", "cpp"):
        assert len(tour(lang).splitlines()) <= 26  # "a 20-line tour", give or take


def test_python_tour_runs(tmp_path):
    script = tmp_path / "tour.py"
    script.write_text(tour("python"))
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "mlp-symbol.json").exists() and (tmp_path / "mlp-0000.params").exists()
    assert "NDArray 4 @cpu(0)" in r.stdout


def test_cpp_tour_compiles_and_runs(tmp_path):
    lib = os.path.join(BUILD, "libmixnet.so")
    ops = os.path.join(BUILD, "generated", "include")
    if not (os.path.exists(lib) and os.path.isdir(ops)):
        pytest.skip(f"no C++ build in {BUILD} (scripts/build.sh makes it; MIXNET_BUILD_DIR "
                    "points elsewhere)")
    cxx = os.environ.get("CXX") or shutil.which("c++") or "g++"
    src = tmp_path / "tour.cc"
    src.write_text(tour("cpp"))
    exe = tmp_path / "tour"
    subprocess.run([cxx, "-std=c++20", "-O1", str(src), "-I", os.path.join(REPO, "include"),
                    "-I", ops, "-L", BUILD, "-lmixnet", f"-Wl,-rpath,{BUILD}", "-o", str(exe)],
                   check=True, timeout=300)
    r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "same outputs after export and import: 1" in r.stdout
    assert (tmp_path / "mlp-symbol.json").exists()
