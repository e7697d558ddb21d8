from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    keep = []
    for extension, rules in patterns:
        rules = tuple(r for r in rules if "sourceMappingURL" not in (r[0] if isinstance(r, tuple) else r))
        keep.append((extension, rules))
    return tuple(keep)


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files for whitenoise.

    The vendored bundles (Bootstrap, Chart.js) end with a sourceMappingURL to .map files we do not
    ship; Django's post-processing would fail on them, so those comments are left as they are (a
    browser asking for a map just gets a 404 in the developer tools).
    """

    patterns = _without_source_maps(ManifestStaticFilesStorage.patterns)
