"""`mixhic pretrain`, `mixhic embed` and `mixhic demo` as a user runs them: files written, resume, clear errors."""
import csv, sys, subprocess
import numpy as np, pytest, torch
from helpers import run_cli

SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2']

def test_pretrain_embed_resume(synth_store, tmp_path):
    run = tmp_path/'run'
    r = run_cli(['pretrain', synth_store, '--epochs', 1, '--bs', 8, '--out', run, *SPLIT])
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in run.iterdir()) == ['best.pt', 'history.csv', 'last.pt', 'loss.png']
    ck = torch.load(run/'last.pt', map_location='cpu', weights_only=True)
    assert ck['epoch'] == 1 and ck['train_cfg']['bs'] == 8 and list(ck['split']['valid']) == ['chr2']
    # the same command again would overwrite the run: refused, naming --resume
    r = run_cli(['pretrain', synth_store, '--epochs', 1, '--bs', 8, '--out', run, *SPLIT])
    assert r.returncode == 1 and '--resume' in r.stderr and len(r.stderr.strip().splitlines()) == 1
    # resuming with other settings is refused, naming them; with the same settings it goes on to epoch 2
    r = run_cli(['pretrain', synth_store, '--epochs', 2, '--bs', 16, '--out', run, '--resume', *SPLIT])
    assert r.returncode == 1 and 'bs: 8 -> 16' in r.stderr
    r = run_cli(['pretrain', synth_store, '--epochs', 2, '--bs', 8, '--out', run, '--resume', *SPLIT])
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(run/'history.csv')))
    assert [int(x['epoch']) for x in rows] == [1, 2] and all(0 <= float(x['top1_trk2hic']) <= 1 for x in rows)
    # embeddings of every kept diagonal window
    out = tmp_path/'emb.npz'
    r = run_cli(['embed', synth_store, run/'last.pt', '--out', out, '--device', 'cpu'])
    assert r.returncode == 0, r.stderr
    e = np.load(out)
    n = len(e['chrom'])
    assert n > 50 and {e[k].shape for k in ('I_E', 'S_E', 'I_M', 'S_M')} == {(n, 64)}
    assert np.allclose(np.linalg.norm(e['I_E'], axis=1), 1, atol=1e-4)
    assert set(e['split']) <= {'train', 'valid', ''} and (e['end'] - e['start'] == 50 * 5000).all()

def test_pretrain_errors(synth_store, tmp_path):
    r = run_cli(['pretrain', tmp_path/'nope.mixhic', '--out', tmp_path/'r'])
    assert r.returncode == 1 and 'nope.mixhic' in r.stderr
    r = run_cli(['pretrain', synth_store, '--bs', 1, '--out', tmp_path/'r', *SPLIT])
    assert r.returncode == 1 and 'bs must be at least 2' in r.stderr
    r = run_cli(['embed', synth_store, tmp_path/'missing.pt', '--out', tmp_path/'e.npz'])
    assert r.returncode == 1 and 'missing.pt' in r.stderr
    (tmp_path/'junk.pt').write_bytes(b'not a checkpoint')
    r = run_cli(['embed', synth_store, tmp_path/'junk.pt', '--out', tmp_path/'e.npz'])
    assert r.returncode == 1 and 'junk.pt' in r.stderr and not (tmp_path/'e.npz').exists()

