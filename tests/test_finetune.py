"""Fine-tuning (mixhic.finetune) and `mixhic finetune` / `mixhic evaluate`: the three tasks, pre-trained weights,
frozen bodies, Hi-C noise only where it belongs, other labels, and clear errors."""
import csv, json
import numpy as np, pandas as pd, pytest, torch
from helpers import run_cli
from mixhic.data import Split, make_datasets
from mixhic.store import Store
from mixhic.task import get_task

SPLIT = Split(by='chrom', train=('chr1',), valid=('chr2',), test=())
CLI_SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2']

@pytest.fixture(scope='module')
def pre_ckpt(synth_store, tmp_path_factory):
    "A one-epoch pre-training checkpoint of the tiny model on the synthetic store."
    from mixhic.pretrain import pretrain, PretrainCfg
    out = tmp_path_factory.mktemp('pre')/'run'
    pretrain(synth_store, out, PretrainCfg(epochs=1, bs=8), SPLIT, plot=False, device='cpu')
    return out/'last.pt'

@pytest.mark.parametrize('task,variant', [('loop_windows', 'bimodal'), ('maps', 'infer'), ('expr', 'tracks'), ('loop_windows', 'hic')])
def test_finetune_tasks(synth_store, tmp_path, task, variant):
    from mixhic.finetune import finetune, FinetuneCfg, load_task_model
    res = finetune(synth_store, tmp_path/'run', FinetuneCfg(task, variant, epochs=2, bs=16), SPLIT, plot=False, device='cpu')
    m = res['metrics']
    assert set(m) == {'valid/mixhic', 'valid/baseline'}          # no test chromosome in this split: no test rows
    key = {'loop_windows': 'auroc', 'maps': 'scc', 'expr': 'pearson_gene'}[task]
    assert np.isfinite(m['valid/mixhic'][key]) and np.isfinite(m['valid/baseline'][key if task == 'loop_windows' else 'r2'])
    rows = list(csv.DictReader(open(tmp_path/'run'/'metrics.csv')))
    assert [(r['split'], r['predictor']) for r in rows] == [('valid', 'mixhic'), ('valid', 'baseline')]
    assert json.loads((tmp_path/'run'/'metrics.json').read_text()).keys() == m.keys()
    model, ck = load_task_model(tmp_path/'run'/'best.pt')
    assert (model.task, model.modality) == (task, variant) and 1 <= ck['epoch'] <= 2
    assert res['epochs'] == 2 and res['best_epoch'] == len(ck['history']) <= 2     # epochs run, and the best one
    assert len(torch.load(tmp_path/'run'/'last.pt', weights_only=True)['history']) == 2
    assert ('threshold' in ck) == (task == 'loop_windows')
    if task == 'maps':   # the head adds the training windows' distance decay: larger near the diagonal, saved with the model
        off = model.head.offset[0, 0]
        assert torch.allclose(off, off.T) and off.diagonal().mean() > off.diagonal(30).mean() > 0
        mj = json.loads((tmp_path/'run'/'metrics.json').read_text())['valid/mixhic']   # SPEC: Pearson per diagonal
        assert {'pearson_diag', 'pearson_d1', 'pearson_d25'} <= mj.keys() and np.isfinite(mj['pearson_diag'])
        assert 'pearson_diag' in rows[0]

def test_metrics_are_whole_split(synth_store):
    "The metric in fastai's table equals the metric computed over every validation window at once."
    from mixhic.finetune import finetune_learner, FinetuneCfg, predict_ds
    from mixhic.metrics import loop_metrics
    learn = finetune_learner(synth_store, FinetuneCfg('loop_windows', epochs=1, bs=8), SPLIT, device='cpu')
    learn.fit(1)
    shown = dict(zip(learn.recorder.metric_names[1:], learn.recorder.log[1:]))
    _, va, _ = make_datasets(synth_store, 'loop_windows', SPLIT)
    p, y = predict_ds(learn.model, va)
    assert shown['auroc'] == pytest.approx(loop_metrics(y, p)['auroc'], abs=1e-6)
    assert shown['valid_loss'] == pytest.approx(float(torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y))), rel=1e-4)

