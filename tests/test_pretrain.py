"""Pre-training (`mixhic.pretrain`): resume reproduces an uninterrupted run exactly, checkpoints and their guards, losses.

Runs use the tiny preset on the session's small synthetic store (chr1 3 Mb for training, chr2 2 Mb for validation:
about 40 and 20 windows, so an epoch is about a second on one CPU thread). Distributed training is in test_ddp.py.
"""
from __future__ import annotations
import csv, math, shutil
from pathlib import Path
import numpy as np, pytest, torch
from mixhic.data import Split
from mixhic.layers import ModelCfg
from mixhic.model import MixHiCPretrain
from mixhic.pretrain import (PretrainCfg, pretrain, contrastive_loss, load_pretrain_model, retrieval_top1, mapping_loss,
                             overlap_mask, lr_schedule)
from mixhic.train import load_checkpoint, SaveRun

SPLIT = Split(by='chrom', train=('chr1',), valid=('chr2',), test=())

def cfg(epochs:int, bs:int=16)->PretrainCfg:
    # warmup=1: the first epoch is contrastive-only, so a resume must also come back with the right loss weights;
    # noise on the training tracks: a resume must also restore the random generators the noise is drawn from
    return PretrainCfg(preset='tiny', epochs=epochs, bs=bs, lr=1e-3, warmup=1, seed=3, noise_std=0.1)

@pytest.fixture(scope='module')
def run1(synth_store, tmp_path_factory)->Path:
    "A 1-epoch run folder (last.pt, best.pt, history.csv, loss.png). Read-only: tests copy it before resuming."
    out = tmp_path_factory.mktemp('pretrain')/'run1'
    pretrain(synth_store, out, cfg(1), SPLIT)
    return out

def same(a, b, where='')->list:
    "Paths where nested checkpoint values `a` and `b` differ (tensors by torch.equal, the rest by ==)."
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        ok = isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
        return [] if ok else [where]
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b): return [f'{where} keys {sorted(set(a) ^ set(b))}']
        return [d for k in a for d in same(a[k], b[k], f'{where}.{k}')]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b): return [f'{where} length {len(a)} != {len(b)}']
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in same(x, y, f'{where}[{i}]')]
    return [] if a == b else [f'{where}: {a!r} != {b!r}']

def history_rows(out:Path)->list[dict]:
    with open(out/'history.csv', newline='') as f: return list(csv.DictReader(f))

def test_resume_equals_uninterrupted(synth_store, run1, tmp_path):
    "2 epochs in one go == 1 epoch, then resume=True up to 2: same weights, optimiser state and history, bit for bit."
    full = pretrain(synth_store, tmp_path/'full', cfg(2), SPLIT, plot=False)
    part = tmp_path/'part'; shutil.copytree(run1, part)
    resumed = pretrain(synth_store, part, cfg(2), SPLIT, resume=True, plot=False)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert list(a) == list(b)
    assert not [k for k in a if not torch.equal(a[k], b[k])], 'weights differ after resuming'
    ca, cb = torch.load(tmp_path/'full'/'last.pt', weights_only=True), torch.load(part/'last.pt', weights_only=True)
    assert ca['epoch'] == cb['epoch'] == 2
    assert not same(ca['model'], cb['model'])
    assert ca['opt']['state'], 'last.pt holds no optimiser state'
    assert not same(ca['opt'], cb['opt']), same(ca['opt'], cb['opt'])[:5]
    assert not same(ca['rng'], cb['rng'])
    # the history agrees too, but for 'time': fastai's train_loss is a running average over batches, carried over in
    # the checkpoint, so the resumed run's epoch-2 value also averages epoch 1's batches, as the uninterrupted run's does
    keep = lambda h: [{k: v for k, v in r.items() if k != 'time'} for r in h]
    assert keep(ca['history']) == keep(cb['history'])
    assert [r['warmup'] for r in cb['history']] == [True, False]
    assert len(history_rows(part)) == 2
    # resuming a finished run does nothing and returns its weights
    again = pretrain(synth_store, part, cfg(2), SPLIT, resume=True, plot=False)
    assert not same(again.model.state_dict(), b)
    assert torch.load(part/'last.pt', weights_only=True)['epoch'] == 2

