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

def _site_dirs()->list:
    "The running interpreter's package folders (a venv's own when tests run in one, not the base Python's)."
    return [p for p in dict.fromkeys(sys.path) if Path(p).name in ('site-packages', 'dist-packages') and Path(p).is_dir()]

def _venv_reusing_packages(venv:Path)->Path:
    "Make a bare venv at `venv` that also sees the running environment's packages; return its site-packages folder."
    sh(sys.executable, '-m', 'venv', venv)                            # no --system-site-packages: inside a venv it reaches the base Python
    site = Path(sh(venv/'bin'/'python', '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout.strip())
    # plain folder lines (not `import site; site.addsitedir`): their .pth files, e.g. an editable mixhic, stay unread
    (site/'_running_env.pth').write_text('\n'.join(_site_dirs()) + '\n')
    return site

def test_venv_sees_running_packages_not_editable_mixhic(tmp_path):
    "The test venv imports pandas from the running environment but not the repository's (editable) mixhic."
    venv = tmp_path/'venv'
    _venv_reusing_packages(venv)
    code = 'import pandas, importlib.util as u; print(pandas.__file__); print(u.find_spec("mixhic"))'
    out = sh(venv/'bin'/'python', '-c', code, cwd=tmp_path).stdout.split('\n')
    assert Path(out[0]).parent.parent.as_posix() in [Path(p).as_posix() for p in _site_dirs()], out
    assert out[1] == 'None', f'the repository mixhic leaks into the test venv: {out[1]}'

@pytest.mark.slow
def test_wheel_installs_and_runs(dist):
    "A fresh venv (reusing the installed heavy packages) gets the wheel alone; its `mixhic` runs from the venv."
    venv = dist['tmp']/'venv'
    _venv_reusing_packages(venv)
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

def _requirement(name:str)->str:
    "The requirement on `name` in settings.ini's runtime `requirements`."
    from configparser import ConfigParser
    cfg = ConfigParser(delimiters=['=']); cfg.read(REPO/'settings.ini')
    from packaging.requirements import Requirement
    reqs = [r for r in cfg['DEFAULT']['requirements'].split() if Requirement(r).name == name]
    assert len(reqs) == 1, f'settings.ini lists {name} {len(reqs)} times'
    return reqs[0]

def test_fastai_bounded_to_the_tested_range():
    "mixhic patches a fastai internal, so the runtime requirement has an upper bound, and the installed fastai is in it."
    from packaging.requirements import Requirement
    from importlib.metadata import version
    req = Requirement(_requirement('fastai'))
    assert any(s.operator in ('<', '<=') for s in req.specifier), f'{req} has no upper bound'
    assert req.specifier.contains(version('fastai')), f'installed fastai {version("fastai")} is outside {req}'

def test_fastai_patch_target_exists():
    "`train._patch_distributed_dl` replaces `DistributedDL._broadcast(self, t, rank)`: unpatched fastai defines and calls it."
    code = ("import inspect; from fastai.distributed import DistributedDL as D; "
            "assert '_broadcast' in vars(D), 'no DistributedDL._broadcast'; "
            "assert list(inspect.signature(D._broadcast).parameters) == ['self', 't', 'rank'], inspect.signature(D._broadcast); "
            "assert 'self._broadcast(' in inspect.getsource(D), 'DistributedDL no longer calls _broadcast'")
    sh(sys.executable, '-c', code)                                    # a fresh process: fastai as installed, not patched
    from mixhic.train import _patch_distributed_dl
    from fastai.distributed import DistributedDL
    _patch_distributed_dl()
    assert DistributedDL._mixhic and DistributedDL._broadcast.__module__ == 'mixhic.train'
