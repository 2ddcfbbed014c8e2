"""Shared fixtures: the real data sets, a small synthetic genome and its stores, and tiny hand-made inputs.

Session-scoped fixtures are built once per test process (once per xdist worker), so the whole suite stays fast.
"""
from __future__ import annotations
import os
from pathlib import Path
import pytest
from helpers import REPO, write_cool, write_bigwig, write_text

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: takes more than ~20 s (packaging, long builds); CI runs these too')
    # CI runs two test processes on two cores: each (and every subprocess it starts) computes on one thread, since
    # two processes with two OpenMP threads each on two cores spin against each other and train ~10x slower
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    os.environ.setdefault('MIXHIC_OFFLINE', '1')   # nothing downloads in tests: `datasets.get` uses the verified local copies
    import torch; torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))

# ---------------------------------------------------------------------------------------------------------------
# real data: ../shared/data/real next to the repository, or MIXHIC_REAL_DATA

def _real_root()->Path:
    return Path(os.environ.get('MIXHIC_REAL_DATA', REPO.parent/'shared'/'data'/'real')).expanduser()

@pytest.fixture(scope='session')
def real_data()->Path:
    "Folder of the real data sets; fails (does not skip) when absent: CI always has them."
    p = _real_root()
    if not p.is_dir():
        pytest.fail(f"real data sets not found at {p}: set MIXHIC_REAL_DATA to the folder holding "
                    "k562_hg38_chr22_5kb/, gm12878_k562_hg19_chr17_25kb/ and gm12878_imr90_hg19_chr21/", pytrace=False)
    return p

def real_file(root:Path, rel:str)->Path:
    "Path of `rel` under the real data folder, failing clearly if that one file is missing."
    p = root/rel
    if not p.exists(): pytest.fail(f"real data file missing: {p} (is MIXHIC_REAL_DATA complete?)", pytrace=False)
    return p

@pytest.fixture(scope='session')
def k562(real_data)->dict:
    "The K562 hg38 chr22 5-kb set: cooler, three bigWigs, gene table."
    d = 'k562_hg38_chr22_5kb/derived/'
    return {'cool': real_file(real_data, d + 'K562_chr22_5kb_raw.cool'),
            'tracks': {'dnase': real_file(real_data, d + 'K562_chr22_DNase_ENCFF860XAE_candidate_regions_reads_per_kb.bw'),
                       'atac': real_file(real_data, d + 'K562_chr22_ATAC_tagAlign_candidate_regions_reads_per_kb.bw'),
                       'h3k27ac': real_file(real_data, d + 'K562_chr22_H3K27ac_ENCFF790GFL_candidate_regions_reads_per_kb.bw')},
            'genes': real_file(real_data, d + 'K562_chr22_hg38_genes_TSS_TPM.tsv')}

# ---------------------------------------------------------------------------------------------------------------
# the synthetic genome (mixhic.synth) and stores built from it

SYNTH_SIZES = {'chr1': 3_000_000, 'chr2': 2_000_000}

@pytest.fixture(scope='session')
def synth(tmp_path_factory)->dict:
    "A small synthetic genome (two chromosomes, 3 and 2 Mb): {hic, atac, dnase, cage, loops, genes, ctcf, tads: Path}."
    from mixhic.synth import make_synth, SynthCfg
    return make_synth(tmp_path_factory.mktemp('synth'), seed=0, cfg=SynthCfg(chromsizes=SYNTH_SIZES))

@pytest.fixture(scope='session')
def synth_store(synth, tmp_path_factory)->Path:
    "A store of the synthetic genome with two tracks, loops, genes and CAGE. Read-only: tests must not change it."
    from mixhic.store import build_store
    out = tmp_path_factory.mktemp('stores')/'synth.mixhic'
    return build_store(synth['hic'], {'atac': synth['atac'], 'dnase': synth['dnase']}, out, loops=synth['loops'],
                       genes=synth['genes'], cage=synth['cage'], progress=False)

# ---------------------------------------------------------------------------------------------------------------
# tiny hand-made inputs: two chromosomes, 5-kb bins, every file valid (tests copy and break one thing)

TINY_SIZES = {'chr1': 1_000_000, 'chr2': 600_000}

@pytest.fixture(scope='session')
def tiny(tmp_path_factory)->dict:
    "Valid tiny inputs: {'cool', 'atac', 'dnase', 'loops', 'genes', 'sizes'}; 200 and 120 bins of 5 kb."
    d = tmp_path_factory.mktemp('tiny')
    return {'sizes': dict(TINY_SIZES),
            'cool': write_cool(d/'tiny.cool', TINY_SIZES, assembly='test'),
            'atac': write_bigwig(d/'atac.bw', TINY_SIZES, seed=1),
            'dnase': write_bigwig(d/'dnase.bw', TINY_SIZES, seed=2),
            'loops': write_text(d/'loops.bedpe', """
                chr1\t300000\t305000\tchr1\t500000\t505000
                chr1\t400000\t405000\tchr1\t700000\t705000
                chr2\t200000\t205000\tchr2\t350000\t355000"""),
            'genes': write_text(d/'genes.tsv', """
                chrom\ttss\tname\tstrand\texpression
                chr1\t400000\tA\t+\t3.5
                chr1\t650000\tB\t-\t0.0
                chr2\t300000\tC\t+\t12.0""")}