def test_pretrained_body_loaded_and_frozen(synth_store, pre_ckpt):
    from mixhic.finetune import finetune_learner, FinetuneCfg
    ck = torch.load(pre_ckpt, map_location='cpu', weights_only=True)['model']
    learn = finetune_learner(synth_store, FinetuneCfg('maps', 'infer', bs=8), SPLIT, pretrained=pre_ckpt, device='cpu')
    sd = learn.model.state_dict()
    shared = [k for k in sd if k in ck]
    assert len(shared) > 20 and all(torch.equal(sd[k], ck[k]) for k in shared)
    assert {k.split('.')[0] for k in learn.load_report['random']} == {'fusion', 'decoder', 'head'}
    learn.freeze()
    frozen = [n for n, q in learn.model.named_parameters() if not q.requires_grad]
    assert len(frozen) > 10 and all(n.split('.')[0] in ('trk_enc', 'hic_enc', 'inter', 'e2m') for n in frozen)
    head0 = {n: q.detach().clone() for n, q in learn.model.named_parameters() if n.startswith('head.')}
    learn.fit(1, 1e-3)
    after = dict(learn.model.named_parameters())
    assert all(torch.equal(after[n].detach(), ck[n]) for n in frozen)                 # the frozen body did not move
    assert any(not torch.equal(after[n].detach(), v) for n, v in head0.items())      # the head did

def test_fine_tune_schedule_and_cli(synth_store, pre_ckpt, tmp_path):
    run = tmp_path/'ft'
    r = run_cli(['finetune', synth_store, '--task', 'loop_windows', '--pretrained', pre_ckpt, '--schedule', 'fine_tune', '--epochs', 1,
                 '--bs', 16, '--loop-centre', 3, '--loop-prior', '--near-miss', 1, '--hic-norm', 'none', '--out', run, *CLI_SPLIT])
    assert r.returncode == 0, r.stderr
    ck = torch.load(run/'best.pt', weights_only=True)
    assert ck['model_cfg']['loop_centre'] == 3 and ck['train_cfg']['near_miss'] == 1   # the pre-trained body, the asked head and negatives
    assert ck['model_cfg']['hic_norm'] == 'none' != torch.load(pre_ckpt, weights_only=True)['model_cfg']['hic_norm']   # --hic-norm overrides the body's
    assert ck['model_cfg']['loop_prior'] and ck['model']['head.prior_w'].abs().sum() > 0   # the fitted prior is saved with the model
    assert {'best.pt', 'last.pt', 'metrics.json', 'metrics.csv', 'history.csv', 'loss.png'} <= {p.name for p in run.iterdir()}
    assert 'auroc' in r.stdout and 'baseline' in r.stdout
    ev = tmp_path/'ev'
    r = run_cli(['evaluate', synth_store, '--model', run/'best.pt', '--which', 'valid', '--noise', 'dropout:0.5', '--out', ev])
    assert r.returncode == 0, r.stderr
    m = json.loads((ev/'metrics.json').read_text())
    assert set(m) == {'valid/mixhic', 'valid/baseline'} and (ev/'evaluation.png').stat().st_size > 1000

def test_noise_never_on_validation(synth_store):
    "Training augmentation changes training batches only: the validation loss is the same with and without it."
    from mixhic.finetune import finetune_learner, FinetuneCfg
    losses = []
    for noise in (None, 'dropout'):
        learn = finetune_learner(synth_store, FinetuneCfg('loop_windows', bs=8, noise=noise, noise_rate=0.9), SPLIT, device='cpu')
        losses.append(learn.validate()[0])
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
    learn = finetune_learner(synth_store, FinetuneCfg('loop_windows', bs=8, trk_noise=1.0), SPLIT, device='cpu')
    assert learn.dls.train.dataset.noise_std == 1.0 and learn.dls.valid.dataset.noise_std == 0.0   # track noise: training only
    assert learn.validate()[0] == pytest.approx(losses[0], rel=1e-6)

def test_evaluate_noise_seeded_and_hurts(synth_store, tmp_path):
    from mixhic.finetune import finetune, FinetuneCfg, evaluate
    finetune(synth_store, tmp_path/'run', FinetuneCfg('loop_windows', 'hic', epochs=3, bs=16), SPLIT, plot=False, device='cpu')
    ck = tmp_path/'run'/'best.pt'
    a = evaluate(synth_store, ck, 'valid', noise=('saltpepper', 0.3, 0))
    b = evaluate(synth_store, ck, 'valid', noise=('saltpepper', 0.3, 0))
    c = evaluate(synth_store, ck, 'valid')
    assert np.array_equal(a['pred'], b['pred']) and not np.array_equal(a['pred'], c['pred'])

