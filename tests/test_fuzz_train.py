"""Bad inputs to the training engine (issue 17): each case ends in one clear error, and nothing good is overwritten.

- a store holding non-finite values: pre-training and fine-tuning stop at the first non-finite loss, naming the
  batch's windows, and the last good checkpoint stays as it was;
- an unusable run folder (a file, a path under a file, a folder of other files) is refused before any work;
- a model used on a store of another bin size or Hi-C transform is refused; `--resume` on a store rebuilt in place
  from other inputs is refused (the store's fingerprint, not its path, is compared);
- `embed` with a fine-tuned checkpoint says it needs a pre-training one;
- logs: with standard output and error not terminals, one plain line per epoch, none with --quiet.
"""
from __future__ import annotations
import shutil
from pathlib import Path
import numpy as np, pytest, torch
from helpers import run_cli, write_cool
from mixhic.data import Split
from mixhic.store import Store, build_store
from mixhic.train import NonFiniteError, load_checkpoint, save_checkpoint

SPLIT = Split(by='chrom', train=('chr1',), valid=('chr2',), test=())
CLI_SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2']

def pcfg(epochs:int=1, bs:int=8):
    from mixhic.pretrain import PretrainCfg
    return PretrainCfg(epochs=epochs, bs=bs, seed=1)

def copy_store(src, dst)->Path:
    shutil.copytree(src, dst)
    return Path(dst)

def poison(store:Path, chrom:str, bins:slice|None=None, value=np.inf):
    "Write `value` into the stored tracks of `chrom` (track bins of Hi-C bins `bins`; default all), as a damaged build would."
    st = Store(store)
    k = st.cfg.trk_per_bin
    t = np.load(store/'chroms'/chrom/'tracks.npy', mmap_mode='r+')
    t[slice(None) if bins is None else slice(bins.start * k, bins.stop * k)] = value
    t.flush()

@pytest.fixture(scope='module')
def pre_ckpt(synth_store, tmp_path_factory)->Path:
    "A one-epoch pre-training checkpoint of the tiny model on the synthetic store (5 kb, log1p, balanced)."
    from mixhic.pretrain import pretrain
    out = tmp_path_factory.mktemp('fuzz_pre')/'run'
    pretrain(synth_store, out, pcfg(), SPLIT, plot=False, device='cpu')
    return out/'last.pt'

@pytest.fixture(scope='module')
def task_ckpt(synth_store, tmp_path_factory)->Path:
    "A one-epoch fine-tuned loop-window model on the synthetic store."
    from mixhic.finetune import finetune, FinetuneCfg
    out = tmp_path_factory.mktemp('fuzz_ft')/'run'
    finetune(synth_store, out, FinetuneCfg('loop_windows', 'hic', epochs=1, bs=16), SPLIT, plot=False, device='cpu')
    return out/'best.pt'

# ---------------------------------------------------------------------------------------------------------------
# non-finite values

def test_pretrain_stops_at_non_finite_loss_and_keeps_last_good_checkpoint(synth_store, tmp_path):
    from mixhic.pretrain import pretrain
    st = copy_store(synth_store, tmp_path/'st.mixhic')
    run = tmp_path/'run'
    pretrain(st, run, pcfg(1), SPLIT, plot=False, device='cpu')
    good = (run/'last.pt').read_bytes()
    poison(st, 'chr1', slice(200, 260))                          # some training windows hold inf (as 1e38 in float16)
    with pytest.raises(NonFiniteError, match=r'non-finite inputs.*st\.mixhic chr1:') as e:
        pretrain(st, run, pcfg(2), SPLIT, resume=True, plot=False, device='cpu')
    assert 'epoch 2' in str(e.value) and isinstance(e.value, ValueError)
    assert (run/'last.pt').read_bytes() == good                  # the last finite epoch is kept, no NaN over it
    ck = load_checkpoint(run/'last.pt')
    assert ck['epoch'] == 1 and all(torch.isfinite(v).all() for v in ck.state.values() if v.is_floating_point())

def test_pretrain_non_finite_from_the_first_batch_writes_nothing(synth_store, tmp_path):
    from mixhic.pretrain import pretrain
    st = copy_store(synth_store, tmp_path/'st.mixhic')
    poison(st, 'chr1')
    with pytest.raises(NonFiniteError, match='epoch 1, batch 1'):
        pretrain(st, tmp_path/'run', pcfg(2), SPLIT, plot=False, device='cpu')
    assert not (tmp_path/'run'/'last.pt').exists()

