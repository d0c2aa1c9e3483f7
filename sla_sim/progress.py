"""Progress bars that leave nothing broken in a saved notebook.

In a terminal, :func:`progress_bar` is tqdm's text bar. In Jupyter it is tqdm's widget bar while
the work runs; when the bar closes, its output is replaced by one line of text (the bar's final
state, e.g. ``run: 100%|██████████| 20/20 [00:02<00:00, 9.4rep/s]``) and the widget is closed.

Why: a widget shown in an output is saved as a reference to its model. JupyterLab does not save
widget models by default, and never saves closed ones, so a notebook saved with a progress
widget in an output reopens with "Error displaying widget: model not found" where the bar was.
Text reopens as text.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from sla_sim.errors import printable


def progress_bar(*, total: float | None = None, desc: str = "", unit: str = "it",
                 disable: bool = False, leave: bool | None = True) -> Any:  # fmt: skip
    """A tqdm bar (use it as a context manager, or call ``close()``).

    ``leave=False``: a terminal bar is erased when done; a notebook bar becomes an empty
    output. ``leave=True``: the final state stays, as text in a notebook. ``leave=None``: kept
    (as text) in a notebook, erased in a terminal.
    """
    from tqdm.auto import tqdm
    from tqdm.notebook import tqdm as notebook_tqdm

    in_notebook = issubclass(tqdm, notebook_tqdm)
    kwargs = {"total": total, "desc": printable(desc), "unit": unit, "disable": disable,
              "leave": in_notebook if leave is None else leave}  # fmt: skip
    if disable or not in_notebook:
        # under the command line's terminal guard, draw on the stream it wraps: a nested
        # bar's cursor move would otherwise print as a visible \x1b[A
        return tqdm(file=getattr(sys.stderr, "wrapped", sys.stderr), **kwargs)
    return _notebook_bar()(**kwargs)


@functools.cache
def _notebook_bar() -> type:
    """tqdm's notebook bar, shown through a display handle so closing it can put text in its
    place (built on first use: importing IPython and ipywidgets is not free)."""
    from IPython.display import display
    from tqdm.notebook import tqdm as notebook_tqdm

    class NotebookBar(notebook_tqdm):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(display=False, **kwargs)
            self._handle = None
            if not self.disable:
                self._handle = display(self.container, display_id=True)
                self.displayed = True

        def close(self) -> None:
            if self.disable:  # closed already (tqdm sets disable on close)
                return
            text = self.format_meter(**{**self.format_dict, "ncols": None}) if self.leave else ""
            super().close()
            if self._handle is not None:
                self._handle.update({"text/plain": text}, raw=True)
                self._handle = None
            self.container.close()

    return NotebookBar
