"""`python -m mixhic ...` runs the `mixhic` command (what `torchrun --nproc_per_node N -m mixhic pretrain ...` needs)."""
import sys
from mixhic.cli import main

if __name__ == '__main__': sys.exit(main())