def test_finetune_stops_at_non_finite_loss(synth_store, tmp_path):
    from mixhic.finetune import finetune, FinetuneCfg
    st = copy_store(synth_store, tmp_path/'st.mixhic')
    poison(st, 'chr1')
    with pytest.raises(NonFiniteError, match=r'training loss is nan.*windows hold non-finite inputs.*st\.mixhic chr1:'):
        finetune(st, tmp_path/'run', FinetuneCfg('loop_windows', 'bimodal', epochs=2, bs=16), SPLIT, plot=False, device='cpu')
    assert not (tmp_path/'run'/'last.pt').exists() and not (tmp_path/'run'/'best.pt').exists()

def test_non_finite_validation_names_validation(synth_store, tmp_path):
    from mixhic.finetune import finetune, FinetuneCfg
    st = copy_store(synth_store, tmp_path/'st.mixhic')
    poison(st, 'chr2', value=np.nan)
    with pytest.raises(NonFiniteError, match=r'validation loss is nan.*st\.mixhic chr2:'):
        finetune(st, tmp_path/'run', FinetuneCfg('expr', 'tracks', epochs=1, bs=16), SPLIT, plot=False, device='cpu')

def test_cli_non_finite_is_one_line(synth_store, tmp_path):
    st = copy_store(synth_store, tmp_path/'st.mixhic')
    poison(st, 'chr1')
    r = run_cli(['pretrain', st, '--out', tmp_path/'run', '--epochs', 1, '--bs', 8, *CLI_SPLIT])
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    assert 'mixhic pretrain: error: training loss is nan' in r.stderr and 'st.mixhic chr1:' in r.stderr

# ---------------------------------------------------------------------------------------------------------------
# unusable run folders: refused before the store is even opened

@pytest.mark.parametrize('how', ['file', 'under_file', 'other_files'])
@pytest.mark.parametrize('what', ['pretrain', 'finetune'])
def test_unusable_out_refused_before_work(tmp_path, how, what):
    from mixhic.pretrain import pretrain
    from mixhic.finetune import finetune, FinetuneCfg
    (tmp_path/'genes.tsv').write_text('chrom\ttss\nchr1\t100\n')
    (tmp_path/'data').mkdir(); (tmp_path/'data'/'K562.cool').write_text('x')
    out, msg = {'file': (tmp_path/'genes.tsv', 'genes.tsv is a file'),
                'under_file': (tmp_path/'genes.tsv'/'run', 'genes.tsv is a file'),
                'other_files': (tmp_path/'data', 'K562.cool')}[how]
    run = (lambda: pretrain(tmp_path/'missing.mixhic', out)) if what == 'pretrain' else \
          (lambda: finetune(tmp_path/'missing.mixhic', out, FinetuneCfg('loop_windows')))
    with pytest.raises(ValueError, match=msg): run()             # not FileNotFoundError for the store: out comes first
    assert (tmp_path/'genes.tsv').read_text() == 'chrom\ttss\nchr1\t100\n'
    assert sorted(p.name for p in (tmp_path/'data').iterdir()) == ['K562.cool']

@pytest.mark.parametrize('cmd', ['pretrain', 'finetune'])
def test_cli_unusable_out_is_one_line(synth_store, tmp_path, cmd):
    (tmp_path/'genes.tsv').write_text('chrom\ttss\n')
    for out in (tmp_path/'genes.tsv', tmp_path/'genes.tsv'/'run'):
        task = ['--task', 'loop_windows'] if cmd == 'finetune' else []
        r = run_cli([cmd, synth_store, *task, '--out', out, '--epochs', 1, *CLI_SPLIT])
        assert r.returncode == 1 and 'Traceback' not in r.stderr and 'genes.tsv is a file' in r.stderr, r.stderr[-2000:]
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr

# ---------------------------------------------------------------------------------------------------------------
# a model on a store of another kind; resume on a rebuilt store

@pytest.fixture(scope='module')
def other_stores(tiny, tmp_path_factory)->dict:
    "Stores of the tiny inputs that differ from the synthetic store's: 10-kb bins, and O/E values at 5 kb."
    d = tmp_path_factory.mktemp('other')
    trk = {'atac': tiny['atac'], 'dnase': tiny['dnase']}
    cool10 = write_cool(d/'tiny10.cool', tiny['sizes'], res=10_000)
    return {'10kb': build_store(cool10, trk, d/'s10.mixhic', progress=False),
            'oe': build_store(tiny['cool'], trk, d/'oe.mixhic', transform='oe', progress=False)}

