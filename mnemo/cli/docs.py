"""``mnemo docs load | list | search | delete | index``: reference documents from the shell."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mnemo.cli._common import add_store_options, config_from, print_json, print_rows
from mnemo.memory import Memory


def register(subparsers: Any) -> None:
    docs = subparsers.add_parser("docs", help="reference documents (manuals, API specs)")
    actions = docs.add_subparsers(dest="docs_command", required=True, metavar="ACTION")

    load = actions.add_parser("load", help="load or re-load a document (replaces its chunks)")
    load.add_argument("path")
    _owner_options(load)
    load.add_argument("--format", help="text, markdown, html, json, yaml, openapi or pdf")
    load.add_argument("--title")
    load.add_argument("--metadata", type=json.loads, default=None, help="a JSON object")
    load.set_defaults(handler=_load)

    listing = actions.add_parser("list", help="documents a user can search")
    listing.add_argument("--user", required=True)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=_list)

    search = actions.add_parser("search", help="search a user's and the shared documents")
    search.add_argument("query")
    search.add_argument("--user", required=True)
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print JSON with score breakdowns")
    search.set_defaults(handler=_search)

    delete = actions.add_parser("delete", help="delete a document and its chunks")
    delete.add_argument("id")
    _owner_options(delete)
    delete.set_defaults(handler=_delete)

    index = actions.add_parser("index", help="build the HNSW index of shared corpora now")
    index.set_defaults(handler=_index)

    for parser in (load, listing, search, delete, index):
        add_store_options(parser)


def _owner_options(parser: argparse.ArgumentParser) -> None:
    owner = parser.add_mutually_exclusive_group(required=True)
    owner.add_argument("--user", help="the user the document belongs to")
    owner.add_argument("--shared", action="store_true", help="shared by every user of the tenant")


def _load(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        result = m.documents.load(
            args.path,
            user_id=args.user,
            shared=args.shared,
            format=args.format,
            title=args.title,
            metadata=args.metadata,
        )
    doc = result.document
    state = "loaded" if result.changed else "unchanged"
    print(
        f"{state} {doc.id} {doc.name} (version {doc.version}, {doc.format}, "
        f"{result.chunks} chunks: {result.embedded} embedded, {result.reused} reused)"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        documents = m.documents.list(user_id=args.user, limit=args.limit)
    print_rows(documents, ["id", "version", "chunk_count", "format", "shared", "name"])
    return 0


def _search(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        hits = m.documents.search(args.query, user_id=args.user, limit=args.limit)
    if args.json:
        print_json(hits)
    else:
        for hit in hits:
            print(f"{hit.score:.3f}  {hit.document_name} > {hit.heading or '-'}")
            print("    " + " ".join(hit.content.split())[:200])
    return 0


def _delete(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        m.documents.delete(args.id, user_id=args.user, shared=args.shared)
    print(f"deleted {args.id}")
    return 0


def _index(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        m.documents.build_shared_index()
    print("shared-corpus HNSW index ready")
    return 0
