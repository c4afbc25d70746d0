"""The research projects the TTP codes for (projects.toml), and whether each is unlinkable."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

PROJECT_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$", re.ASCII)


@dataclass(frozen=True)
class Project:
    id: str
    title: str
    #: Its own key: its codes match no other project's.
    unlinkable: bool


def load_projects(path: Path) -> dict[str, Project]:
    """Read and check the projects file; ValueError names what is wrong."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    projects: dict[str, Project] = {}
    for project_id, entry in (data.get("projects") or {}).items():
        if not PROJECT_ID.match(project_id):
            raise ValueError(f"{path}: project id {project_id!r} is not lower-case-with-dashes")
        if not isinstance(entry.get("unlinkable"), bool):
            raise ValueError(f"{path}: project {project_id} needs `unlinkable = true|false`")
        projects[project_id] = Project(project_id, str(entry.get("title", "")), entry["unlinkable"])
    if not projects:
        raise ValueError(f"{path}: no [projects.<id>] table")
    return projects
