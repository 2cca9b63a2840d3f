#!/usr/bin/env python3
"""Performs README.md's "Write your own task type" section as written, against the installed SDK.

The section marks each of its fenced blocks with an HTML comment on the line before it:

  <!-- tutorial-setup: why -->      what the reader does once; the test's environment stands for it
                                    (the SDK installed into a scratch prefix given as
                                    CMAKE_PREFIX_PATH, `petit` of this build first on PATH, an
                                    empty directory to work in)
  <!-- tutorial-file: PATH -->      a file to create, PATH relative to that directory
  <!-- tutorial-step -->            shell commands, run in that directory with `sh -e`; they must
  <!-- tutorial-step: exits N -->   exit 0 (or N)
  <!-- tutorial-output -->          what the step before prints (stdout and stderr together)

Files are written and steps run in the order the README gives them, with nothing in between. An
output block must match the whole output: each line matches one line, `...` inside a line stands
for any text, a line that is only `...` for any number of lines; runs of spaces compare equal and
blank lines do not count.
A fenced block without a marker fails the test, so the README cannot show code the test skips.

Beyond its environment (PATH, CMAKE_PREFIX_PATH, PETIT_STATE_DIR for the default SQLite store, the
compiler, generator and ccache as CMake's environment variables, and with --sanitize CXXFLAGS and
LDFLAGS of -fsanitize=address,undefined, since petit::testing from a sanitizer build of Petit needs
its runtime in the program that links it), the test does nothing the README does not say.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

SECTION = "### Write your own task type"  # ends at the next heading of level 2 or 3
MARKER = re.compile(r"^<!--\s*tutorial-(setup|file|step|output)(?::\s*(.*?))?\s*-->\s*$")
FENCE = re.compile(r"^```")


class TutorialError(Exception):
    pass


def section_lines(readme):
    """The section's lines, each with its 1-based line number in README.md."""
    with open(readme, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        start = lines.index(SECTION)
    except ValueError:
        raise TutorialError(f"README.md has no line '{SECTION}'")
    end = start + 1
    in_code = False
    while end < len(lines) and (in_code or not re.match(r"#{2,3} ", lines[end])):
        if FENCE.match(lines[end]):
            in_code = not in_code
        end += 1
    return [(number + 1, lines[number]) for number in range(start + 1, end)]


def parse_blocks(lines):
    """[(kind, argument, text, line)] of the marked fenced blocks, in document order."""
    blocks = []
    pending = None  # (kind, argument, line) of a marker waiting for its block
    i = 0
    while i < len(lines):
        number, line = lines[i]
        marker = MARKER.match(line)
        if marker:
            if pending:
                raise TutorialError(f"README.md:{pending[2]}: marker without a code block")
            pending = (marker.group(1), marker.group(2) or "", number)
        elif FENCE.match(line):
            body = []
            i += 1
            while i < len(lines) and not FENCE.match(lines[i][1]):
                body.append(lines[i][1])
                i += 1
            if i == len(lines):
                raise TutorialError(f"README.md:{number}: code block not closed")
            if not pending:
                raise TutorialError(
                    f"README.md:{number}: code block without a tutorial marker; the test could "
                    "not perform it (mark it tutorial-file, tutorial-step, tutorial-output or "
                    "tutorial-setup)")
            blocks.append((pending[0], pending[1], "\n".join(body) + "\n", number))
            pending = None
        elif pending and line.strip():
            raise TutorialError(f"README.md:{pending[2]}: marker not followed by a code block")
        i += 1
    if pending:
        raise TutorialError(f"README.md:{pending[2]}: marker without a code block")
    return blocks


def normalise(line):
    return re.sub(r"\s+", " ", line).strip()


def line_pattern(expected):
    parts = [re.escape(part) for part in normalise(expected).split("...")]
    return re.compile("^" + ".*".join(parts) + "$")


def first_mismatch(expected_lines, actual_lines):
    """None when the expected block matches the whole output, else the expected line that fails."""
    patterns = [None if normalise(e) == "..." else line_pattern(e) for e in expected_lines]
    actual = [normalise(a) for a in actual_lines]
    # reach[j]: the first i expected lines can match the first j output lines.
    reach = [True] + [False] * len(actual)
    for i, pattern in enumerate(patterns):
        nxt = [False] * (len(actual) + 1)
        for j in range(len(actual) + 1):
            if not reach[j]:
                continue
            if pattern is None:
                for k in range(j, len(actual) + 1):
                    nxt[k] = True
                break
            if j < len(actual) and pattern.match(actual[j]):
                nxt[j + 1] = True
        if not any(nxt):
            return expected_lines[i]
        reach = nxt
    return None if reach[len(actual)] else "(the end of the block: the output goes on)"


def output_lines(text):
    """The lines that are not blank: blank ones are layout, in the README and in the output."""
    return [line for line in text.split("\n") if line.strip()]


def run(command, **kwargs):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)
    if result.returncode != 0:
        raise TutorialError(f"failed ({result.returncode}): {' '.join(command)}\n{result.stdout}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readme", required=True)
    parser.add_argument("--build-dir", required=True, help="the Petit build to install from")
    parser.add_argument("--petit", required=True, help="the petit binary of that build")
    parser.add_argument("--work-dir", required=True, help="scratch directory, emptied first")
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--generator", default="")
    parser.add_argument("--cxx", default="")
    parser.add_argument("--sanitize", action="store_true",
                        help="the Petit build has ASan and UBSan: so must the tutorial's programs")
    args = parser.parse_args()

    blocks = parse_blocks(section_lines(args.readme))
    kinds = [kind for kind, _, _, _ in blocks]
    if "file" not in kinds or "step" not in kinds:
        raise TutorialError("the section has no tutorial-file or no tutorial-step block")
    setup = "".join(text for kind, _, text, _ in blocks if kind == "setup")
    if "--component sdk" not in setup:
        raise TutorialError("the setup block no longer installs the sdk component, which is what "
                            "this test installs")

    work = os.path.abspath(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    prefix = os.path.join(work, "sdk")
    tutorial = os.path.join(work, "tutorial")
    os.makedirs(tutorial)
    os.makedirs(os.path.join(work, "state"))
    run([args.cmake, "--install", args.build_dir, "--component", "sdk", "--prefix", prefix])

    env = dict(os.environ)
    env.pop("PETIT_PLUGIN_PATH", None)  # the README shows petit's search path without it
    env["PATH"] = os.path.dirname(os.path.abspath(args.petit)) + os.pathsep + env.get("PATH", "")
    env["CMAKE_PREFIX_PATH"] = prefix
    env["PETIT_STATE_DIR"] = os.path.join(work, "state")
    if args.generator:
        env["CMAKE_GENERATOR"] = args.generator
    if args.cxx:
        env["CXX"] = args.cxx
    if args.sanitize:
        env["CXXFLAGS"] = env["LDFLAGS"] = "-fsanitize=address,undefined"
    ccache = shutil.which("ccache")
    if ccache:
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = ccache

    last_step = None  # (line, output) of the step an output block describes
    for kind, argument, text, line in blocks:
        if kind == "file":
            path = os.path.normpath(argument)
            if not argument or os.path.isabs(path) or path.startswith(".."):
                raise TutorialError(f"README.md:{line}: tutorial-file needs a relative path")
            os.makedirs(os.path.dirname(os.path.join(tutorial, path)), exist_ok=True)
            with open(os.path.join(tutorial, path), "w", encoding="utf-8") as f:
                f.write(text)
        elif kind == "step":
            expected_code = 0
            if argument:
                exits = re.fullmatch(r"exits (\d+)", argument)
                if not exits:
                    raise TutorialError(f"README.md:{line}: tutorial-step takes 'exits N'")
                expected_code = int(exits.group(1))
            started = time.monotonic()
            result = subprocess.run(["sh", "-e", "-c", text], cwd=tutorial, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            print(f"README.md:{line}: exit {result.returncode} in "
                  f"{time.monotonic() - started:.1f} s\n{text}", flush=True)
            if result.returncode != expected_code:
                raise TutorialError(f"README.md:{line}: the step exited {result.returncode}, not "
                                    f"{expected_code}:\n{text}\n--- output ---\n{result.stdout}")
            last_step = (line, result.stdout)
        elif kind == "output":
            if last_step is None:
                raise TutorialError(f"README.md:{line}: tutorial-output without a step before it")
            step_line, output = last_step
            mismatch = first_mismatch(output_lines(text), output_lines(output))
            if mismatch is not None:
                raise TutorialError(
                    f"README.md:{line}: the output of the step at README.md:{step_line} does not "
                    f"match; first line that fails: {mismatch!r}\n--- README ---\n{text}"
                    f"--- output ---\n{output}")
            last_step = None
    shutil.rmtree(work, ignore_errors=True)
    print("the tutorial works as written")


if __name__ == "__main__":
    try:
        main()
    except TutorialError as e:
        print(f"tutorial_test: {e}", file=sys.stderr)
        sys.exit(1)