def test_refuses_to_overwrite_or_change_settings(synth_store, run1):
    before = (run1/'last.pt').read_bytes()
    with pytest.raises(ValueError, match='resume'):
        pretrain(synth_store, run1, cfg(2), SPLIT, plot=False)                  # a fresh run over an existing one
    with pytest.raises(ValueError, match=r'\bbs\b'):
        pretrain(synth_store, run1, cfg(2, bs=8), SPLIT, resume=True, plot=False)  # resuming with another batch size
    assert (run1/'last.pt').read_bytes() == before                              # and neither touched the run

def test_checkpoint_contents(run1):
    ck = torch.load(run1/'last.pt', map_location='cpu', weights_only=True)     # plain tensors and containers only
    assert {'model', 'opt', 'epoch', 'rng', 'model_cfg', 'train_cfg', 'history'} <= set(ck)
    assert ck['epoch'] == 1 and len(ck['history']) == 1
    assert ck['train_cfg']['bs'] == 16 and ck['train_cfg']['epochs'] == 1
    rows = history_rows(run1)
    assert len(rows) == 1 and int(rows[0]['epoch']) == 1                         # one row per epoch
    assert {'train_loss', 'valid_loss', 'contrastive', 'orthogonality', 'mapping', 'tau'} <= set(rows[0])
    assert math.isfinite(float(rows[0]['valid_loss']))
    assert (run1/'best.pt').exists() and (run1/'loss.png').stat().st_size > 0
    model, ck2 = load_pretrain_model(run1/'last.pt')                            # the weights rebuild the model
    assert isinstance(model, MixHiCPretrain) and not model.training
    assert not same(model.state_dict(), ck['model'])
    assert ModelCfg(**ck2['model_cfg']) == model.cfg

def test_retrieval_top1_perfect():
    # the contrastive loss at its limits (identical pairs, unrelated vectors) is in 11_pretrain
    assert retrieval_top1(torch.eye(4).numpy(), torch.eye(4).numpy()) == (1.0, 1.0)

def test_load_checkpoint_rejects_a_foreign_torch_file(tmp_path):
    # a missing file and a file torch cannot read are in 10a_train
    other = tmp_path/'other.pt'; torch.save({'weights': torch.zeros(2)}, other)   # a torch file, not ours
    with pytest.raises(ValueError, match='other.pt'): load_checkpoint(other)

def test_overlapping_windows_are_no_negatives():
    "Window 1 overlaps window 0 and looks more like window 0's Hi-C than 0's own: unmasked it wins, masked it is no candidate."
    h = torch.eye(4)[:, None].repeat(1, 3, 1)                                    # (4, 3 tokens, 4): one direction per window
    e = h.clone(); e[0, :, 1] = 1.2                                              # window 0's tracks lean towards window 1's Hi-C
    pos = torch.tensor([[0, 0, 0, 0], [0, 0, 12, 12], [0, 0, 100, 100], [0, 1, 0, 0]])   # 1 overlaps 0; 3 is on another chromosome
    m = overlap_mask(pos, pos, 0, 50)
    assert m.tolist() == [[False, True, False, False], [True, False, False, False], [False] * 4, [False] * 4]
    l0, t0, _ = contrastive_loss(e, h, torch.tensor(0.1))
    l1, t1, _ = contrastive_loss(e, h, torch.tensor(0.1), pos, 50)
    assert t0.item() == 0.75 and t1.item() == 1.0 and l1.item() < l0.item()
    # windows 50 bins apart touch no common bin: no mask
    assert not overlap_mask(torch.tensor([[0, 0, 0, 0], [0, 0, 50, 50]]), torch.tensor([[0, 0, 0, 0], [0, 0, 50, 50]]), 0, 50).any()

def test_mapping_loss_targets_get_no_gradient():
    g = torch.Generator().manual_seed(0)
    o = {k: torch.nn.functional.normalize(torch.randn(2, n, 8, generator=g), dim=-1).requires_grad_() for k, n in
         (('e2m', 9), ('M', 9), ('m2e', 12), ('E', 12))}
    mapping_loss(o).backward()
    assert o['M'].grad is None and o['E'].grad is None and o['e2m'].grad.abs().sum() > 0
    mapping_loss(o, detach=False).backward()
    assert o['M'].grad.abs().sum() > 0                                           # the paper's form: both sides move

