"""``mnemo add | search | list | get | history | forget``: memories from the shell."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mnemo.cli._common import add_store_options, config_from, print_json, print_rows
from mnemo.memory import Memory


def register(subparsers: Any) -> None:
    add = subparsers.add_parser("add", help="store one memory")
    add.add_argument("content")
    add.add_argument("--user", required=True)
    add.add_argument("--kind", default="note")
    add.add_argument("--metadata", type=json.loads, default=None, help="a JSON object")
    add.set_defaults(handler=_add)

    search = subparsers.add_parser("search", help="search a user's memories")
    search.add_argument("query")
    search.add_argument("--user", required=True)
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--filters", type=json.loads, default=None, help="a JSON filter")
    search.add_argument("--json", action="store_true", help="print JSON with score breakdowns")
    search.set_defaults(handler=_search)

    listing = subparsers.add_parser("list", help="list a user's memories, newest first")
    listing.add_argument("--user", required=True)
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--offset", type=int, default=0)
    listing.set_defaults(handler=_list)

    get = subparsers.add_parser("get", help="show one memory")
    get.add_argument("id")
    get.set_defaults(handler=_get)

    history = subparsers.add_parser("history", help="show a memory's changes")
    history.add_argument("id")
    history.set_defaults(handler=_history)

    forget = subparsers.add_parser("forget", help="erase everything stored about a user")
    forget.add_argument("--user", required=True)
    forget.set_defaults(handler=_forget)

    for parser in (add, search, listing, get, history, forget):
        add_store_options(parser)


def _add(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        result = m.add(args.content, user_id=args.user, kind=args.kind, metadata=args.metadata)
        print(result.id)
    return 0


def _search(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        hits = m.search(args.query, user_id=args.user, limit=args.limit, filters=args.filters)
    if args.json:
        print_json(hits)
    else:
        print_rows(hits, ["score", "id", "content"])
    return 0


def _list(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        rows = m.list(user_id=args.user, limit=args.limit, offset=args.offset)
    print_rows(rows, ["created_at", "id", "kind", "content"])
    return 0


def _get(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        print_json(m.get(args.id))
    return 0


def _history(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        print_json(m.history(args.id))
    return 0


def _forget(args: argparse.Namespace) -> int:
    with Memory(config_from(args)) as m:
        print_json(m.delete_user(args.user))
    return 0