@pytest.mark.parametrize('kind,msg', [('10kb', r'res 5000 \(model\) vs 10000 \(store\)'), ('oe', r"transform 'log1p' \(model\) vs 'oe'")])
def test_model_refuses_a_store_of_another_kind(pre_ckpt, task_ckpt, other_stores, kind, msg):
    from mixhic.pretrain import embed
    from mixhic.finetune import evaluate
    st = other_stores[kind]
    with pytest.raises(ValueError, match=msg): embed(st, pre_ckpt)
    with pytest.raises(ValueError, match=msg): evaluate(st, task_ckpt, 'valid', SPLIT)
    r = run_cli(['embed', st, pre_ckpt, '--out', Path(st).parent/f'{kind}.npz'])
    assert r.returncode == 1 and 'Traceback' not in r.stderr and 'trained on other Hi-C' in r.stderr

@pytest.mark.parametrize('kind,msg', [('10kb', 'res 5000 (model) vs 10000 (store)'), ('oe', "transform 'log1p' (model) vs 'oe'")])
def test_predict_loops_refuses_a_store_of_another_kind(task_ckpt, other_stores, tmp_path, capsys, kind, msg):
    "`mixhic predict loops` with a 5-kb log1p loop model on a 10-kb or O/E store: one line, nothing written."
    from helpers import main_in_process
    rc, _, err = main_in_process(['predict', 'loops', other_stores[kind], '--model', task_ckpt,
                                  '--out', tmp_path/'x.bedpe'], capsys)
    assert rc == 1 and 'Traceback' not in err and 'trained on other Hi-C' in err and msg in err, err
    assert not (tmp_path/'x.bedpe').exists()

def test_predict_loops_refuses_a_hic_model_on_a_tracks_only_store(synth, task_ckpt, tmp_path, capsys):
    "A 'hic' loop model on a store built without Hi-C got zeros as Hi-C windows, exit 0; now refused, naming the variant."
    import cooler
    from helpers import main_in_process
    sizes = tmp_path/'synth.sizes'
    sizes.write_text(''.join(f"{c}\t{n}\n" for c, n in cooler.Cooler(str(synth['hic'])).chromsizes.items()))
    st = build_store(None, {'atac': synth['atac'], 'dnase': synth['dnase']}, tmp_path/'to.mixhic', res=5_000,
                     chromsizes=sizes, progress=False)
    rc, _, err = main_in_process(['predict', 'loops', st, '--model', task_ckpt, '--out', tmp_path/'x.bedpe'], capsys)
    assert rc == 1 and 'Traceback' not in err and "cannot predict with a 'hic' model on to.mixhic" in err, err
    assert not (tmp_path/'x.bedpe').exists()

def test_checkpoints_record_the_store_and_old_ones_still_load(pre_ckpt, task_ckpt, synth_store, tmp_path):
    from mixhic.pretrain import embed
    from mixhic.train import store_info
    for p in (pre_ckpt, task_ckpt):
        info = load_checkpoint(p)['store_info']
        assert info == [store_info(Store(synth_store))] and info[0]['res'] == 5_000 and info[0]['transform'] == 'log1p'
    old = dict(load_checkpoint(pre_ckpt)); del old['store_info']             # a checkpoint from before: no check
    save_checkpoint(old, tmp_path/'old.pt')
    assert len(embed(synth_store, tmp_path/'old.pt')['chrom']) > 0

def test_resume_refuses_a_store_rebuilt_from_other_inputs(tiny, tmp_path):
    from mixhic.pretrain import pretrain
    trk = {'atac': tiny['atac'], 'dnase': tiny['dnase']}
    st, run = tmp_path/'st.mixhic', tmp_path/'run'
    build_store(tiny['cool'], trk, st, progress=False)
    pretrain(st, run, pcfg(1, bs=4), SPLIT, plot=False, device='cpu')
    build_store(tiny['cool'], trk, st, progress=False)                      # the same inputs again: the same store
    pretrain(st, run, pcfg(2, bs=4), SPLIT, resume=True, plot=False, device='cpu')
    assert load_checkpoint(run/'last.pt')['epoch'] == 2
    other = write_cool(tmp_path/'other.cool', tiny['sizes'], seed=7)         # another map, the same path for the store
    build_store(other, trk, st, progress=False)
    before = (run/'last.pt').read_bytes()
    with pytest.raises(ValueError, match=r"cannot resume .*other data than the run's"):
        pretrain(st, run, pcfg(3, bs=4), SPLIT, resume=True, plot=False, device='cpu')
    assert (run/'last.pt').read_bytes() == before

