"""Releasing a model (mixhic.release, `mixhic export`): a model folder predicts what its checkpoint predicts, serves as
a pre-trained start, and loads by Hugging Face Hub id from a local cache, offline; nothing is uploaded or downloaded."""
import json, os, shutil
import numpy as np, pandas as pd, pytest, torch
from helpers import run_cli
from mixhic.store import build_store

SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2']

@pytest.fixture(scope='module')
def loops_run(synth, tmp_path_factory):
    d = tmp_path_factory.mktemp('rel')
    st = build_store(synth['hic'], None, d/'hic.mixhic', loops=synth['loops'], progress=False)
    r = run_cli(['finetune', st, '--task', 'loops', '--variant', 'hic', '--epochs', 1, *SPLIT, '--out', d/'run'])
    assert r.returncode == 0, r.stderr
    return st, d/'run'

def fake_hub(folder, root, repo='me/mixhic-loops'):
    "Put model `folder` into a Hugging Face cache at `root` as the main revision of `repo` (the cache's own layout)."
    base = root/f"models--{repo.replace('/', '--')}"
    sha = 'a' * 40
    shutil.copytree(folder, base/'snapshots'/sha)
    (base/'refs').mkdir(parents=True)
    (base/'refs'/'main').write_text(sha)
    return repo

def test_exported_model_predicts_the_same(loops_run, tmp_path):
    st, run = loops_run
    r = run_cli(['export', run/'best.pt', '--out', tmp_path/'model'])
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path/'model').iterdir()) == ['README.md', 'config.json', 'model.safetensors']
    card = (tmp_path/'model'/'README.md').read_text()
    assert card.startswith('---\nlibrary_name: mixhic') and '## Metrics' in card and 'f1_1' in card
    assert str(run.parent) not in card + (tmp_path/'model'/'config.json').read_text()      # no private paths
    outs = {}
    for name, model in (('ckpt', run/'best.pt'), ('folder', tmp_path/'model')):
        r = run_cli(['predict', 'loops', st, '--model', model, '--out', tmp_path/f'{name}.bedpe', '--chroms', 'chr2'])
        assert r.returncode == 0, r.stderr
        outs[name] = pd.read_csv(tmp_path/f'{name}.bedpe', sep='\t', header=None)
    pd.testing.assert_frame_equal(outs['ckpt'], outs['folder'])
    assert len(outs['ckpt']) > 0
    # and by Hub id, from the local cache, offline
    repo = fake_hub(tmp_path/'model', tmp_path/'hub')
    env = {'HF_HUB_CACHE': str(tmp_path/'hub'), 'HF_HUB_OFFLINE': '1'}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        r = run_cli(['predict', 'loops', st, '--model', repo, '--out', tmp_path/'hub.bedpe', '--chroms', 'chr2'])
        assert r.returncode == 0, r.stderr
        pd.testing.assert_frame_equal(outs['ckpt'], pd.read_csv(tmp_path/'hub.bedpe', sep='\t', header=None))
        r = run_cli(['predict', 'loops', st, '--model', 'me/not-there', '--out', tmp_path/'x.bedpe'])
        assert r.returncode == 1 and 'not found in the local Hugging Face cache' in r.stderr
        assert not (tmp_path/'x.bedpe').exists()
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v

def test_export_refuses(loops_run, tmp_path):
    st, run = loops_run
    assert run_cli(['export', run/'best.pt', '--out', tmp_path/'m']).returncode == 0
    r = run_cli(['export', run/'best.pt', '--out', tmp_path/'m'])
    assert r.returncode == 1 and '--force' in r.stderr
    assert run_cli(['export', run/'best.pt', '--out', tmp_path/'m', '--force']).returncode == 0
    r = run_cli(['export', run/'best.pt', '--out', run])                    # the run folder holds the input
    assert r.returncode == 1 and 'its own input' in r.stderr and (run/'best.pt').exists()
    (tmp_path/'notes').mkdir(); (tmp_path/'notes'/'a.txt').write_text('mine')
    r = run_cli(['export', run/'best.pt', '--out', tmp_path/'notes', '--force'])
    assert r.returncode == 1 and 'not a mixhic model folder' in r.stderr and (tmp_path/'notes'/'a.txt').exists()

def test_pretrained_folder_as_a_start(synth_store, tmp_path):
    "A released pre-training model is a --pretrained start like its checkpoint: the same weights go in."
    from mixhic.pretrain import pretrain, PretrainCfg
    from mixhic.data import Split
    from mixhic.release import export_model
    from mixhic.finetune import build_task_model, FinetuneCfg
    pretrain(synth_store, tmp_path/'pre', PretrainCfg(epochs=1, bs=8), Split(by='chrom', train=('chr1',), valid=('chr2',), test=()),
             plot=False, device='cpu')
    export_model(tmp_path/'pre'/'last.pt', tmp_path/'pre-model')
    cfg = FinetuneCfg('loop_windows', 'infer_tracks')
    a, ra = build_task_model(cfg, 2, tmp_path/'pre'/'last.pt')
    b, rb = build_task_model(cfg, 2, tmp_path/'pre-model')
    assert sorted(ra['loaded']) == sorted(rb['loaded']) and len(ra['loaded']) > 20
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    r = run_cli(['embed', synth_store, tmp_path/'pre-model', '--out', tmp_path/'e.npz'])
    assert r.returncode == 0, r.stderr
    # the looking-inside commands read the folder as any checkpoint
    r = run_cli(['embedding', tmp_path/'e.npz', '--color', 'chrom', '--out', tmp_path/'emb.png'])
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'emb.png').stat().st_size > 5000
    r = run_cli(['attention', synth_store, '--model', tmp_path/'pre-model', '--window', 'chr1:500,000', '--out', tmp_path/'att.png'])
    assert r.returncode == 0, r.stderr
    assert 'hic_enc.stages.0.0.attn' in r.stdout and (tmp_path/'att.png').stat().st_size > 5000
    r = run_cli(['attention', synth_store, '--model', tmp_path/'pre-model', '--window', 'chr9:0', '--out', tmp_path/'x.png'])
    assert r.returncode == 1 and "no chromosome 'chr9'" in r.stderr and not (tmp_path/'x.png').exists()

def test_attention_of_a_loop_caller(loops_run, tmp_path):
    "A task model whose head reads extra Hi-C channels (loop calling): its encoder's attention is drawn."
    st, run = loops_run
    r = run_cli(['attention', st, '--model', run/'best.pt', '--window', 'chr2:100000', '--out', tmp_path/'a.png'])
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'a.png').stat().st_size > 5000
