"""What the production image holds from this checkout, worked out without a Docker engine.

1. The build context: the checkout's files (tracked, plus untracked ones git does not ignore) that survive
   `.dockerignore`, matched by the Docker SDK's own implementation of Docker's rules (`**`, `!` exceptions, ...).
2. The image: the Dockerfile's stages replayed, COPY by COPY (WORKDIR, `--from=<stage>`, directory sources
   copied by their contents, as `docker build` does). RUN steps are not replayed: what they create (the
   virtualenv, collected static files) is not from the context, so it is not listed.

    python scripts/image_contents.py        # the context's size and the image's file list
"""

from __future__ import annotations

import posixpath
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parent.parent


def checkout_files(root: Path = ROOT) -> list[str]:
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode()
    return sorted({path for path in listed.split("\0") if path and (root / path).is_file()})


def build_context(root: Path = ROOT) -> list[str]:
    """The files `docker build` would send: the checkout's files minus what `.dockerignore` excludes."""
    patterns = (root / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in patterns if line.strip() and not line.lstrip().startswith("#")]
    # exclude_paths walks a real tree: mirror the file names (empty files) so only the checkout is matched.
    with tempfile.TemporaryDirectory() as mirror:
        for path in checkout_files(root):
            target = Path(mirror, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        kept = exclude_paths(mirror, patterns)
        return sorted(path for path in kept if Path(mirror, path).is_file())


def instructions(root: Path = ROOT) -> list[list[str]]:
    """The Dockerfile's instructions as word lists, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in (root / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        instructions.append(shlex.split(pending + line))
        pending = ""
    return instructions


def final_stage(root: Path = ROOT) -> list[list[str]]:
    """The instructions of the Dockerfile's last stage (the image), its FROM first."""
    words = instructions(root)
    starts = [index for index, instruction in enumerate(words) if instruction[0].upper() == "FROM"]
    return words[starts[-1]:]


def _sources(files: dict[str, str], source: str) -> dict[str, str]:
    """{path relative to the destination: origin} for one COPY source found in `files` (path -> origin);
    a single file maps from its own name, a directory (or ".") from the paths below it, as Docker copies
    a directory's contents, not the directory."""
    source = posixpath.normpath(source)
    if source in files:
        return {posixpath.basename(source): files[source]}
    prefix = "" if source == "." else source + "/"
    return {path[len(prefix):]: origin for path, origin in files.items() if path.startswith(prefix)}


def image_files(root: Path = ROOT) -> dict[str, str]:
    """{absolute path in the final image: the context file it came from}, for the Dockerfile's last stage."""
    context = {path: path for path in build_context(root)}
    stages: dict[str, dict[str, str]] = {}
    files: dict[str, str] = {}
    workdir = "/"
    for words in instructions(root):
        keyword, arguments = words[0].upper(), words[1:]
        if keyword == "FROM":
            base = arguments[0]
            files = dict(stages.get(base, {}))
            workdir = "/"
            stages[arguments[2] if len(arguments) == 3 and arguments[1].upper() == "AS" else str(len(stages))] = files
        elif keyword == "WORKDIR":
            workdir = posixpath.join(workdir, arguments[0])
        elif keyword == "ADD":
            raise ValueError("ADD is not replayed here; use COPY")
        elif keyword == "COPY":
            flags = dict(flag[2:].partition("=")[::2] for flag in arguments if flag.startswith("--"))
            paths = [word for word in arguments if not word.startswith("--")]
            *sources, destination = paths
            origin = stages[flags["from"]] if "from" in flags else context
            if "from" in flags:  # a stage's paths are absolute; match them without the leading slash
                origin = {path.lstrip("/"): source_file for path, source_file in origin.items()}
                sources = [source.lstrip("/") or "." for source in sources]
            target = posixpath.join(workdir, destination)
            into_directory = destination.endswith("/") or destination == "." or len(sources) > 1
            for source in sources:
                copied = _sources(origin, source)
                if not copied and "from" not in flags:
                    raise ValueError(f"COPY {source}: not in the build context (the build would fail)")
                # An earlier stage's RUN output (its virtualenv) is not replayed, so it copies nothing here.
                for relative, source_file in copied.items():
                    if posixpath.normpath(source) in origin and not into_directory:
                        files[posixpath.normpath(target)] = source_file
                    else:
                        files[posixpath.normpath(posixpath.join(target, relative))] = source_file
    return dict(sorted(files.items()))


def main():
    context = build_context()
    image = image_files()
    print(f"build context: {len(context)} files (.dockerignore applied to {len(checkout_files())} in the checkout)")
    print(f"image, from the context: {len(image)} files")
    for path in image:
        print(f"  {path}")


if __name__ == "__main__":
    sys.exit(main())