def test_device_flag(synth_store, tmp_path):
    "Every command that runs a model takes --device (the others do not); a device that is no device is refused first."
    from mixhic.cli import parser, _all_parsers
    have = {q.prog.removeprefix('mixhic ') for q in _all_parsers(parser())
            if any('--device' in a.option_strings for a in q._actions)}
    assert {'pretrain', 'embed', 'finetune', 'evaluate', 'ablate', 'perturb', 'robust', 'demo', 'predict maps',
            'predict loops', 'predict expression'} <= have, have
    assert not have & {'mixhic', 'synth', 'build', 'info', 'merge', 'plot', 'predict'}
    r = run_cli(['embed', synth_store, tmp_path/'missing.pt', '--out', tmp_path/'e.npz', '--device', 'tpu'])
    assert r.returncode == 1 and "device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'tpu'" in r.stderr
    assert 'missing.pt' not in r.stderr and not (tmp_path/'e.npz').exists()   # checked before the checkpoint is read
    if not torch.cuda.is_available():
        r = run_cli(['finetune', synth_store, '--task', 'maps', '--out', tmp_path/'ft', '--device', 'cuda'])
        assert r.returncode == 1 and 'sees no CUDA GPU' in r.stderr and not (tmp_path/'ft').exists()
    # bf16 on the CPU, asked for: trains, and its metrics are numbers
    r = run_cli(['finetune', synth_store, '--task', 'loop_windows', '--epochs', 1, '--bs', 16, '--device', 'cpu',
                 '--precision', 'bf16', '--out', tmp_path/'bf', *SPLIT])
    assert r.returncode == 0, r.stderr
    import json
    m = json.loads((tmp_path/'bf'/'metrics.json').read_text())['valid/mixhic']
    assert 0 <= m['auroc'] <= 1

def test_python_m_mixhic():
    r = subprocess.run([sys.executable, '-m', 'mixhic', 'pretrain', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--resume' in r.stdout

def test_demo_short(tmp_path):
    "The README's main job with one epoch: store, run, figure and the summary against chance."
    r = run_cli(['demo', '--out', tmp_path/'demo', '--epochs', 1], timeout=600)
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'demo'/'demo.png').stat().st_size > 10_000 and (tmp_path/'demo'/'run'/'last.pt').exists()
    assert 'Held-out chr3' in r.stdout and 'chance' in r.stdout

def test_block_order_flag():
    "--block-order reaches the Split (another fold of a block split); a bad order is refused naming the three blocks."
    from mixhic.cli import parser, _split
    a = parser().parse_args(['pretrain', 'x.mixhic', '--out', 'r', '--split', 'block', '--block-order', 'test, valid,train'])
    s = _split(a)
    assert s.by == 'block' and s.block_order == ('test', 'valid', 'train')
    assert _split(parser().parse_args(['evaluate', 'x.mixhic', '--model', 'm.pt', '--out', 'o'])) is None   # the checkpoint's split
    a = parser().parse_args(['pretrain', 'x.mixhic', '--out', 'r', '--block-order', 'train,test,train'])
    with pytest.raises(ValueError, match="'train', 'valid' and 'test' once each"): _split(a)

def test_recipe_paper(synth_store, tmp_path):
    "--recipe paper sets every paper setting the flags left at mixhic's default; a flag given by hand wins."
    from mixhic.pretrain import PAPER_PRETRAIN
    from mixhic.finetune import PAPER_FINETUNE
    r = run_cli(['pretrain', synth_store, '--epochs', 1, '--bs', 8, '--out', tmp_path/'pre', '--recipe', 'paper',
                 '--map-dist', 'l2', *SPLIT])
    assert r.returncode == 0, r.stderr
    tc = torch.load(tmp_path/'pre'/'last.pt', weights_only=True)['train_cfg']
    assert {k: tc[k] for k in PAPER_PRETRAIN if k != 'map_dist'} == {k: v for k, v in PAPER_PRETRAIN.items() if k != 'map_dist'}
    assert tc['map_dist'] == 'l2'
    ck = torch.load(tmp_path/'pre'/'last.pt', weights_only=True)
    assert ck['model_cfg']['pos_enc'] is False and ck['model_cfg']['hic_norm'] == 'none'
    r = run_cli(['finetune', synth_store, '--task', 'loop_windows', '--variant', 'hic', '--epochs', 1, '--bs', 16,
                 '--recipe', 'paper', '--out', tmp_path/'ft', *SPLIT])
    assert r.returncode == 0, r.stderr
    ck = torch.load(tmp_path/'ft'/'best.pt', weights_only=True)
    assert {k: ck['model_cfg'][k] for k in ('pos_enc', 'hic_norm', 'fusion_link', 'fusion_single')} == \
           {k: PAPER_FINETUNE[k] for k in ('pos_enc', 'hic_norm', 'fusion_link', 'fusion_single')}
    assert not any(k.startswith('fusion.') for k in ck['model'])      # the reference's Hi-C-only model: no fusion blocks
    assert ck['train_cfg']['beta2'] == 0.999
