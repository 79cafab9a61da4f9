"""The README's configuration reference keeps up with the schema."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from newswatch.config import DEFAULTS
from newswatch.config.schema import Config
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _keys(model: type[BaseModel], prefix: str) -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        keys.append(f"{prefix}{key}")
        for inner in _models(field.annotation):
            keys += _keys(inner, _nested_prefix(prefix, key, field.annotation))
    return keys


def _models(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _nested_prefix(prefix: str, key: str, annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is list:
        return f"{prefix}{key}[]."
    if origin is dict:
        return f"{prefix}{key}.NAME."
    return f"{prefix}{key}."


@pytest.mark.parametrize("key", sorted(set(_keys(Config, ""))))
def test_every_config_key_is_documented(key):
    assert f"`{key}`" in README


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_tunable_is_documented(name):
    assert f"`{name}`" in README