def test_relabel(synth_store, synth, tmp_path):
    from mixhic.finetune import relabel
    st = Store(synth_store)
    lp = pd.read_csv(synth['loops'], sep='\t', header=None).iloc[:5]
    lp.to_csv(tmp_path/'five.bedpe', sep='\t', header=False, index=False)
    st5 = relabel(st, tmp_path/'five.bedpe', 'loops')
    assert len(st5.table('loops')) == 5 and len(st.table('loops')) > 5      # the original store is unchanged
    tr, _, _ = make_datasets(st5, 'loop_windows', SPLIT)
    assert tr.index.y.sum() == (st5.table('loops').status.eq('ok') & st5.table('loops').chrom.eq('chr1')).sum()
    (tmp_path/'far.bedpe').write_text('chr1\t100000\t105000\tchr1\t2900000\t2905000\n')
    with pytest.raises(ValueError, match='none of its 1 loops'): relabel(st, tmp_path/'far.bedpe', 'loops')

def test_errors(synth_store, pre_ckpt, tmp_path):
    from mixhic.finetune import FinetuneCfg, load_task_model
    # FinetuneCfg refusing a variant of a task (maps with a Hi-C input) is in 12a_finetune
    with pytest.raises(ValueError, match='not a fine-tuned task model'): load_task_model(pre_ckpt)
    r = run_cli(['finetune', synth_store, '--task', 'maps', '--variant', 'hic', '--out', tmp_path/'x', *CLI_SPLIT])
    assert r.returncode == 1 and "does not fit task 'maps'" in r.stderr
    r = run_cli(['evaluate', synth_store, '--model', pre_ckpt, '--out', tmp_path/'y'])
    assert r.returncode == 1 and 'not a fine-tuned task model' in r.stderr
    r = run_cli(['finetune', synth_store, '--task', 'loop_windows', '--noise', 'dropout', '--out', tmp_path/'z', *CLI_SPLIT])
    assert r.returncode == 1 and 'KIND:RATE' in r.stderr

def test_predict_cli(synth_store, synth, tmp_path):
    "`mixhic predict` for the three tasks writes files the field's tools open: a .cool with the input's bins, a BEDPE, a TSV and a bigWig."
    import cooler, pyBigWig
    from mixhic.annot import read_bedpe
    from mixhic.finetune import finetune, FinetuneCfg
    ck = {}
    for task, variant in (('maps', 'tracks'), ('loop_windows', 'bimodal'), ('expr', 'bimodal')):
        finetune(synth_store, tmp_path/task, FinetuneCfg(task, variant, epochs=1, bs=16), SPLIT, plot=False, device='cpu')
        ck[task] = tmp_path/task/'best.pt'
    r = run_cli(['predict', 'maps', synth_store, '--model', ck['maps'], '--out', tmp_path/'pred.cool', '--chroms', 'chr2'])
    assert r.returncode == 0, r.stderr
    clr, src = cooler.Cooler(str(tmp_path/'pred.cool')), cooler.Cooler(str(synth['hic']))
    assert clr.bins()[['chrom', 'start', 'end']][:].equals(src.bins()[['chrom', 'start', 'end']][:])
    pix = clr.pixels(join=True)[:]
    assert set(pix.chrom1) == {'chr2'} and (pix['count'] > 0).all() and len(pix) > 1000
    r = run_cli(['predict', 'maps', synth_store, '--model', ck['maps'], '--out', tmp_path/'pred16.cool', '--chroms', 'chr2',
                 '--precision', 'bf16'])                                   # opt-in bf16: the same pixels, close values
    assert r.returncode == 0, r.stderr
    p16 = cooler.Cooler(str(tmp_path/'pred16.cool')).pixels(join=True)[:]
    assert len(p16) == len(pix) and np.corrcoef(p16['count'], pix['count'])[0, 1] > 0.99 and not p16['count'].equals(pix['count'])
    r = run_cli(['predict', 'loops', synth_store, '--model', ck['loop_windows'], '--out', tmp_path/'calls.bedpe', '--chroms', 'chr2',
                 '--threshold', '0', '--max-dist-bp', '100000'])
    assert r.returncode == 0, r.stderr
    calls, _ = read_bedpe(tmp_path/'calls.bedpe', Store(synth_store).chromsizes)
    assert len(calls) >= 1 and calls.score.between(0, 1).all() and ((calls.start2 - calls.start1) <= 100_000).all()
    r = run_cli(['predict', 'expression', synth_store, '--model', ck['expr'], '--out', tmp_path/'genes.tsv', '--bigwig', tmp_path/'expr.bw'])
    assert r.returncode == 0, r.stderr
    g = pd.read_csv(tmp_path/'genes.tsv', sep='\t')
    assert len(g) > 20 and np.isfinite(g.pred).all()
    bw = pyBigWig.open(str(tmp_path/'expr.bw'))
    assert set(bw.chroms()) == {'chr1', 'chr2'} and np.isfinite(bw.stats('chr1', 0, 1_000_000)[0])
    r = run_cli(['predict', 'maps', synth_store, '--model', ck['loop_windows'], '--out', tmp_path/'x.cool'])
    assert r.returncode == 1 and 'is a loop_windows model' in r.stderr and not (tmp_path/'x.cool').exists()

