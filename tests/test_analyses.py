"""The paper's analyses as commands: `mixhic ablate`, `mixhic perturb`, `mixhic robust` (mixhic.analyses)."""
import numpy as np, pandas as pd, pytest, torch
from helpers import run_cli

SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2']

@pytest.fixture(scope='module')
def runs(synth_store, tmp_path_factory):
    "An ablation of two loop variants from scratch (1 epoch each), through the command line."
    out = tmp_path_factory.mktemp('abl')/'abl'
    r = run_cli(['ablate', synth_store, '--tasks', 'loop_windows', '--variants', 'bimodal,hic', '--epochs', 1, '--bs', 16, '--out', out, *SPLIT])
    assert r.returncode == 0, r.stderr
    return out, r.stdout

def test_ablate_table(runs):
    out, stdout = runs
    tab = pd.read_csv(out/'ablation.csv', header=[0, 1], index_col=0)
    assert sorted(tab.index) == ['baseline', 'bimodal (scratch)', 'hic (scratch)']
    assert [c for c in tab.columns] == [('loop_windows', 'auroc'), ('loop_windows', 'auprc'), ('loop_windows', 'f1')]
    assert tab.loc['baseline'].notna().all() and 'bimodal (scratch)' in stdout
    assert (out/'loop_windows-bimodal-scratch'/'best.pt').exists() and (out/'loop_windows-hic-scratch'/'best.pt').exists()

def test_perturb(runs, tmp_path, synth_store):
    out, _ = runs
    r = run_cli(['perturb', synth_store, '--model', out/'loop_windows-bimodal-scratch'/'best.pt', '--which', 'valid', '--ratios', '1,0.5,0', '--out', tmp_path/'p.csv'])
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path/'p.csv')
    assert df.ratio.tolist() == [1.0, 0.5, 0.0] and df.mean_change.iloc[0] == pytest.approx(0, abs=1e-6)
    assert df.recall.between(0, 1).all() and (df.loops == df.loops.iloc[0]).all() and df.loops.iloc[0] > 3
    r = run_cli(['perturb', synth_store, '--model', out/'loop_windows-hic-scratch'/'best.pt', '--which', 'valid', '--out', tmp_path/'q.csv'])
    assert r.returncode == 1 and 'reads no tracks' in r.stderr and not (tmp_path/'q.csv').exists()
    r = run_cli(['perturb', synth_store, '--model', out/'loop_windows-bimodal-scratch'/'best.pt', '--ratios', '1,x', '--out', tmp_path/'q.csv'])
    assert r.returncode == 1 and '--ratios expects numbers' in r.stderr
    r = run_cli(['perturb', synth_store, '--model', out/'loop_windows-bimodal-scratch'/'best.pt', '--which', 'valid',
                 '--attenuation', '0,0.5,0.9', '--out', tmp_path/'a.csv'])   # the paper's form: shares removed
    assert r.returncode == 0, r.stderr
    a = pd.read_csv(tmp_path/'a.csv')
    assert a.attenuation.tolist() == [0.0, 0.5, 0.9] and a.ratio.tolist() == pytest.approx([1.0, 0.5, 0.1])
    assert a.mean_prob.iloc[1] == pytest.approx(df.mean_prob.iloc[1])   # attenuation 0.5 is ratio 0.5

def test_attenuate_anchors_fraction_and_width():
    "14_loops checks ratio 0 (centres emptied) and 1 (unchanged); here a fraction scales the raw signal, over `width` bins."
    from mixhic.tasks.loops import attenuate_anchors
    x = torch.rand(3, 5000, 2) * 4
    half = attenuate_anchors(x, 0.5, width=3)
    raw = lambda t: torch.exp2(t) - 1
    assert torch.allclose(raw(half[:, 1200:1350]), 0.5 * raw(x[:, 1200:1350]), atol=1e-4)       # anchor 1, bins 24-26
    assert torch.allclose(raw(half[:, 3700:3850]), 0.5 * raw(x[:, 3700:3850]), atol=1e-4)       # anchor 2
    assert torch.equal(half[:, :1200], x[:, :1200]) and torch.equal(half[:, 1350:3700], x[:, 1350:3700])
    with pytest.raises(ValueError, match='ratio must be in'): attenuate_anchors(x, 1.5)

