"README.md is rendered from nbs/index.ipynb, its Python runs as printed, and CI runs the README's own test command."
import json, os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def _commands(text):
    return [l.strip() for l in re.findall(r"```sh\n(.*?)```", text, flags=re.S) for l in l.splitlines() if l.strip()]

def test_readme_in_step_with_index():
    r = subprocess.run([sys.executable, str(ROOT/'.ci'/'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

def test_readme_opens_with_picture_and_two_setup_commands():
    text = (ROOT/'README.md').read_text()
    head = text[:text.index('## Install and run')]
    assert '![](images/' in head and (ROOT/'images'/'index_0.png').exists()
    cmds = _commands(text[text.index('## Install and run'):text.index('## Your own data')])
    assert len(cmds) == 2
    main, test = cmds
    for step in ('pip install -e .', 'mixhic demo', 'torch==2.13.0'): assert step in main
    assert 'nbdev_test' in test and 'pytest tests' in test

def _run_part(cmd:str)->str:
    "The part of the README's test command after its install steps: what CI must run word for word."
    steps = cmd.split(' && ')
    return ' && '.join(steps[max(i for i, s in enumerate(steps) if ' install ' in f' {s} ') + 1:])

def test_ci_runs_the_readme_test_command():
    text = (ROOT/'README.md').read_text()
    test = _commands(text[text.index('## Install and run'):text.index('## Your own data')])[1]
    run_part = _run_part(test)
    assert run_part.startswith('OMP_NUM_THREADS=1 nbdev_test'), f'the notebooks run with one thread per process: {run_part}'
    ci = (ROOT/'.ci'/'run').read_text()
    assert run_part in ci, f"CI does not run the README's test command: {run_part}"
    assert 'torch==2.13.0 torchvision==0.28.0' in ci and 'pip install -q -e ".[dev]"' in ci

def test_readme_installs_the_cpu_torch_build():
    "Elsewhere than this workspace, a plain `pip install torch` on Linux brings the CUDA build: the CPU lines name the CPU index."
    text = (ROOT/'README.md').read_text()
    install = text[text.index('## Install and run'):text.index('## Your own data')]
    for cmd in _commands(install): assert 'torch==2.13.0 torchvision==0.28.0 --index-url https://download.pytorch.org/whl/cpu' in cmd, cmd
    assert 'On a GPU machine' in install and 'pip install -e ".[hic]"' in install

# the README's Python blocks, run as a reader would paste them: in order, in one fresh interpreter, in an empty folder;
# where the README shows a block's value, the block's last expression must give exactly that
_DRIVER = """
import ast, json, sys
blocks, outs, ns = json.load(open(sys.argv[1])), [], {'__name__': '__main__'}
for code in blocks:
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, '<README.md>', 'exec'), ns)
    outs.append(repr(eval(compile(ast.Expression(last.value), '<README.md>', 'eval'), ns)) if last else None)
json.dump(outs, open(sys.argv[2], 'w'))
"""

def _python_blocks(text:str)->list:
    "[(code, shown output or None)] for each ```python block of `text`, with the plain block printed right after it."
    return re.findall(r"```python\n(.*?)\n```(?:\n\n```\n(.*?)\n```)?", text, flags=re.S)

def test_python_blocks_found():
    blocks = _python_blocks((ROOT/'README.md').read_text())
    assert len(blocks) >= 2 and all(out for _, out in blocks)
    assert _python_blocks("```python\nx = 1\n```\n\n```python\nx\n```\n\n```\n1\n```") == [('x = 1', ''), ('x', '1')]

@pytest.mark.slow
def test_readme_python_runs_as_printed(tmp_path):
    "Every ```python block of the README, in order, in a fresh process and an empty folder (offline, one thread)."
    blocks = _python_blocks((ROOT/'README.md').read_text())
    (tmp_path/'blocks.json').write_text(json.dumps([code for code, _ in blocks]))
    (tmp_path/'driver.py').write_text(_DRIVER)
    work = tmp_path/'work'; work.mkdir()
    env = {**os.environ, 'MIXHIC_OFFLINE': '1', 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg', 'MIXHIC_DATA': str(tmp_path/'cache'),
           'PYTHONPATH': ''}                                          # mixhic as installed, not imported from a source folder
    r = subprocess.run([sys.executable, str(tmp_path/'driver.py'), str(tmp_path/'blocks.json'), str(tmp_path/'outs.json')],
                       cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"a README Python block failed:\n{r.stderr[-3000:]}"
    outs = json.loads((tmp_path/'outs.json').read_text())
    for (code, shown), got in zip(blocks, outs):
        if shown: assert got == shown, f"the README shows {shown} after\n{code}\nbut it gives {got}"

def _docs_step()->str:
    "The docs step of .ci/run: from its `== docs` echo to the `== tests` echo."
    ci = (ROOT/'.ci'/'run').read_text()
    return ci[ci.index('echo "== docs'):ci.index('echo "== tests')]

@pytest.mark.parametrize('broken', [False, True])
def test_ci_docs_step_fails_on_a_notebook_that_does_not_render(tmp_path, broken):
    "CI's nbconvert step, run as CI runs it (`set -euo pipefail`) on three notebooks: it fails when one cannot render."
    import nbformat
    for d, name in (('nbs', 'a'), ('nbs/tutorials', 'b'), ('nbs/course', 'c')):
        (tmp_path/d).mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f'# {name}')]), tmp_path/d/f'{name}.ipynb')
    if broken: (tmp_path/'nbs'/'course'/'d.ipynb').write_text('{"cells": [')
    env = {**os.environ, 'PATH': f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run(['bash', '-c', 'set -euo pipefail\n' + _docs_step()], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    if broken: assert r.returncode != 0 and 'failed to render' in r.stdout, r.stdout + r.stderr
    else: assert r.returncode == 0 and len(list((tmp_path/'_html').glob('*.html'))) == 3, r.stdout + r.stderr
