"""The sync face and the ``mnemo docs`` command over entities and documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnemo import Memory, MnemoConfig
from mnemo.cli.main import main


def test_sync_face_reaches_documents_entities_and_search_all(config: MnemoConfig) -> None:
    with Memory(config) as m:
        loaded = m.documents.load("rooms.md", "# Rooms\n\nThe kettle is in room 4.", user_id="ana")
        hits = m.documents.search("where is the kettle?", user_id="ana")
        assert hits[0].document_id == loaded.document.id
        observed = m.entities.observe("Anna Lopez lives in Porto.", user_id="ana")
        assert set(observed.created) == {"Anna Lopez", "Porto"}
        assert m.entities.get("anna lopez", user_id="ana").name == "Anna Lopez"
        assert m.entities.get_entity_analytics("ana").total_entities == 2
        assert m.search_all("kettle room", user_id="ana")[0].source == "documents"


def test_docs_command_loads_lists_searches_and_deletes(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "faq.md"
    path.write_text("# FAQ\n\nThe guest wifi password is hunter2.\n")
    db = ("--database-url", database_url)
    assert main(["docs", "load", str(path), "--user", "ana", *db]) == 0
    loaded = capsys.readouterr().out
    assert loaded.startswith("loaded ") and "version 1, markdown, 1 chunks" in loaded
    assert main(["docs", "load", str(path), "--user", "ana", *db]) == 0
    assert capsys.readouterr().out.startswith("unchanged ")
    assert main(["docs", "search", "wifi password", "--user", "ana", *db]) == 0
    assert "hunter2" in capsys.readouterr().out
    assert main(["docs", "list", "--user", "ana", *db]) == 0
    document_id = capsys.readouterr().out.split()[0]
    assert main(["docs", "delete", document_id, "--user", "ana", *db]) == 0
    assert main(["docs", "delete", document_id, "--user", "ana", *db]) == 2
    assert "NotFound" in capsys.readouterr().err
    assert main(["docs", "load", str(tmp_path / "missing.md"), "--user", "ana", *db]) == 2
    assert "no such file" in capsys.readouterr().err