def test_robust(runs, tmp_path, synth_store):
    out, _ = runs
    r = run_cli(['robust', synth_store, '--model', out/'loop_windows-hic-scratch'/'best.pt', '--which', 'valid', '--noise', 'dropout,saltpepper',
                 '--rates', '0,0.5', '--out', tmp_path/'r.csv'])
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path/'r.csv')
    assert len(df) == 4 and set(df.noise) == {'dropout', 'saltpepper'}
    clean = df[df.rate == 0]
    assert clean.auroc.nunique() == 1                                   # no noise: the same result whatever the kind
    r = run_cli(['robust', synth_store, '--model', out/'loop_windows-hic-scratch'/'best.pt', '--noise', 'pink', '--out', tmp_path/'s.csv'])
    assert r.returncode == 1 and "unknown Hi-C noise 'pink'" in r.stderr

def test_robust_combined(runs, tmp_path, synth_store):
    "The paper's robustness test: dropout, Gaussian and salt-and-pepper noise together on 70 % of the contacts."
    out, _ = runs
    r = run_cli(['robust', synth_store, '--model', out/'loop_windows-hic-scratch'/'best.pt', '--which', 'valid', '--noise', 'combined',
                 '--rates', '0,0.7', '--out', tmp_path/'r.csv'])
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path/'r.csv')
    assert df.noise.tolist() == ['combined', 'combined'] and df.rate.tolist() == [0.0, 0.7]
    assert df.auroc.iloc[0] != df.auroc.iloc[1]                          # the noise reaches the model's Hi-C input

def test_orthogonality_with_and_without_its_loss(synth_store, tmp_path):
    """The paper's table: mean |I . S| per modality, pre-trained with the orthogonality loss and without. On a 2-epoch
    tiny model the order of the two is not stable (random 4C-vectors are nearly orthogonal already): computed, not ranked."""
    from mixhic.data import Split
    from mixhic.pretrain import pretrain, PretrainCfg, embed
    from mixhic.analyses import orthogonality
    split = Split(by='chrom', train=('chr1',), valid=('chr2',), test=())
    o = {}
    for name, w in (('with', (1, 1, 1)), ('without', (1, 0, 1))):
        pretrain(synth_store, tmp_path/name, PretrainCfg(epochs=2, bs=16, weighting=w), split, plot=False, device='cpu')
        o[name] = orthogonality(synth_store, tmp_path/name/'last.pt')
        assert o[name]['which'] == 'valid' and o[name]['n'] > 0 and 0 < o[name]['tracks'] < 1 and 0 < o[name]['hic'] < 1
    assert o['with']['tracks'] != o['without']['tracks']                 # two models, two answers
    e = embed(synth_store, tmp_path/'with'/'last.pt')
    v = e['split'] == 'valid'
    cos2 = ((e['I_M'][v] * e['S_M'][v]).sum(1) ** 2).mean()              # the loss's own form, on unit vectors
    assert orthogonality(synth_store, tmp_path/'with'/'last.pt', squared=True)['hic'] == pytest.approx(cos2, rel=1e-4)
    with pytest.raises(ValueError, match='no test windows'): orthogonality(synth_store, tmp_path/'with'/'last.pt', 'test')

def test_perturb_paper_attenuation(runs, synth_store):
    "The paper's form: shares of the anchors' signal removed (0, .5, .7, .8, .9), reported next to the share kept."
    from mixhic.analyses import perturb, PAPER_ATTENUATION
    out, _ = runs
    ck = out/'loop_windows-bimodal-scratch'/'best.pt'
    pa = perturb(synth_store, ck, attenuation=PAPER_ATTENUATION, which='valid')
    assert pa.attenuation.tolist() == [0.0, 0.5, 0.7, 0.8, 0.9] and pa.ratio.to_numpy() == pytest.approx([1, .5, .3, .2, .1])
    pr = perturb(synth_store, ck, ratios=(1, .5, .3, .2, .1), which='valid')            # the same rows, stated as kept
    assert pa.mean_prob.to_numpy() == pytest.approx(pr.mean_prob.to_numpy()) and pa.mean_change.iloc[0] == pytest.approx(0, abs=1e-6)
    assert pa.mean_prob.nunique() > 1                                    # the attenuated tracks reach the model
    with pytest.raises(ValueError, match='attenuation must be shares removed'): perturb(synth_store, ck, attenuation=(0, -0.5))
