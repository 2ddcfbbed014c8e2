#!/usr/bin/env python
"""Render nbs/index.ipynb to README.md (and its pictures to images/), as nbdev_readme would with Quarto.

Usage: python .ci/make_readme.py          # write README.md
       python .ci/make_readme.py --check  # exit 1 if README.md is not what index.ipynb renders to
"""
import base64, sys, re
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]

def render(root:Path=ROOT):
    nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
    out, images = [], {}
    for cell in nb.cells:
        src = cell.source
        if cell.cell_type == 'markdown': out.append(src.strip()); continue
        flags = re.findall(r'^#\|\s*(.*)$', src, flags=re.M)
        if any(f.strip().startswith('hide') for f in flags): continue
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
        if not any(f.replace(' ', '') == 'echo:false' for f in flags) and code: out.append(f"```python\n{code}\n```")
        for o in cell.get('outputs', []):
            data = o.get('data', {})
            if 'image/png' in data:
                name = f"images/index_{len(images)}.png"; images[name] = base64.b64decode(data['image/png'])
                out.append(f"![]({name})")
            elif o.get('output_type') == 'stream': out.append(f"```\n{o['text'].rstrip()}\n```")
            elif 'text/plain' in data: out.append(f"```\n{data['text/plain'].rstrip()}\n```")
    return '\n\n'.join(out) + '\n', images

if __name__ == '__main__':
    text, images = render()
    if '--check' in sys.argv:
        ok = (ROOT/'README.md').exists() and (ROOT/'README.md').read_text() == text
        print('README.md is in step with nbs/index.ipynb' if ok else 'README.md differs from nbs/index.ipynb: run python .ci/make_readme.py')
        sys.exit(0 if ok else 1)
    (ROOT/'images').mkdir(exist_ok=True)
    for name, data in images.items(): (ROOT/name).write_bytes(data)
    (ROOT/'README.md').write_text(text)
    print(f"wrote README.md and {len(images)} picture(s)")
