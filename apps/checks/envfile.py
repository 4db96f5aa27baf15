"""Env-var names from uploaded `.env`-style files, for the product (the clients app) to call.

The flow a view follows (clients app):

    names = names_from_upload(form.cleaned_data["env_file"])          # values are dropped while reading
    record_env_names(client, form.cleaned_data["environment"], names)   # EnvVar rows: names + environments
    ...
    target.options["env_inventory"] = env_inventory(client.env_vars.all())   # when building a scan Target

Nothing here keeps, logs or returns a value: the file's bytes live only inside `names_from_upload`.
"""

from __future__ import annotations

from apps.checks.engine.envvars import NAME, TEMPLATE_ENV, normalise_environment, parse_env_names

MAX_ENV_FILE_BYTES = 256 * 1024
MAX_ENV_NAMES = 500


class EnvFileError(ValueError):
    """The upload cannot be read as an env file; the message is safe to show (it never quotes the file)."""


def names_from_upload(upload, max_bytes: int = MAX_ENV_FILE_BYTES) -> list[str]:
    """Names in an uploaded file (a Django UploadedFile or any binary file object), values discarded."""
    chunks, size = [], 0
    reader = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b"")
    for chunk in reader:
        size += len(chunk)
        if size > max_bytes:
            raise EnvFileError(f"The file is larger than {max_bytes // 1024} KB; upload only the .env.example.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if b"\x00" in raw:
        raise EnvFileError("This is not a text file; upload a .env.example-style file (NAME=value lines).")
    names = parse_env_names(raw.decode("utf-8-sig", "replace"))
    if len(names) > MAX_ENV_NAMES:
        raise EnvFileError(f"The file lists {len(names)} names; an app's env has at most {MAX_ENV_NAMES}. Upload "
                           f"the app's .env.example only.")
    if not names:
        raise EnvFileError("No variable names found; lines should look like NAME=value or export NAME=value.")
    return names


def record_env_names(client, environment: str, names: list[str]) -> dict[str, list[str]]:
    """Create or update the client's EnvVar rows for these names in one environment.

    staging/production/...: the environment is added to each row's `environments`. The `example` environment is
    the app's template: its names are recorded as required, without claiming they exist anywhere.
    """
    from django.db import transaction

    from apps.clients.models import EnvVar

    env = normalise_environment(environment)
    created, updated = [], []
    with transaction.atomic():  # all of the file's names or none (a timeout must not leave half an import)
        for name in names:
            if not NAME.match(name):
                continue
            row, is_new = EnvVar.objects.get_or_create(client=client, name=name)
            changed = is_new
            if env == TEMPLATE_ENV:
                if not row.required:
                    row.required, changed = True, True
            elif env not in row.environments:
                row.environments = [*row.environments, env]
                changed = True
            if changed:
                row.save()
                (created if is_new else updated).append(name)
    return {"created": created, "updated": updated}


def env_inventory(env_vars) -> list[dict]:
    """EnvVar rows (or anything with name/environments/required/secret) as Target.options["env_inventory"]."""
    return [{"name": v.name, "environments": [normalise_environment(e) for e in (v.environments or [])],
             "required": bool(v.required), "secret": bool(v.secret)} for v in env_vars]
