"""Worker of tests/test_ddp.py, started on two CPU processes by `python -m torch.distributed.run --nproc_per_node 2`.

    ddp_worker.py grad RESULTS              exact gradient of the gathered, overlap-masked contrastive loss against one process
    ddp_worker.py train RESULTS STORE RUN BS EPOCHS TRAIN VALID
                                            `mixhic.pretrain.pretrain` under DDP (gloo); each rank saves its weights

Every rank writes what it computed to RESULTS/rank{r}.pt; the test reads those files and makes the assertions, so a
failure shows the numbers rather than a worker's traceback.
"""
from __future__ import annotations
import math, os, sys
from pathlib import Path
import torch, torch.distributed as dist

torch.set_num_threads(1)   # two processes on a two-core machine: more threads only spin against each other

def _inputs(b:int=8, seed:int=1)->tuple[torch.Tensor, torch.Tensor]:
    "A fixed batch of `b` random windows, hic (b, 1, 50, 50) and log2(1+x) tracks (b, 5000, 2), each at its own depth."
    g = torch.Generator().manual_seed(seed)
    depth = torch.logspace(-1, 1, b)[torch.randperm(b, generator=g)]
    hic = torch.rand(b, 1, 50, 50, generator=g) * depth[:, None, None, None]
    trk = (torch.rand(b, 5000, 2, generator=g) ** 4 * 20 * depth[:, None, None]).log1p() / math.log(2)
    return hic, trk

def _grads(model)->dict:
    "Every parameter's gradient (zeros where it got none), then cleared."
    g = {n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return g

def _detached_gather(x:torch.Tensor)->tuple[torch.Tensor, int]:
    "A common wrong gather: the other ranks' rows enter the loss as constants (no gradient flows back to them)."
    r, n = dist.get_rank(), dist.get_world_size()
    out = [torch.empty_like(x) for _ in range(n)]
    dist.all_gather(out, x.detach().contiguous())
    out[r] = x
    return torch.cat(out, 0), r * x.shape[0]

def grad(res:Path):
    from mixhic.layers import ModelCfg
    from mixhic.model import MixHiCPretrain
    import mixhic.pretrain as P
    torch.manual_seed(0)
    model = MixHiCPretrain(ModelCfg.preset('tiny', 'pretrain')).eval()   # eval: BatchNorm uses running stats, samples independent
    hic, trk = _inputs()
    # where the windows lie: 3 overlaps 0 on the same rank, 5 (rank 1) overlaps 1 (rank 0), so the overlap mask is
    # built from gathered positions; an overlapping window is no negative
    pos = torch.tensor([[0, 0, i, i] for i in (0, 100, 200, 30, 400, 130, 600, 700)])
    def loss_of(h, t, idx=slice(None)):
        o = model(h, t)
        return P.contrastive_loss(o['I_E'], o['I_M'], o['tau'], pos[idx], 50)[0]
    # before the process group exists, world() is (0, 1): the single-process loss on all 8 windows
    assert not dist.is_initialized()
    full_loss = loss_of(hic, trk); full_loss.backward(); single = _grads(model)
    # negatives from one's own half only (no gather at all), averaged over the halves as DDP would
    local = {}
    for h in (slice(0, 4), slice(4, 8)):
        loss_of(hic[h], trk[h], h).backward()
        for k, v in _grads(model).items(): local[k] = local.get(k, 0) + v / 2
    dist.init_process_group('gloo')
    r, n = dist.get_rank(), dist.get_world_size()
    assert n == 2, n
    mine = slice(r * 4, (r + 1) * 4)
    def ddp_grads(gather=None):
        "Gradient of this rank's loss, all-reduce-averaged over the ranks as DDP does; and the averaged loss."
        old = P.gather_batch
        if gather is not None: P.gather_batch = gather
        try: loss = loss_of(hic[mine], trk[mine], mine)
        finally: P.gather_batch = old
        loss.backward()
        g = _grads(model)
        for v in g.values(): dist.all_reduce(v); v /= n
        l = loss.detach().clone(); dist.all_reduce(l); l /= n
        return g, l
    ddp, ddp_loss = ddp_grads()
    detached, _ = ddp_grads(_detached_gather)
    torch.save(dict(rank=r, world=n, single=single, local=local, ddp=ddp, detached=detached,
                    single_loss=full_loss.detach(), ddp_loss=ddp_loss), res/f'rank{r}.pt')
    dist.barrier()
    dist.destroy_process_group()

def train(res:Path, store:str, run:str, bs:str, epochs:str, trn:str, vld:str):
    from mixhic.data import Split
    import mixhic.pretrain as P, mixhic.train as T
    # every file of the run folder (checkpoints, history.csv, loss.png) is written through the training engine's
    # `atomic_path`: record which rank writes what, so the test can tell that only rank 0 writes
    writes, atomic = [], T.atomic_path
    def spy(path, *a, **kw):
        writes.append(Path(path).name)
        return atomic(path, *a, **kw)
    T.atomic_path = spy
    split = Split(by='chrom', train=tuple(trn.split(',')), valid=tuple(vld.split(',')), test=())
    learn = P.pretrain(store, run, P.PretrainCfg(epochs=int(epochs), bs=int(bs), seed=0, jitter=0), split)
    r = int(os.environ['RANK'])
    torch.save(dict(rank=r, world=int(os.environ['WORLD_SIZE']), state=learn.model.state_dict(), writes=writes,
                    model_type=type(learn.model).__name__), res/f'rank{r}.pt')

if __name__ == '__main__':
    mode, res, *rest = sys.argv[1:]
    {'grad': grad, 'train': train}[mode](Path(res), *rest)
