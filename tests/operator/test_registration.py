"""What the operator registers with kopf, as kopf's per-event processing sees it."""
from __future__ import annotations

import kopf

from headlamp_operator import crds, runner
from headlamp_operator.settings import BackendSettings, Settings


def test_each_kinds_first_changing_handler_has_no_filter() -> None:
    # kopf's prematch runs on every event and stops at the first handler that matches: a filter there
    # (when=, field=, labels=, annotations=) would have kopf build the handler arguments each time.
    settings = Settings(backend=BackendSettings(url="http://127.0.0.1:1"))
    registry, _ = runner.build_registry(settings, with_login=False,
                                        connect=lambda: kopf.ConnectionInfo(server="http://127.0.0.1:1"))
    for plural in crds.PLURALS.values():
        resource = kopf.Resource(crds.GROUP, crds.VERSION, plural)
        first = next(h for h in registry._changing.get_all_handlers() if h.selector is not None
                     and h.selector.check(resource))
        assert (first.when, first.field, first.labels, first.annotations) == (None, None, None, None), plural
        assert first.reason == kopf.Reason.CREATE, plural