def test_infer_tracks_variant(synth, synth_store, pre_ckpt, tmp_path):
    "The paper's Hi-C + inferred-tracks row: the pre-trained Hi-C encoder and M->E mapping, on any store, even Hi-C only."
    from mixhic.finetune import finetune, FinetuneCfg, load_task_model
    from mixhic.store import build_store
    ck = torch.load(pre_ckpt, map_location='cpu', weights_only=True)['model']
    res = finetune(synth_store, tmp_path/'run', FinetuneCfg('loop_windows', 'infer_tracks', epochs=1, bs=16), SPLIT,
                   pre_ckpt, plot=False, device='cpu')
    assert np.isfinite(res['metrics']['valid/mixhic']['auroc'])
    model, _ = load_task_model(tmp_path/'run'/'best.pt')
    assert model.modality == 'infer_tracks' and not hasattr(model, 'trk_enc') and hasattr(model, 'm2e')
    # a Hi-C-only store: the same pre-trained body (its track encoder is not used), tracks of width 0
    hic_only = build_store(synth['hic'], None, tmp_path/'hic.mixhic', loops=synth['loops'], progress=False)
    r = run_cli(['finetune', hic_only, '--task', 'loop_windows', '--variant', 'infer_tracks', '--pretrained', pre_ckpt,
                 '--epochs', 1, '--bs', 16, '--out', tmp_path/'h', *CLI_SPLIT])
    assert r.returncode == 0, r.stderr
    m, ck2 = load_task_model(tmp_path/'h'/'best.pt')
    assert m.cfg.n_tracks == 0 and ck2['tracks'] == []
    # from scratch it has no trained mapping: allowed (a user's choice), but the ablation skips it as it skips 'infer'
    r = run_cli(['finetune', synth_store, '--task', 'maps', '--variant', 'infer_tracks', '--out', tmp_path/'x', *CLI_SPLIT])
    assert r.returncode == 1 and "'maps'" in r.stderr

def test_select_by_metric(synth_store, tmp_path):
    "select='metric' (the reference's): best.pt is the epoch of the highest validation AUROC, not of the lowest loss."
    from mixhic.finetune import finetune, FinetuneCfg, load_task_model
    res = finetune(synth_store, tmp_path/'run', FinetuneCfg('loop_windows', 'hic', epochs=4, bs=16, select='metric'),
                   SPLIT, plot=False, device='cpu')
    _, ck = load_task_model(tmp_path/'run'/'best.pt')
    hist = torch.load(tmp_path/'run'/'last.pt', weights_only=True)['history']
    au = [h['auroc'] for h in hist]
    assert ck['epoch'] == 1 + int(np.argmax(au)) and ck['best'] == pytest.approx(-max(au))
    with pytest.raises(ValueError, match="'loss' or 'metric'"): FinetuneCfg('loop_windows', select='auroc')
    assert FinetuneCfg.paper('maps', 'infer').monitor == {'monitor': 'pearson', 'higher': True}

def test_tss_map_windows(synth_store, tmp_path):
    "windows='tss' (the paper's map windows): diagonal windows centred on the genes' TSSs, each once, trained on."
    from mixhic.finetune import finetune, FinetuneCfg, load_task_model
    cfg = FinetuneCfg('maps', 'tracks', epochs=1, bs=8, windows='tss')
    tr, va, _ = make_datasets(synth_store, 'maps', SPLIT, **get_task('maps').data_kw(cfg))
    st = Store(synth_store)
    g = st.table('genes')
    g = g[(g.status == 'ok') & (g.chrom == 'chr1')]
    centres = set(zip(tr.index.chrom, tr.index.i + st.w // 2))
    assert 0 < len(tr.index) <= len(g) and centres <= set(zip(g.chrom, g.bin))
    assert not tr.index.duplicated(['chrom', 'i']).any() and set(va.index.chrom) == {'chr2'}
    res = finetune(synth_store, tmp_path/'run', cfg, SPLIT, plot=False, device='cpu')
    assert np.isfinite(res['metrics']['valid/mixhic']['pearson'])
    _, ck = load_task_model(tmp_path/'run'/'best.pt')
    assert ck['train_cfg']['windows'] == 'tss'
    with pytest.raises(ValueError, match="'diag' or 'tss'"): FinetuneCfg('maps', windows='genes')
