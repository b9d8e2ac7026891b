"""``mltrail db upgrade``."""

from __future__ import annotations

from cli_helpers import assert_one_sentence_error

from mltrail.store.sql.migrate import HEAD_REVISION


def test_upgrade_new_sqlite_file(cli, tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = cli("db", "upgrade", uri)
    assert first.code == 0, first.stderr
    assert first.stdout.strip() == f"Upgraded {uri} from revision none to {HEAD_REVISION}."
    again = cli("db", "upgrade", uri, "--json")
    assert again.json() == {
        "uri": uri,
        "revision": HEAD_REVISION,
        "previous_revision": HEAD_REVISION,
        "upgraded": False,
    }
    text = cli("db", "upgrade", uri)
    assert text.stdout.strip() == f"{uri} is already at the newest revision, {HEAD_REVISION}."


def test_upgraded_database_is_usable(cli, tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    cli("db", "upgrade", uri)
    assert cli("experiments", "create", "-n", "after-upgrade", uri=uri).code == 0


def test_upgrade_bad_uri(cli, tmp_path):
    assert_one_sentence_error(cli("db", "upgrade", "nonsense"), contains="Malformed")
    assert_one_sentence_error(cli("db", "upgrade", "oracle://x/y"), contains="Unsupported")
    missing = cli("db", "upgrade", f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")
    assert_one_sentence_error(missing, contains="does not exist")


def test_upgrade_needs_a_uri(cli):
    assert_one_sentence_error(cli("db", "upgrade"), code=2, contains="URI")
