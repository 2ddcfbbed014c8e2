"README.md is rendered from nbs/index.ipynb, and CI runs the README's own test command."
import re, subprocess, sys
from pathlib import Path

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

def test_ci_runs_the_readme_test_command():
    text = (ROOT/'README.md').read_text()
    test = _commands(text[text.index('## Install and run'):text.index('## Your own data')])[1]
    run_part = test[test.index('nbdev_test'):]          # the part after installing
    ci = (ROOT/'.ci'/'run').read_text()
    assert run_part in ci, f"CI does not run the README's test command: {run_part}"
    assert 'torch==2.13.0 torchvision==0.28.0' in ci and 'pip install -q -e ".[dev]"' in ci
