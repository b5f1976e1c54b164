"""`python -m grasp_core.train CONFIG.json OUT_DIR [--resume]`: the fine-tuning entry torchrun and accelerate
launch (grasp_core.training.run.main)."""

import sys

from .training.run import main

if __name__ == "__main__":
    sys.exit(main())
