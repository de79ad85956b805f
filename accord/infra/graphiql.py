"""GraphiQL's browser assets, from npm packages into a local cache, so the IDE works offline.

Strawberry's GraphiQL page loads React and GraphiQL from a public CDN. We fetch the very same
files (the page keeps its integrity hashes, so the browser checks they are identical) with
`npm pack` and the gateway serves them itself.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / ".cache" / "graphiql"
CDN = "https://unpkg.com/"
# "<package>@<version>/<file>", the path the page asks the CDN for.
_ASSET = re.compile(re.escape(CDN) + r"((?:@[^/]+/)?[^/@]+@[^/]+)/([^\"']+)")


def wanted() -> list[tuple[str, str]]:
    """(package spec, file inside it) for each asset the page loads."""
    return _ASSET.findall(get_graphql_ide_html(graphql_ide="graphiql"))


def ensure_assets(target: Path = ASSETS) -> Path:
    """Fetch every asset once; later calls find them in the cache."""
    missing = [(spec, path) for spec, path in wanted() if not (target / spec / path).exists()]
    with tempfile.TemporaryDirectory() as packs:
        for spec in sorted({spec for spec, _ in missing}):
            tarball = subprocess.run(
                ["npm", "pack", spec, "--pack-destination", packs, "--silent"],
                capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]  # fmt: skip
            with tarfile.open(Path(packs) / tarball) as archive:
                for wanted_spec, path in missing:
                    if wanted_spec != spec:
                        continue
                    member = archive.extractfile(f"package/{path}")
                    if member is None:
                        raise RuntimeError(f"{spec} has no {path}")
                    destination = target / spec / path
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    destination.write_bytes(member.read())
    return target


if __name__ == "__main__":
    print(ensure_assets())