def test_resume_follows_a_moved_store(tiny, tmp_path):
    "The fingerprint, not the path: the same store under another name resumes (into a folder the user added to)."
    from mixhic.pretrain import pretrain
    st = build_store(tiny['cool'], {'atac': tiny['atac'], 'dnase': tiny['dnase']}, tmp_path/'a.mixhic', progress=False)
    pretrain(st, tmp_path/'run', pcfg(1, bs=4), SPLIT, plot=False, device='cpu')
    moved = Path(shutil.move(st, tmp_path/'b.mixhic'))
    (tmp_path/'run'/'emb.npz').write_bytes(b'')                             # a run's folder may hold the user's files
    pretrain(moved, tmp_path/'run', pcfg(2, bs=4), SPLIT, resume=True, plot=False, device='cpu')
    assert load_checkpoint(tmp_path/'run'/'last.pt')['epoch'] == 2

# ---------------------------------------------------------------------------------------------------------------
# embed with a fine-tuned checkpoint; no advice to load unsafely

def test_embed_with_a_finetuned_checkpoint(synth_store, task_ckpt, tmp_path):
    from mixhic.pretrain import embed
    with pytest.raises(ValueError, match=r'fine-tuned loop_windows model .*need a pre-training checkpoint'):
        embed(synth_store, task_ckpt)
    r = run_cli(['embed', synth_store, task_ckpt, '--out', tmp_path/'e.npz'])
    assert r.returncode == 1 and 'Traceback' not in r.stderr and 'pre-training checkpoint' in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'e.npz').exists()

_ran = []
def _payload(): _ran.append(1); return {}
class _Evil:
    def __reduce__(self): return (_payload, ())

def test_pickle_payload_refused_without_unsafe_advice(pre_ckpt, synth_store, tmp_path):
    from mixhic.pretrain import embed
    ck = dict(load_checkpoint(pre_ckpt)); ck['extra'] = _Evil()
    torch.save(ck, tmp_path/'evil.pt')
    with pytest.raises(ValueError, match='pickled object') as e: embed(synth_store, tmp_path/'evil.pt')
    assert 'weights_only' not in str(e.value) and _ran == []
    r = run_cli(['embed', synth_store, tmp_path/'evil.pt', '--out', tmp_path/'e.npz'])
    assert r.returncode == 1 and 'weights_only' not in r.stderr and 'pickled object' in r.stderr

# ---------------------------------------------------------------------------------------------------------------
# logs

def test_logs_one_plain_line_per_epoch_when_not_a_terminal(synth_store, tmp_path):
    r = run_cli(['pretrain', synth_store, '--out', tmp_path/'run', '--epochs', 2, '--bs', 16, *CLI_SPLIT])
    assert r.returncode == 0, r.stderr[-2000:]
    both = r.stdout + r.stderr
    assert '\r' not in both and '█' not in both and '|---' not in both        # no bar redraws, no block characters
    lines = [l for l in r.stderr.splitlines() if ' epoch ' in f' {l}']
    assert [l.split(':')[1].strip() for l in lines] == ['epoch 1/2', 'epoch 2/2'], r.stderr
    assert all('train_loss' in l and 'valid_loss' in l and 'contrastive' in l for l in lines)
    r = run_cli(['-q', 'pretrain', synth_store, '--out', tmp_path/'quiet', '--epochs', 1, '--bs', 16, *CLI_SPLIT])
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'epoch' not in r.stderr and '\r' not in r.stdout + r.stderr and (tmp_path/'quiet'/'last.pt').exists()

def test_finetune_logs_one_line_per_epoch(synth_store, tmp_path):
    r = run_cli(['finetune', synth_store, '--task', 'loop_windows', '--variant', 'hic', '--epochs', 2, '--bs', 16,
                 '--out', tmp_path/'run', *CLI_SPLIT])
    assert r.returncode == 0, r.stderr[-2000:]
    assert '\r' not in r.stdout + r.stderr and '█' not in r.stdout + r.stderr
    assert len([l for l in r.stderr.splitlines() if l.startswith('mixhic: epoch ')]) == 2, r.stderr
