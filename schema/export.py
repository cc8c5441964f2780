"""Write the SDL that clients and the contract test read: `python -m schema.export`.

`--check` exits 1 when schema/schema.graphql differs from the code (for CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"
REGENERATE = "python -m schema.export"


def render() -> str:
    from schema import schema

    return schema.as_str().rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    sdl = render()
    if "--check" in args:
        current = SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""
        if current != sdl:
            print(f"{SDL_PATH} is stale; run `{REGENERATE}`.", file=sys.stderr)
            return 1
        return 0
    SDL_PATH.write_text(sdl, encoding="utf-8")
    print(f"wrote {SDL_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
