"""The installer's guide, followed in a clean Debian 12 chroot (scripts/check-agent-install-debian.sh).

The rehearsal needs root (debootstrap, chroot, mounts) and Debian's mirror and PyPI; it takes about two
minutes. CI runs it through `./run test`, as root.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check-agent-install-debian.sh"
FIRMWARE = REPO / "firmware_config"
SKIP = 77  # the script's exit status when it cannot run here (no debootstrap and none installable)


def _commands(guide: Path) -> list[str]:
    """The guide's ```sh blocks without comments and with `<placeholders>` blanked (they are translated)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", guide.read_text(encoding="utf-8"), flags=re.M | re.S)
    lines = (
        re.sub(r"<[^>]*>", "<>", re.sub(r"(^|\s+)#.*$", "", raw)).rstrip() for b in blocks for raw in b.splitlines()
    )
    return [line for line in lines if line]


def test_english_and_vietnamese_guides_give_the_same_commands() -> None:
    """The rehearsal reads INSTALL.en.md; the Vietnamese guide must not drift from it."""
    english = _commands(FIRMWARE / "INSTALL.en.md")
    assert english and english == _commands(FIRMWARE / "INSTALL.vi.md")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: debootstrap, chroot and mounts")
def test_guide_on_a_clean_debian_gets_the_agent_enrolled_and_online() -> None:
    env = {**os.environ, "DEV_PYTHON": sys.executable}
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    try:
        stdout, stderr = proc.communicate(timeout=1200)
    except subprocess.TimeoutExpired:
        proc.terminate()  # SIGTERM, not SIGKILL: the script's trap must unmount /proc, /sys and /dev
        stdout, stderr = proc.communicate(timeout=120)
        pytest.fail(f"the rehearsal took over 20 minutes\nstdout:\n{stdout[-6000:]}\nstderr:\n{stderr[-6000:]}")
    if proc.returncode == SKIP:
        pytest.skip(stderr.strip() or "the clean Debian rehearsal cannot run here")
    report = f"stdout:\n{stdout[-6000:]}\nstderr:\n{stderr[-6000:]}"
    assert proc.returncode == 0, report
    assert re.search(r"^clean Debian install rehearsal: ok \(.*enrolled, online as loa", stdout, re.M), report
