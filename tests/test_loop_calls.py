"""Genome-wide loop calling (task `loops`) through the commands a user runs: build a Hi-C-only store, fine-tune with
the defaults, call a chromosome into a BEDPE, score a BEDPE; and the errors a user can cause."""
import json
import numpy as np, pandas as pd, pytest
from helpers import run_cli
from mixhic.store import Store, build_store

SPLIT = ['--split', 'chrom', '--train-chroms', 'chr1', '--valid-chroms', 'chr2', '--test-chroms', 'chr3']   # no chr3: no test

@pytest.fixture(scope='module')
def hic_store(synth, tmp_path_factory):
    return build_store(synth['hic'], None, tmp_path_factory.mktemp('lc')/'hic.mixhic', loops=synth['loops'], progress=False)

@pytest.fixture(scope='module')
def run(hic_store, tmp_path_factory):
    out = tmp_path_factory.mktemp('lcrun')/'run'
    r = run_cli(['finetune', hic_store, '--task', 'loops', '--variant', 'hic', '--epochs', 2, *SPLIT, '--out', out])
    assert r.returncode == 0, r.stderr
    return out

def test_finetune_defaults_give_the_caller(run):
    from mixhic.finetune import load_task_model
    model, ck = load_task_model(run/'best.pt')
    assert model.task == 'loops' and ck.task == 'loops' and ck['train_cfg']['bs'] == 16   # the task's batch size
    assert 0 < ck['threshold'] < 1                                                         # chosen on the valid calls
    m = json.loads((run/'metrics.json').read_text())
    assert {'auprc', 'precision_1', 'recall_1', 'f1_1', 'f1_2', 'recall_short', 'recall_long'} <= set(m['valid/mixhic'])

def test_predict_loops_writes_a_sorted_scored_bedpe(hic_store, run, tmp_path):
    out = tmp_path/'calls.bedpe'
    r = run_cli(['predict', 'loops', hic_store, '--model', run/'best.pt', '--out', out, '--threshold', '0.05', '--chroms', 'chr2'])
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, sep='\t', header=None)
    assert len(df) > 0 and df.shape[1] == 8 and (df[0] == 'chr2').all() and (df[3] == 'chr2').all()
    key = df[1].to_numpy() * 10**9 + df[4].to_numpy()
    assert (np.diff(key) > 0).all()                                                         # genome order, no duplicate
    st = Store(hic_store)
    assert ((df[4] - df[1]) // st.res >= 2).all() and ((df[4] - df[1]) // st.res <= st.cfg.max_dist_bins).all()
    assert df[7].between(0.05, 1).all()
    r = run_cli(['evaluate', hic_store, '--calls', out, '--out', tmp_path/'ev'])
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path/'ev'/'calls.json').read_text())
    assert s['scores']['calls'] == len(df) and 0 <= s['scores']['precision_1'] <= 1 and (tmp_path/'ev'/'apa.png').exists()

def test_window_model_still_predicts_loops(hic_store, tmp_path):
    out = tmp_path/'w'
    r = run_cli(['finetune', hic_store, '--task', 'loop_windows', '--variant', 'hic', '--epochs', 1, *SPLIT, '--out', out])
    assert r.returncode == 0, r.stderr
    r = run_cli(['predict', 'loops', hic_store, '--model', out/'best.pt', '--out', tmp_path/'w.bedpe', '--chroms', 'chr2',
                 '--threshold', '0', '--max-dist-bp', '60000'])
    assert r.returncode == 0, r.stderr
    r = run_cli(['predict', 'maps', hic_store, '--model', out/'best.pt', '--out', tmp_path/'m.cool'])
    assert r.returncode == 1 and 'needs a maps model' in r.stderr

def test_bad_input_says_what(hic_store, run, tmp_path):
    r = run_cli(['predict', 'loops', hic_store, '--model', run/'best.pt', '--out', tmp_path/'x.bedpe', '--stride', '0'])
    assert r.returncode == 1 and 'stride must be in 1..50' in r.stderr and not (tmp_path/'x.bedpe').exists()
    r = run_cli(['predict', 'loops', hic_store, '--model', run/'best.pt', '--out', tmp_path/'x.bedpe', '--chroms', 'chr9'])
    assert r.returncode == 1 and "no chromosome 'chr9'" in r.stderr
    r = run_cli(['finetune', hic_store, '--task', 'loops', '--epochs', 1, *SPLIT, '--out', tmp_path/'b'])
    assert r.returncode == 1 and 'n_tracks=0' in r.stderr                                 # bimodal on a Hi-C-only store
    r = run_cli(['evaluate', hic_store, '--calls', tmp_path/'missing.bedpe', '--out', tmp_path/'e'])
    assert r.returncode == 1 and 'missing.bedpe' in r.stderr
