"""``python -m mltrail``: the same as the ``mltrail`` command."""

from mltrail.cli import main

if __name__ == "__main__":
    main(prog_name="mltrail")
