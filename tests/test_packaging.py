"""Packaging: the sdist and wheel hold the library only, and the wheel installs and runs in a fresh environment.

Built from a copy of the working tree's files (tracked, plus untracked ones git does not ignore), so the repository
gets no build/, dist/ or egg-info. `--no-isolation` uses the installed setuptools: the test needs no network.
"""
from __future__ import annotations
import os, shutil, subprocess, sys, tarfile, zipfile
from pathlib import Path
import pytest
from helpers import REPO

def sh(*cmd, cwd=None, timeout=600)->subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                       env={**os.environ, 'PIP_DISABLE_PIP_VERSION_CHECK': '1', 'PYTHONWARNINGS': 'ignore'})
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r

@pytest.fixture(scope='module')
def dist(tmp_path_factory)->dict:
    "Build the sdist and the wheel from a copy of the working tree; return {'wheel': Path, 'sdist': Path}."
    tmp = tmp_path_factory.mktemp('pkg')
    src = tmp/'src'
    files = sh('git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', cwd=REPO).stdout.split('\0')
    for f in filter(None, files):
        p = REPO/f
        if p.is_file():
            (src/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(p, src/f)
    sh(sys.executable, '-m', 'build', '--sdist', '--wheel', '--no-isolation', '--outdir', tmp/'dist', src)
    wheels, sdists = list((tmp/'dist').glob('*.whl')), list((tmp/'dist').glob('*.tar.gz'))
    assert len(wheels) == 1 and len(sdists) == 1, list((tmp/'dist').iterdir())
    return {'wheel': wheels[0], 'sdist': sdists[0], 'tmp': tmp}

@pytest.mark.slow
def test_wheel_holds_the_library_only(dist):
    names = zipfile.ZipFile(dist['wheel']).namelist()
    lib = [n for n in names if not n.startswith('mixhic-') or '.dist-info/' not in n]
    assert lib and all(n.startswith('mixhic/') and n.endswith('.py') and n.count('/') <= 2 for n in lib), lib
    assert {'mixhic/__init__.py', 'mixhic/cli.py', 'mixhic/store.py', 'mixhic/synth.py', 'mixhic/_modidx.py'} <= set(lib)
    mods = {n[len('mixhic/'):] for n in lib}                          # the package and its subpackage of tasks
    assert mods == {p.relative_to(REPO/'mixhic').as_posix() for p in (REPO/'mixhic').glob('**/*.py')}   # every exported module, nothing else
    meta = [n for n in names if '.dist-info/' in n]
    assert {Path(n).name for n in meta} >= {'METADATA', 'WHEEL', 'RECORD', 'entry_points.txt'}
    ep = zipfile.ZipFile(dist['wheel']).read(next(n for n in meta if n.endswith('entry_points.txt'))).decode()
    assert 'mixhic = mixhic.cli:main' in ep
    assert not [n for n in names if n.endswith(('.ipynb', '.pyc')) or '__pycache__' in n or n.startswith(('tests/', 'data/', 'nbs/', 'bench/'))]

@pytest.mark.slow
def test_sdist_leaves_out_notebooks_tests_and_data(dist):
    names = [n.split('/', 1)[1] for n in tarfile.open(dist['sdist']).getnames() if '/' in n]
    assert {'setup.py', 'settings.ini', 'README.md', 'mixhic/cli.py'} <= set(names)
    assert not [n for n in names if n.startswith(('nbs/', 'tests/', 'data/', 'bench/', '.ci/')) or n.endswith(('.ipynb', '.pyc'))]

@pytest.mark.slow
def test_wheel_installs_and_runs(dist):
    "A fresh venv (reusing the installed heavy packages) gets the wheel alone; its `mixhic` runs from the venv."
    venv = dist['tmp']/'venv'
    sh(sys.executable, '-m', 'venv', '--system-site-packages', venv)
    py, exe = venv/'bin'/'python', venv/'bin'/'mixhic'
    sh(py, '-m', 'pip', 'install', '--no-deps', '--no-index', '--force-reinstall', dist['wheel'])
    run = dict(cwd=dist['tmp'])                                       # not the repository: `python -c` imports from the cwd
    r = sh(exe, '--help', **run)
    assert r.stdout.startswith('usage: mixhic') and 'build' in r.stdout
    where = sh(py, '-c', 'import mixhic, mixhic.store; print(mixhic.__file__); print(mixhic.__version__)', **run).stdout.split()
    assert Path(where[0]).resolve().is_relative_to(venv.resolve()), f"mixhic imported from {where[0]}, not the venv"
    assert where[1] == sh(sys.executable, '-c', 'import mixhic; print(mixhic.__version__)', **run).stdout.strip()
    exe_path = sh(py, '-c', 'import mixhic.cli, sys; print(sys.modules["mixhic.cli"].__file__)', **run).stdout.strip()
    assert Path(exe_path).resolve().is_relative_to(venv.resolve())
    sh(exe, 'synth', dist['tmp']/'g', '--chrom-sizes', 'chr1:2000000', **run)
    assert (dist['tmp']/'g'/'hic.cool').is_file()