def test_one_cycle_schedule_and_settings():
    (sch,) = lr_schedule(PretrainCfg(lr=1e-3, schedule='one_cycle'))
    f = sch.scheds['lr']
    assert abs(f(0.0) - 1e-3 / 25) < 1e-12 and abs(f(0.25) - 1e-3) < 1e-12 and f(1.0) < 1e-7   # up, peak, down
    assert lr_schedule(PretrainCfg()) == []                                      # the default: constant, the paper's
    with pytest.raises(ValueError, match='schedule'): PretrainCfg(schedule='cosine')
    with pytest.raises(ValueError, match='jitter'): PretrainCfg(jitter=-1)

def test_pretraining_conv_biases_start_at_zero():
    # the linear layers' zero biases are in 10_model; the convolutions' too
    m = MixHiCPretrain(ModelCfg.preset('tiny', 'pretrain'))
    biases = [mod.bias for mod in m.modules() if isinstance(mod, (torch.nn.Conv1d, torch.nn.Conv2d)) and mod.bias is not None]
    assert len(biases) > 10 and all(b.abs().sum() == 0 for b in biases)

def test_one_cycle_run_interrupted_then_resumed_equals_uninterrupted(synth_store, tmp_path, monkeypatch):
    "A one-cycle run stopped by Ctrl-C after epoch 1 of 2, then resumed, ends with the weights of the run left alone."
    import mixhic.pretrain as P
    from fastai.callback.core import Callback
    c = PretrainCfg(preset='tiny', epochs=2, bs=16, lr=1e-3, warmup=1, seed=3, schedule='one_cycle')
    full = pretrain(synth_store, tmp_path/'full', c, SPLIT, plot=False)
    class CtrlC(Callback):
        order = SaveRun.order + 1                      # after epoch 1's checkpoint is written
        def after_epoch(self): raise KeyboardInterrupt
    sched = P.lr_schedule
    monkeypatch.setattr(P, 'lr_schedule', lambda cfg: sched(cfg) + [CtrlC()])
    with pytest.raises(KeyboardInterrupt): pretrain(synth_store, tmp_path/'part', c, SPLIT, plot=False)
    monkeypatch.setattr(P, 'lr_schedule', sched)
    assert load_checkpoint(tmp_path/'part'/'last.pt')['epoch'] == 1
    resumed = pretrain(synth_store, tmp_path/'part', c, SPLIT, resume=True, plot=False)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert not [k for k in a if not torch.equal(a[k], b[k])], 'weights differ after resuming a one-cycle run'

def test_best_is_never_a_warm_up_epoch(synth_store, tmp_path):
    "With the paper's unweighted sum the full loss is larger than the warm-up's: best.pt is the best full-loss epoch."
    out = tmp_path/'warm'
    pretrain(synth_store, out, PretrainCfg(preset='tiny', epochs=5, bs=16, lr=1e-5, warmup=2, weighting='sum', seed=1),
             SPLIT, plot=False)
    rows = history_rows(out)
    assert [r['warmup'] for r in rows] == ['True', 'True', 'False', 'False', 'False']
    full = [float(r['valid_loss']) for r in rows[2:]]
    assert max(float(r['valid_loss']) for r in rows[:2]) < min(full)    # the case the old rule got wrong
    ck = load_checkpoint(out/'best.pt')
    assert ck['epoch'] == 3 + int(np.argmin(full)), (ck['epoch'], full)

def test_the_papers_input_can_be_pretrained(synth_store, tmp_path):
    "hic_norm='none' (Hi-C as stored) and pos_enc=False (no position embeddings) reach the model and the checkpoint."
    from mixhic.cli import main
    out = tmp_path/'paper_input'
    assert main(['pretrain', str(synth_store), '--out', str(out), '--epochs', '1', '--bs', '16', '--hic-norm', 'none',
                 '--no-pos-enc', '--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2', '-q']) == 0
    model, ck = load_pretrain_model(out/'best.pt')
    assert ck.model_cfg.hic_norm == 'none' and ck.model_cfg.pos_enc is False
    assert not any('pos' in k for k, _ in model.named_parameters()), [k for k, _ in model.named_parameters() if 'pos' in k]
    with pytest.raises(ValueError, match='cannot resume'):   # another input is another run
        pretrain(synth_store, out, PretrainCfg(preset='tiny', epochs=2, bs=16), SPLIT, resume=True)
    with pytest.raises(ValueError, match="hic_norm must be 'diag' or 'none'"): PretrainCfg(hic_norm='log')
